// Float32 convolution engine for the analysis / synthesis transforms (see docs/conv_engine.md).
// A transform is a chain of Conv2d ("same" padding, stride 1 or 2) or ConvTranspose2d (stride 2,
// padding k/2, output_padding 1) layers, each optionally followed by GDN, IGDN or ReLU. Activations
// between layers are NHWC with a zero border, so every tap of a register tile is a plain pointer
// offset; weights are packed once, at construction, into 16-lane blocks per sub-convolution.
#pragma once
#include <cstdint>
#include <vector>

#include "conv/crop_plan.h"

#include "conv/tile_kernel.h"

namespace jpegai {
namespace conv {

struct LayerSpec {
  bool transposed = false;
  int cin = 0, cout = 0, k = 0, stride = 1;
};

// One stride-1 sub-convolution on the task grid: its taps, its weights for 16 output lanes, and
// where each lane lands (channel, row/column offset in the output for grid position (i, j)).
struct Pass {
  std::vector<int> dy, dx;        // tap positions in input pixels, relative to the base pixel
  std::vector<float> w;           // [ntaps][cin][kLanes]
  std::vector<float> bias;        // [kLanes]
  std::vector<int> chan, oy, ox;  // per lane; chan < 0: lane unused
  bool contiguous = false;        // all lanes share (oy, ox) and channels chan[0].. ascending
  int n_used = 0;
};

struct Gdn {
  bool present = false, inverse = false;
  std::vector<Pass> passes;  // the 1x1 conv beta + gamma * x^2, one pass per 16 channels
};

struct Layer {
  LayerSpec spec;
  int border = 0;  // zero border the input buffer needs
  std::vector<Pass> passes;
  Gdn gdn;
  bool relu = false;
};

// Activation storage a caller lends to successive runs (one at a time), so that a tile loop allocates its
// activations once instead of per tile and layer (fresh pages: page faults and the kernel's zeroing).
struct TransformScratch {
  std::vector<float> act[2];  // a layer's input and output, alternating
};

class FloatTransform {
 public:
  // weight: torch layout ((cout, cin, k, k) for Conv2d, (cin, cout, k, k) for ConvTranspose2d);
  // bias: cout values. Throws std::invalid_argument for an unsupported layer.
  void add_conv(const LayerSpec& spec, const float* weight, const float* bias);
  // GDN (inverse = false) or IGDN after the last layer: y = x / or * sqrt(beta + gamma @ x^2).
  // beta: (C,), gamma: (C, C) with C the last layer's cout.
  void add_gdn(bool inverse, const float* beta, const float* gamma, int channels);
  // ReLU after the last layer (the hyper-analysis h_a); not after a GDN and not on the output.
  void add_relu();

  int num_layers() const { return int(layers_.size()); }
  int in_channels() const;
  int out_channels() const;
  // Output (height, width) for an input of (h, w); throws if the input is too small.
  std::pair<int, int> output_size(int h, int w) const;

  // in: planar (cin, h, w) float32; out: planar (cout, ho, wo), preallocated by the caller.
  void run(const float* in, int h, int w, float* out, int threads) const;
  // The same values for the output rectangle `crop` alone, out: (cout, crop.h(), crop.w()). Each layer
  // computes only what the layers after it read (conv/crop_plan.h): a tile analysed with a halo pays the halo
  // in full at the first layer only. Each output is one kernel sum whatever the rectangle, so equal bit for bit.
  void run(const float* in, int h, int w, float* out, int threads, const Rect& crop,
           TransformScratch* scratch = nullptr) const;

 private:
  std::vector<Layer> layers_;
};

}  // namespace conv
}  // namespace jpegai
