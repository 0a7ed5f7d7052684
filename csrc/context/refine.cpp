#include "context/refine.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/byte_io.h"
#include "common/check.h"
#include "common/cpu.h"
#include "common/parallel.h"
#include "common/varint.h"
#include "context/causal_sum.h"
#include "entropy/gaussian_tables.h"
#include "entropy/rans.h"

namespace jpegai {
namespace context {
namespace {

using namespace detail;  // NOLINT: the shared causal sum is this file's engine
using entropy::kPrecision;
using entropy::kProbTotal;
using entropy::kStateLow;

constexpr size_t kStateBytes = 8;  // a chunk's initial decoder state
constexpr uint64_t kStateHigh = uint64_t(1) << 63;

// A symbol's candidates (values of t + 1, or of v - lo) with their frequencies (sum 2^16, each >= 1) and starts.
struct Candidates {
  bool recentred = false;
  int n = 0;
  int64_t lo = 0;  // recentred: the value of candidate 0
  uint32_t start[kMaxCandidates + 1];
  uint32_t freq[kMaxCandidates];
};

// Mass (of 2^16) of the table's symbols below v; the escape's mass (the tails) counts as none.
JPEGAI_ALWAYS_INLINE uint32_t cdf_below(const entropy::TableInfo& ti, const uint32_t* dec, int64_t v) {
  const int64_t local = v - ti.min_value;
  if (local <= 0) return 0;
  const int64_t at = std::min<int64_t>(local, ti.n_regular);  // symbol n_regular (escape) starts at the total
  return dec[ti.sym_base + at] & 0xFFFF;
}

// floor(a / b) for b > 0, exact.
JPEGAI_ALWAYS_INLINE int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) & (a < 0)); }

// Masses -> frequencies: 1 + floor(m (2^16 - n) / total) each, the rest to the first largest mass; all
// masses zero: floor(2^16 / n) each, the rest to candidate 0.
JPEGAI_ALWAYS_INLINE void normalise(const uint32_t* mass, Candidates& c) {
  uint32_t total = 0;
  for (int i = 0; i < c.n; ++i) total += mass[i];
  uint32_t sum = 0;
  int top = 0;
  for (int i = 0; i < c.n; ++i) {
    c.freq[i] = total ? 1 + uint32_t(uint64_t(mass[i]) * (kProbTotal - c.n) / total) : kProbTotal / c.n;
    sum += c.freq[i];
    if (mass[i] > mass[top]) top = i;
  }
  c.freq[total ? top : 0] += kProbTotal - sum;
  c.start[0] = 0;
  for (int i = 0; i < c.n; ++i) c.start[i + 1] = c.start[i] + c.freq[i];
}

// The candidates of one symbol (refine.h): recentred when the step table says sigma < s / 2, else nested.
JPEGAI_ALWAYS_INLINE Candidates candidates(const entropy::TableSet& tables, int idx_unit, int idx_step, int64_t prev,
                                           int64_t mu, int64_t step) {
  const uint32_t* dec = tables.dec();
  Candidates c;
  uint32_t mass[kMaxCandidates];
  c.recentred = idx_step < kRecentreBelowTable;
  if (c.recentred) {
    // values v with |mu + v s - prev| <= 2 s: every value round((y - mu) / s) a y of the bin below can have
    const entropy::TableInfo& ti = tables.info(idx_step);
    c.lo = -floor_div(mu - prev + 2 * step, step);  // ceil((prev - 2 s - mu) / s)
    c.n = int(floor_div(prev + 2 * step - mu, step) - c.lo + 1);
    for (int i = 0; i < c.n; ++i) mass[i] = cdf_below(ti, dec, c.lo + i + 1) - cdf_below(ti, dec, c.lo + i);
  } else {
    // e = floor((6 (prev - mu) + step) / (2 step)): round half up of (prev - mu) / (step / 3), exact in
    // int64 (|prev - mu| <= 2^31, step <= 2^30).
    const entropy::TableInfo& ti = tables.info(idx_unit);
    const int64_t e = floor_div(6 * (prev - mu) + step, 2 * step);
    c.n = 3;
    for (int t = 0; t < 3; ++t) {
      const int64_t centre = e + kRefineRatio * (t - 1);
      mass[t] = cdf_below(ti, dec, centre + 2) - cdf_below(ti, dec, centre - 1);
    }
  }
  normalise(mass, c);
  return c;
}

// What one group's pass reads and writes besides the shared state.
struct Pass : State {
  std::vector<int32_t> prev_g;               // y_hat of the layer below, group-major
  std::vector<uint8_t> idx_g;                // table of sigma / (step / 3)
  std::vector<uint8_t> idx_step_g;           // table of sigma / step
  std::vector<float> y_g;                    // encoder
  std::vector<std::vector<uint32_t>> coded;  // encoder: per group, start | freq << 16 of every symbol
  const uint8_t* data = nullptr;             // decoder
  std::vector<size_t> chunk_begin, chunk_size;
};

uint64_t load_le64(const uint8_t* p) { return uint64_t(load_le32(p)) | uint64_t(load_le32(p + 4)) << 32; }

// A group's symbols, forwards: the encoder chooses t and records its interval, the decoder reads t.
template <bool Encode, class Acc>
JPEGAI_ALWAYS_INLINE void group_body(Pass& s, int g) {
  const Model& m = *s.m;
  const entropy::TableSet& tables = entropy::gaussian_tables();
  uint64_t x = 0;
  size_t pos = 0, end = 0;
  uint32_t overrun = 0;
  if (Encode) {
    s.coded[g].resize(size_t(m.H) * m.W * kGroup);
  } else {
    pos = s.chunk_begin[g] + kStateBytes;
    end = s.chunk_begin[g] + s.chunk_size[g];
    x = load_le64(s.data + s.chunk_begin[g]);
  }
  int64_t mu[kGroup];
  for (int i = 0; i < m.H; ++i)
    for (int j = 0; j < m.W; ++j) {
      const int64_t base = (int64_t(g) * m.H * m.W + int64_t(i) * m.W + j) * kGroup;
      int32_t* here = group_means<Acc>(s, g, i, j, mu);
      for (int k = 0; k < kGroup; ++k) {
        const int64_t prev = s.prev_g[base + k], step = m.step[g * kGroup + k];
        const Candidates c = candidates(tables, s.idx_g[base + k], s.idx_step_g[base + k], prev, mu[k], step);
        const bool recentred = c.recentred;
        int i;
        if (Encode) {
          // y * 4096 is exact in double: the same IEEE result everywhere, as in quantise().
          const double centre = recentred ? double(mu[k]) : double(prev);
          const double r = std::floor((double(s.y_g[base + k]) * 4096.0 - centre) / double(step) + 0.5);
          const double first = recentred ? double(c.lo) : -1.0;
          i = int(std::min(std::max(r - first, 0.0), double(c.n - 1)));
          s.coded[g][base - int64_t(g) * m.H * m.W * kGroup + k] = c.start[i] | c.freq[i] << 16;
        } else {
          const uint32_t slot = uint32_t(x) & (kProbTotal - 1);
          i = 0;
          while (i + 1 < c.n && slot >= c.start[i + 1]) ++i;
          x = c.freq[i] * (x >> kPrecision) + slot - c.start[i];
          if (x < kStateLow) {
            uint32_t w = 0;
            if (pos + 4 <= end) w = load_le32(s.data + pos);
            overrun |= uint32_t(pos + 4 > end);
            pos += 4;
            x = (x << 32) | w;
          }
        }
        here[k] =
            int32_t(recentred ? clamp_value(mu[k] + (c.lo + i) * step) : clamp_value(prev + int64_t(i - 1) * step));
      }
    }
  // The encoder starts from kStateLow and writes every word: anything else is a damaged payload.
  if (!Encode)
    JPEGAI_CHECK_STREAM(!overrun && pos == end && x == kStateLow,
                        "refinement layer: group " + std::to_string(g) + " does not decode to its end");
}

template <bool Encode, class Acc>
void group_portable(Pass& s, int g) {
  group_body<Encode, Acc>(s, g);
}
#if JPEGAI_HAVE_AVX2_CLONE
template <bool Encode, class Acc>
JPEGAI_TARGET_AVX2 void group_avx2(Pass& s, int g) {
  group_body<Encode, Acc>(s, g);
}
#endif

template <bool Encode>
void run_groups(Pass& s, int threads) {
  auto group = s.exact_double ? &group_portable<Encode, double> : &group_portable<Encode, int64_t>;
#if JPEGAI_HAVE_AVX2_CLONE
  if (avx2_enabled()) group = s.exact_double ? &group_avx2<Encode, double> : &group_avx2<Encode, int64_t>;
#endif
  jpegai::parallel_for(s.m->M / kGroup, threads, [&](int64_t g) { group(s, int(g)); });
}

// Validates m and r, then fills the shared state and the group-major inputs.
void setup(Pass& s, const Model& m, const Refinement& r, int threads) {
  require(r.prev && r.idx && r.idx_step, "missing array");
  require(threads >= 1, "threads must be >= 1");
  validate(m);
  const int64_t plane = int64_t(m.H) * m.W, n = plane * m.M;
  for (int64_t k = 0; k < n; ++k) {
    require(r.prev[k] >= -kValueLimit && r.prev[k] <= kValueLimit, "prev must be in [-2^30, 2^30]");
    require(r.idx[k] < entropy::kNumScales && r.idx_step[k] < entropy::kNumScales, "table index out of range");
  }
  prepare(s, m, threads);
  s.prev_g.resize(n);
  s.idx_g.resize(n);
  s.idx_step_g.resize(n);
  to_group_major(r.prev, s.prev_g.data(), m.M, plane, threads);
  to_group_major(r.idx, s.idx_g.data(), m.M, plane, threads);
  to_group_major(r.idx_step, s.idx_step_g.data(), m.M, plane, threads);
}

// Chunk boundaries of a payload for M channels; CorruptStream unless the layout is one an encoder writes.
void parse_layout(const uint8_t* data, size_t size, int M, std::vector<size_t>& begin, std::vector<size_t>& length) {
  const int groups = M / kGroup;
  size_t pos = 0;
  begin.assign(groups, 0);
  length.assign(groups, 0);
  for (int g = 0; g < groups; ++g) {
    uint64_t len = 0;
    JPEGAI_CHECK_STREAM(read_varint(data, size, pos, len) == VarintStatus::kOk,
                        "refinement layer: chunk length " + std::to_string(g) + " truncated or malformed");
    JPEGAI_CHECK_STREAM(len >= kStateBytes && (len - kStateBytes) % 4 == 0,
                        "refinement layer: chunk " + std::to_string(g) + " has an impossible length");
    length[g] = size_t(len);
  }
  for (int g = 0; g < groups; ++g) {
    JPEGAI_CHECK_STREAM(length[g] <= size - pos, "refinement layer: chunks overrun the payload");
    begin[g] = pos;
    const uint64_t state = load_le64(data + pos);
    JPEGAI_CHECK_STREAM(state >= kStateLow && state < kStateHigh,
                        "refinement layer: chunk " + std::to_string(g) + " has an impossible initial state");
    pos += length[g];
  }
  JPEGAI_CHECK_STREAM(pos == size, "refinement layer: bytes after the last chunk");
}

}  // namespace

std::vector<uint8_t> refine_encode(const Model& m, const Refinement& r, const float* y, int32_t* y_hat, int threads) {
  require(y && y_hat, "missing array");
  Pass s;
  setup(s, m, r, threads);
  const int64_t plane = int64_t(m.H) * m.W, n = plane * m.M;
  for (int64_t k = 0; k < n; ++k) require(std::isfinite(y[k]), "y contains NaN or infinity");
  s.y_g.resize(n);
  to_group_major(y, s.y_g.data(), m.M, plane, threads);
  const int groups = m.M / kGroup;
  s.coded.resize(groups);
  run_groups<true>(s, threads);
  padded_to_planar(s, y_hat, threads);
  // rANS runs backwards over each group's symbols (rans.h: state in [2^31, 2^63), 32-bit words).
  std::vector<std::vector<uint32_t>> words(groups);
  std::vector<uint64_t> state(groups);
  jpegai::parallel_for(groups, threads, [&](int64_t g) {
    uint64_t x = kStateLow;
    const std::vector<uint32_t>& sym = s.coded[g];
    for (size_t k = sym.size(); k-- > 0;) {
      const uint64_t start = sym[k] & 0xFFFF, freq = sym[k] >> 16;
      if (x >= ((kStateLow >> kPrecision) << 32) * freq) {
        words[g].push_back(uint32_t(x));
        x >>= 32;
      }
      x = ((x / freq) << kPrecision) + x % freq + start;
    }
    state[g] = x;
  });
  std::vector<uint8_t> out;
  for (int g = 0; g < groups; ++g) write_varint(out, kStateBytes + 4 * words[g].size());
  for (int g = 0; g < groups; ++g) {
    uint8_t b[kStateBytes];
    store_le32(b, uint32_t(state[g]));
    store_le32(b + 4, uint32_t(state[g] >> 32));
    out.insert(out.end(), b, b + kStateBytes);
    for (size_t k = words[g].size(); k-- > 0;) {  // the decoder reads the last word written first
      store_le32(b, words[g][k]);
      out.insert(out.end(), b, b + 4);
    }
  }
  return out;
}

void refine_decode(const Model& m, const Refinement& r, const uint8_t* data, size_t size, int32_t* y_hat, int threads) {
  require(y_hat && (data || size == 0), "missing array");
  Pass s;
  parse_layout(data, size, m.M, s.chunk_begin, s.chunk_size);
  setup(s, m, r, threads);
  s.data = data;
  run_groups<false>(s, threads);
  padded_to_planar(s, y_hat, threads);
}

void refine_check_layout(const uint8_t* data, size_t size, int M) {
  require(M > 0 && M % kGroup == 0 && M <= kMaxChannels, "M must be a positive multiple of 16 (<= 4096)");
  require(data || size == 0, "missing array");
  std::vector<size_t> begin, length;
  parse_layout(data, size, M, begin, length);
}

}  // namespace context
}  // namespace jpegai
