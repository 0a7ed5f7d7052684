// Which positions each layer of a conv chain must compute for one rectangle of the chain's output (both
// engines: conv/float_transform.h, intpath/int_synthesis.h).
//
// A layer runs its passes at grid positions i (per axis): position i reads the layer's input at
// in_mul i + d for the taps' offsets d in [d0, d1] and writes outputs out_mul i + o, o in [0, out_mul)
// (a convolution of stride s: in_mul s, out_mul 1; a transposed stride-2 one in sub-pixel passes: in_mul 1,
// out_mul 2). Backwards from the wanted output rectangle, each layer's grid is the positions that write it,
// and what that grid reads, clipped to the layer's input (outside it the input is zero padding, which the
// activations' borders supply), is what the layer before must write. Every value a grid reads inside the
// input is then computed from values that are themselves exact, so the rectangle equals the same
// rectangle of the whole output, bit for bit; the positions a tile's halo adds shrink with depth.
#pragma once
#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace jpegai {
namespace conv {

// A half-open rectangle of one layer's positions: rows [y0, y1), columns [x0, x1).
struct Rect {
  int y0 = 0, y1 = 0, x0 = 0, x1 = 0;
  int h() const { return y1 - y0; }
  int w() const { return x1 - x0; }
};

// Whether `r` is a non-empty rectangle inside an (h, w) output: what a cropped run accepts.
inline bool inside(const Rect& r, int h, int w) {
  return r.y0 >= 0 && r.y0 < r.y1 && r.y1 <= h && r.x0 >= 0 && r.x0 < r.x1 && r.x1 <= w;
}

// The rectangle (y0, y1, x0, x1) a caller asks for, or the whole (h, w) output; std::invalid_argument unless
// inside() holds (`what` names the transform).
template <class Crop>
Rect crop_or_all(const Crop& crop, int h, int w, const char* what) {
  Rect r;
  r.y1 = h;
  r.x1 = w;
  if (crop) r = {(*crop)[0], (*crop)[1], (*crop)[2], (*crop)[3]};
  if (!inside(r, h, w))
    throw std::invalid_argument(std::string(what) + ": crop must be a non-empty rectangle inside the output");
  return r;
}

struct LayerReach {
  int in_mul = 1, out_mul = 1;
  int dy0 = 0, dy1 = 0, dx0 = 0, dx1 = 0;  // the taps' offsets, over every pass
  int in_h = 0, in_w = 0;                  // the layer's whole input
};

// The tap offsets of a layer's passes (any pass type with dy and dx vectors).
template <class Pass>
void set_taps(LayerReach& r, const std::vector<Pass>& passes) {
  for (const Pass& p : passes)
    for (size_t t = 0; t < p.dy.size(); ++t) {
      r.dy0 = std::min(r.dy0, int(p.dy[t]));
      r.dy1 = std::max(r.dy1, int(p.dy[t]));
      r.dx0 = std::min(r.dx0, int(p.dx[t]));
      r.dx1 = std::max(r.dx1, int(p.dx[t]));
    }
}

inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

struct CropPlan {
  std::vector<Rect> grid;     // per layer: the grid positions it runs
  std::vector<Rect> written;  // per layer: the output positions that grid writes (whole out_mul blocks)
};

// `crop`: a non-empty rectangle inside the last layer's output.
inline CropPlan plan_crop(const std::vector<LayerReach>& layers, const Rect& crop) {
  CropPlan plan;
  plan.grid.resize(layers.size());
  plan.written.resize(layers.size());
  Rect need = crop;
  for (size_t li = layers.size(); li-- > 0;) {
    const LayerReach& L = layers[li];
    Rect g;
    g.y0 = floor_div(need.y0, L.out_mul);
    g.y1 = floor_div(need.y1 - 1, L.out_mul) + 1;
    g.x0 = floor_div(need.x0, L.out_mul);
    g.x1 = floor_div(need.x1 - 1, L.out_mul) + 1;
    plan.grid[li] = g;
    plan.written[li] = {g.y0 * L.out_mul, g.y1 * L.out_mul, g.x0 * L.out_mul, g.x1 * L.out_mul};
    need.y0 = std::max(0, L.in_mul * g.y0 + L.dy0);
    need.y1 = std::min(L.in_h, L.in_mul * (g.y1 - 1) + L.dy1 + 1);
    need.x0 = std::max(0, L.in_mul * g.x0 + L.dx0);
    need.x1 = std::min(L.in_w, L.in_mul * (g.x1 - 1) + L.dx1 + 1);
  }
  return plan;
}

}  // namespace conv
}  // namespace jpegai
