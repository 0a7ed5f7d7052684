// Where the taps and output lanes of a convolution's passes go, for both engines (the float one,
// float_transform.h, and the integer synthesis, intpath/int_synthesis.h): a pass is a stride-1 convolution
// on the task grid whose `lanes` output lanes each land at (channel, row offset, column offset) of the
// output for grid position (i, j), and whose taps read the input at (i + dy, j + dx) with kernel entry
// (ky, kx) (ky < 0: no entry, a zero weight). The engines fill their own weights from the taps.
//
// A ConvTranspose2d of stride 2, padding p = k/2 and output_padding 1 becomes sub-pixel passes: output
// (2i + py, 2j + px) sums input (i + dy, j + dx) with kernel tap ky = py + p - 2 dy (likewise x), so the
// 5x5 kernel splits into four convolutions of 3x3, 3x2, 2x3 and 2x2 taps (25 in all, no zero products).
// A layer of at most lanes / 4 output channels (the RGB layer) has all four phases in one pass over the
// union of their taps instead (lane = phase * cout + channel, absent taps zero): four passes of 3 lanes
// would waste far more.
#pragma once
#include <algorithm>
#include <utility>
#include <vector>

namespace jpegai {
namespace conv {

struct PassTap {
  int dy = 0, dx = 0, ky = -1, kx = -1;
};
struct PassLane {
  int chan = -1, oy = 0, ox = 0;
};
struct PassGeometry {
  std::vector<PassTap> taps;
  std::vector<PassLane> lanes;  // `lanes` entries; chan < 0: unused
};

// A Conv2d with padding k/2: every tap, output channels `lanes` at a time (a stride is the engine's grid's).
// Border k/2.
inline std::vector<PassGeometry> conv_passes(int k, int cout, int lanes) {
  std::vector<PassGeometry> out;
  const int p = k / 2;
  for (int c0 = 0; c0 < cout; c0 += lanes) {
    PassGeometry g;
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) g.taps.push_back({ky - p, kx - p, ky, kx});
    g.lanes.resize(size_t(lanes));
    for (int l = 0; l < lanes && c0 + l < cout; ++l) g.lanes[size_t(l)] = {c0 + l, 0, 0};
    out.push_back(std::move(g));
  }
  return out;
}

// The input offsets (and kernel index) output phase `ph` of a stride-2 transposed convolution reads.
inline std::vector<std::pair<int, int>> subpixel_taps(int k, int ph) {
  std::vector<std::pair<int, int>> d;
  const int p = k / 2;
  for (int dd = -k; dd <= k; ++dd) {
    const int kk = ph + p - 2 * dd;
    if (kk >= 0 && kk < k) d.push_back({dd, kk});
  }
  return d;
}

// The input offsets (dmin, dmax) the phases of a stride-2 transposed convolution read together; the zero
// border its input needs is the larger of -dmin and dmax.
inline std::pair<int, int> subpixel_range(int k) {
  int dmin = 0, dmax = 0;
  for (int ph = 0; ph < 2; ++ph)
    for (auto& d : subpixel_taps(k, ph)) {
      dmin = std::min(dmin, d.first);
      dmax = std::max(dmax, d.first);
    }
  return {dmin, dmax};
}

inline int subpixel_border(int k) {
  const auto [dmin, dmax] = subpixel_range(k);
  return std::max(-dmin, dmax);
}

// A ConvTranspose2d of stride 2, padding k/2, output_padding 1 as sub-pixel passes (see above).
inline std::vector<PassGeometry> transposed_passes(int k, int cout, int lanes) {
  std::vector<PassGeometry> out;
  if (4 * cout <= lanes) {
    const auto [dmin, dmax] = subpixel_range(k);
    PassGeometry g;  // the union's kernel entries differ per phase: kernel_entry finds them
    for (int dy = dmin; dy <= dmax; ++dy)
      for (int dx = dmin; dx <= dmax; ++dx) g.taps.push_back({dy, dx, -1, -1});
    g.lanes.resize(size_t(lanes));
    for (int ph = 0; ph < 4; ++ph)
      for (int oc = 0; oc < cout; ++oc) g.lanes[size_t(ph * cout + oc)] = {oc, ph / 2, ph % 2};
    out.push_back(std::move(g));
    return out;
  }
  for (int py = 0; py < 2; ++py)
    for (int px = 0; px < 2; ++px) {
      const auto ty = subpixel_taps(k, py), tx = subpixel_taps(k, px);
      for (int c0 = 0; c0 < cout; c0 += lanes) {
        PassGeometry g;
        for (auto& a : ty)
          for (auto& c : tx) g.taps.push_back({a.first, c.first, a.second, c.second});
        g.lanes.resize(size_t(lanes));
        for (int l = 0; l < lanes && c0 + l < cout; ++l) g.lanes[size_t(l)] = {c0 + l, py, px};
        out.push_back(std::move(g));
      }
    }
  return out;
}

// The kernel entry (ky, kx) a pass's tap reads for a lane: the tap's own (a convolution, a per-phase pass),
// or, in the union pass, the lane's phase's: ky = oy + k/2 - 2 dy (likewise x); false when that phase has no
// entry at the tap's offset (a zero weight).
inline bool kernel_entry(int k, const PassTap& t, const PassLane& lane, int* ky, int* kx) {
  const int p = k / 2;
  *ky = t.ky >= 0 ? t.ky : lane.oy + p - 2 * t.dy;
  *kx = t.kx >= 0 ? t.kx : lane.ox + p - 2 * t.dx;
  return *ky >= 0 && *ky < k && *kx >= 0 && *kx < k;
}

}  // namespace conv
}  // namespace jpegai
