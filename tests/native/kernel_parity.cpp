// Kernel parity across ISAs and machines (issue 33): the integer layers of the normative decode and the
// float engine's register tile, run on seeded random layers under every ISA this CPU has and 1 / 2
// threads, must give the same integers (float bits). The program prints one hash of them, which
// scripts/neon_qemu_test.sh compares between an x86-64 build (portable, AVX2) and an AArch64 build run
// under qemu-user (portable, NEON). Exit status 1 on any difference inside one run. Built by CMake with
// -DJPEGAI_NATIVE_TESTS=ON (target kernel_parity).
#include <cstdint>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "context/wavefront.h"
#include "conv/tile_kernel.h"
#include "entropy/gaussian_tables.h"
#include "intpath/int_conv.h"
#include "intpath/int_synthesis.h"

using jpegai::Isa;
using namespace jpegai::intpath;

namespace {

// splitmix64: the same sequence on every platform (std:: distributions are not).
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int32_t uniform(int32_t lo, int32_t hi) { return lo + int32_t(next() % uint64_t(int64_t(hi) - lo + 1)); }
};

uint64_t fnv1a(uint64_t h, const std::vector<int32_t>& v) {
  for (int32_t x : v)
    for (int b = 0; b < 4; ++b) h = (h ^ ((uint32_t(x) >> (8 * b)) & 0xFF)) * 0x100000001B3ull;
  return h;
}

// Weights under the int16 bound (int_conv.h): sum|w| * 32767 + |bias| <= 2^31 - 1 for every output channel.
std::vector<int32_t> bounded_weights(Rng& rng, const ConvSpec& s, int64_t bias_limit) {
  const int64_t per_tap = ((int64_t(1) << 31) - 1 - bias_limit) / (int64_t(kInt16Limit) * s.cin * s.kh * s.kw);
  const int32_t lim = int32_t(std::min<int64_t>(per_tap, kInt16Limit));
  std::vector<int32_t> w(size_t(s.cout) * s.cin * s.kh * s.kw);
  for (auto& v : w) v = rng.uniform(-lim, lim);
  return w;
}

std::vector<int32_t> values(Rng& rng, size_t n, int32_t lim) {
  std::vector<int32_t> v(n);
  for (auto& x : v) x = rng.uniform(-lim, lim);
  return v;
}

std::vector<Isa> isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::portable, Isa::avx2, Isa::avx512, Isa::neon})
    if (jpegai::cpu_has(isa)) out.push_back(isa);
  return out;
}

int failures = 0;

// Runs f under every ISA and thread count; all results must agree. Returns the first.
template <class F>
std::vector<int32_t> agreed(const char* what, F f) {
  std::vector<int32_t> first;
  bool have = false;
  for (Isa isa : isas()) {
    jpegai::set_isa(jpegai::isa_name(isa));
    for (int threads : {1, 2}) {
      std::vector<int32_t> out = f(threads);
      if (!have) {
        first = out;
        have = true;
      } else if (out != first) {
        std::printf("MISMATCH %s: %s, %d threads\n", what, jpegai::isa_name(isa).c_str(), threads);
        ++failures;
      }
    }
  }
  jpegai::set_isa("auto");
  return first;
}

ConvSpec conv(int cin, int cout, int k, bool transposed, bool relu) {
  ConvSpec s;
  s.transposed = transposed;
  s.cin = cin;
  s.cout = cout;
  s.kh = s.kw = k;
  s.sh = s.sw = transposed ? 2 : 1;
  s.ph = s.pw = k / 2;
  s.oph = s.opw = transposed ? 1 : 0;
  s.relu = relu;
  return s;
}

// The hyper-synthesis's layer: IntConvLayer with Arith::int16, odd widths and channel counts included.
uint64_t int16_layers(Rng& rng, uint64_t h) {
  const ConvSpec specs[] = {conv(5, 7, 3, false, true), conv(8, 13, 5, true, true), conv(16, 6, 1, false, false),
                            conv(3, 2, 3, true, false), conv(24, 19, 5, true, false)};
  for (const ConvSpec& s : specs) {
    const int hh = rng.uniform(1, 19), ww = rng.uniform(1, 37);
    const int64_t bias_limit = 1 << 20;
    std::vector<int64_t> bias(s.cout);
    for (auto& b : bias) b = rng.uniform(-int32_t(bias_limit), int32_t(bias_limit));
    std::vector<int32_t> shift(s.cout);
    for (auto& v : shift) v = rng.uniform(0, 20);
    const IntConvLayer layer(s, bounded_weights(rng, s, bias_limit), bias, shift, Arith::int16);
    const std::vector<int32_t> in = values(rng, size_t(s.cin) * hh * ww, kInt16Limit);
    h = fnv1a(h, agreed("IntConvLayer int16",
                        [&](int threads) { return layer.forward(in, hh, ww, {}, kInt16Limit, threads); }));
  }
  return h;
}

// The synthesis's engine: transposed convolution, IGDN, convolution, as g_s chains them.
uint64_t synthesis(Rng& rng, uint64_t h) {
  for (int round = 0; round < 3; ++round) {
    const int cin = rng.uniform(2, 20), mid = rng.uniform(3, 33), cout = rng.uniform(1, 5);
    IntSynthesis g;
    const ConvSpec c1 = conv(cin, mid, 5, true, false), c2 = conv(mid, cout, 3, false, false);
    for (const ConvSpec& s : {c1}) {
      std::vector<int64_t> bias(s.cout);
      for (auto& b : bias) b = rng.uniform(-1000, 1000);
      g.add_conv(s, bounded_weights(rng, s, 1000), bias, std::vector<int32_t>(size_t(s.cout), 12));
    }
    const size_t n_mid = size_t(mid);
    std::vector<int32_t> gamma(n_mid * n_mid), norm_shift(n_mid, 10), root_exp(n_mid);
    for (auto& v : gamma) v = rng.uniform(0, 2000000000 / (32767 * mid));
    std::vector<int64_t> beta(n_mid);
    for (auto& b : beta) b = rng.uniform(1, 100000);
    for (auto& e : root_exp) e = rng.uniform(0, 21);
    g.add_igdn(gamma, beta, norm_shift, 14, root_exp, 20);
    std::vector<int64_t> bias(c2.cout);
    for (auto& b : bias) b = rng.uniform(-1000, 1000);
    g.add_conv(c2, bounded_weights(rng, c2, 1000), bias, std::vector<int32_t>(size_t(cout), 13));
    const int hh = rng.uniform(1, 23), ww = rng.uniform(1, 41);
    const std::vector<int32_t> y = values(rng, size_t(cin) * hh * ww, 4000);
    h = fnv1a(h, agreed("IntSynthesis", [&](int threads) { return g.run(y.data(), hh, ww, kActLimit, threads); }));
  }
  return h;
}

// The float engine's register tile (the encoder's analysis, the float synthesis of versions <= 6): the same
// fused multiply-adds in the same order in every build, so the same float bits.
uint64_t float_tiles(Rng& rng, uint64_t h) {
  using namespace jpegai::conv;
  for (int round = 0; round < 4; ++round) {
    const int ntaps = rng.uniform(1, 9), cin = rng.uniform(1, 40);
    const int64_t px_stride = cin + rng.uniform(0, 3);
    std::vector<float> src(size_t(px_stride) * (kTileR + ntaps) + cin), w(size_t(ntaps) * cin * kLanes), bias(kLanes);
    auto unit = [&] { return float(int32_t(rng.next() >> 40) - (1 << 23)) / float(1 << 23); };
    for (auto& v : src) v = unit();
    for (auto& v : w) v = unit();
    for (auto& v : bias) v = unit();
    std::vector<int64_t> off(ntaps);
    for (int t = 0; t < ntaps; ++t) off[size_t(t)] = t * px_stride;
    TileArgs a;
    a.src = src.data();
    a.tap_off = off.data();
    a.ntaps = ntaps;
    a.cin = cin;
    a.px_stride = px_stride;
    a.w = w.data();
    a.bias = bias.data();
    h = fnv1a(h, agreed("float tile", [&](int) {
                std::vector<float> out(size_t(kTileR) * kLanes), norm(out.size());
                tile_kernel(jpegai::current_isa())(a, out.data());
                for (size_t i = 0; i < out.size(); ++i)
                  norm[i] = std::fma(out[i], out[i], 1.0f);  // no contraction to differ
                gdn_kernel(jpegai::current_isa())(norm.data(), out.data(), int(out.size()) - 3, round % 2 == 1);
                std::vector<int32_t> bits(out.size());
                std::memcpy(bits.data(), out.data(), out.size() * sizeof(float));
                return bits;
              }));
  }
  return h;
}

// The context loop's reconstruction (its float64 sums of exact integers, or int64): M = 32, small weights
// (the float64 path) and one round with weights too large for it (the int64 path).
uint64_t context_loop(Rng& rng, uint64_t h) {
  for (int32_t wlim : {60000, 1 << 24}) {
    const int M = 32, H = rng.uniform(1, 13), W = rng.uniform(1, 17);
    const std::vector<int32_t> mu = values(rng, size_t(M) * H * W, 1 << 16), bias = values(rng, size_t(M), 1 << 12);
    const std::vector<int32_t> weight = values(rng, size_t(M) * 16 * 10, wlim), q = values(rng, mu.size(), 40);
    std::vector<int32_t> step(M);
    for (auto& v : step) v = rng.uniform(1, 1 << 13);
    jpegai::context::Model m;
    m.M = M;
    m.H = H;
    m.W = W;
    m.mu_hyper = mu.data();
    m.bias = bias.data();
    m.step = step.data();
    m.weight = weight.data();
    jpegai::context::validate(m);
    h = fnv1a(h, agreed("context loop", [&](int threads) {
                std::vector<int32_t> y_hat(mu.size());
                jpegai::context::reconstruct(m, q.data(), y_hat.data(), threads);
                return y_hat;
              }));
  }
  return h;
}

// The rANS tables every decode starts from (built with integers only): the same on every machine.
uint64_t coding_tables(uint64_t h) {
  const jpegai::entropy::TableSet& t = jpegai::entropy::gaussian_tables();
  const jpegai::entropy::TableInfo& last = t.infos().back();
  const size_t n = last.sym_base + last.n_regular + 1;
  std::vector<int32_t> dec(n);
  std::memcpy(dec.data(), t.dec(), n * sizeof(uint32_t));
  return fnv1a(h, dec);
}

}  // namespace

int main() {
  Rng rng{20261207};
  uint64_t h = 0xCBF29CE484222325ull;
  h = int16_layers(rng, h);
  h = synthesis(rng, h);
  h = float_tiles(rng, h);
  h = context_loop(rng, h);
  h = coding_tables(h);
  std::string names;
  for (Isa isa : isas()) names += (names.empty() ? "" : ",") + jpegai::isa_name(isa);
  std::printf("isas %s\nhash %016llx\n", names.c_str(), static_cast<unsigned long long>(h));
  return failures ? 1 : 0;
}
