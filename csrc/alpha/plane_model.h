// The plane coder's model, shared by its encoder (alpha_encoder.cpp) and decoder (alpha_decoder.cpp):
// the neighbours and their border rule, the predictors, the contexts, the residual mapping and the
// near-lossless quantiser (alpha_coder.h describes the model; these are its exact rules).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "alpha/alpha_coder.h"
#include "common/check.h"
#include "common/portable.h"
#include "lossless/static_table.h"

namespace jpegai::alpha::model {

// A caller's mistake (InvalidArgument -> ValueError) vs bytes no encoder writes (CorruptStream -> DecodeError).
[[noreturn]] inline void bad_arg(const std::string& what) { jpegai::fail("alpha: " + what); }
[[noreturn]] inline void corrupt(const std::string& what) { lossless::corrupt("alpha", what); }

// Activity bucket (0 .. 7) of |W - NW| + |N - NW| + |N - NE| on the 8-bit scale: 0, <= 2, <= 6, <= 14,
// <= 30, <= 62, <= 126, above. A table over the sums (below 3 x 2^bits, so below 3 x 256 after the
// scaling), as the bucket is needed per pixel.
constexpr int kMaxActivitySum = 3 * 256;
struct ActivityBuckets {
  uint8_t of[kMaxActivitySum + 1];
  constexpr ActivityBuckets() : of() {
    for (int d = 1; d <= kMaxActivitySum; ++d) {
      int b = 1;
      while (b < 7 && d > (2 << b) - 2) ++b;  // bucket b >= 1 ends at 2^(b+1) - 2: 2, 6, 14, ..., 126
      of[d] = uint8_t(b);
    }
  }
};
constexpr ActivityBuckets kActivity;

inline int activity_of(int w_, int n_, int nw, int ne, int down) {
  return kActivity.of[(std::abs(w_ - nw) + std::abs(n_ - nw) + std::abs(n_ - ne)) >> down];
}

// 0: fully transparent, 1: fully opaque, 2: in between. Alpha is mostly 0 or max: a prediction at
// an extreme can only err one way, and an edge pixel next to a transparent/opaque NW behaves apart.
inline int level_of(int v, int maxv) {
  const int between_or_max = v != 0 ? 2 : 0;  // two selects, no branch: v is data, a branch mispredicts
  return v == maxv ? 1 : between_or_max;
}

// The median of W, N and W + N - NW, which is the edge detector's rule (NW above both: the smaller,
// below both: the larger, else the gradient), written with min/max: no data-dependent branch to mispredict.
inline int predict_med(int w_, int n_, int nw) {
  const int mx = std::max(w_, n_), mn = std::min(w_, n_);
  return std::max(mn, std::min(mx, w_ + n_ - nw));
}

// Neighbours of (y, x) in `p` (already known samples), with the border rule: row 0 sees its west
// neighbour everywhere above it, column 0 sees the north neighbour on its left, the last column
// its north neighbour on the right.
struct Neighbours {
  int w_, n_, nw, ne;
};
inline Neighbours neighbours(const uint16_t* p, int w, int y, int x) {
  Neighbours nb;
  if (y == 0) {
    nb.w_ = x ? p[x - 1] : 0;
    nb.n_ = nb.nw = nb.ne = nb.w_;
    return nb;
  }
  const uint16_t* up = p + size_t(y - 1) * w;
  const uint16_t* row = p + size_t(y) * w;
  nb.n_ = up[x];
  nb.w_ = x ? row[x - 1] : nb.n_;
  nb.nw = x ? up[x - 1] : nb.n_;
  nb.ne = x + 1 < w ? up[x + 1] : nb.n_;
  return nb;
}

// The residual's context: activity x level of the prediction x sign of NE - N (which way an edge
// runs) x level of NW (kContexts = 8 * 3 * 3 * 3).
inline int context_of(const Neighbours& nb, int pred, int maxv, int down) {
  const int edge = nb.ne > nb.n_ ? 2 : (nb.ne < nb.n_ ? 0 : 1);
  return ((activity_of(nb.w_, nb.n_, nb.nw, nb.ne, down) * 3 + level_of(pred, maxv)) * 3 + edge) * 3 +
         level_of(nb.nw, maxv);
}

// Predictor `mode` (0 .. kModes-1) of a pixel from its neighbours; maxv = 2^bits - 1.
inline int predict(int mode, const Neighbours& nb, int maxv) {
  switch (mode) {
    case 0: return predict_med(nb.w_, nb.n_, nb.nw);
    case 1: return nb.w_;
    case 2: return nb.n_;
    case 3: return (nb.w_ + nb.n_) >> 1;
    case 4: return std::min(std::max(nb.w_ + nb.n_ - nb.nw, 0), maxv);
    case 5: return nb.ne;
    case 6: return (nb.n_ + nb.ne) >> 1;
    default: return nb.nw;
  }
}

inline int bit_length(uint32_t v) { return v ? floor_log2_u64(v) + 1 : 0; }

inline uint32_t zigzag(int v, int bits) {
  const int mod = 1 << bits, half = mod >> 1;
  int r = v & (mod - 1);
  if (r >= half) r -= mod;
  return r >= 0 ? uint32_t(2 * r) : uint32_t(-2 * r - 1);
}

// z >> 1 for even z, -((z + 1) >> 1) = ~(z >> 1) for odd: an xor with the low bit's mask, no branch on
// the residual's sign (which is a coin toss on textured content, and a mispredict half the time)
inline int unzigzag(uint32_t z) { return int(z >> 1) ^ -int(z & 1); }

// Near-lossless (alpha_coder.h): the quantised residual of e, and the sample it reconstructs.
inline int quantise_near(int e, int near) {
  return e >= 0 ? (e + near) / (2 * near + 1) : -((near - e) / (2 * near + 1));
}
inline int reconstruct_near(int pred, int q, int near, int maxv) {
  const int64_t v = pred + int64_t(q) * (2 * near + 1);  // |q| (2N + 1) reaches 2^31 at 16 bits: int64
  return int(std::min<int64_t>(std::max<int64_t>(v, 0), maxv));
}

inline void check_args(int h, int w, int bits, int near = 0) {
  if (h < 1 || w < 1) bad_arg("plane must be at least 1x1");
  if (bits < 1 || bits > 16) bad_arg("bits must be 1..16");
  if (int64_t(h) * w > (int64_t(1) << 32)) bad_arg("plane too large");
  if (near < 0 || (near > 0 && (bits < 2 || near > max_near(bits))))
    bad_arg("near-lossless bound must be 0 or 1.." + std::to_string(bits < 2 ? 0 : max_near(bits)) + " for " +
            std::to_string(bits) + "-bit samples");
}

}  // namespace jpegai::alpha::model
