// The one binding file: every C++ concern is exposed to Python here, as jpegai_fast._core.
// Each section calls into its own folder under csrc/; no algorithm lives in this file.
#include <pybind11/pybind11.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "alpha/alpha_coder.h"
#include "lossless/copy_map.h"
#include "lossless/copy_search.h"
#include "common/check.h"
#include "common/cpu.h"
#include "common/parallel.h"
#include "common/version.h"
#include "context/refine.h"
#include "context/wavefront.h"
#include "conv/float_transform.h"
#include "entropy/coder.h"
#include "entropy/gaussian_tables.h"
#include "entropy/quantise.h"
#include "entropy/rans.h"
#include "intpath/hyper_synthesis.h"
#include "intpath/int16_quantise.h"
#include "intpath/int_synthesis.h"
#include "intpath/picture_out.h"

namespace py = pybind11;

// Helpers of the context-model and integer-path sections.
namespace intpath_bind {
// Exact dtype, C order, no silent casts: pybind11 raises TypeError for anything else.
using I32 = py::array_t<int32_t, py::array::c_style>;
using I64 = py::array_t<int64_t, py::array::c_style>;
using F32 = py::array_t<float, py::array::c_style>;

void check_shape(const py::array& a, std::vector<py::ssize_t> shape, const char* name) {
  bool ok = a.ndim() == py::ssize_t(shape.size());
  for (size_t d = 0; ok && d < shape.size(); ++d) ok = shape[d] < 0 || a.shape(d) == shape[d];
  if (!ok) {
    std::string want = "(";
    for (size_t d = 0; d < shape.size(); ++d)
      want += (shape[d] < 0 ? std::string("*") : std::to_string(shape[d])) + (d + 1 < shape.size() ? ", " : "");
    throw std::invalid_argument(std::string(name) + " must have shape " + want + ")");
  }
}

int check_int(py::ssize_t v, const char* name) {
  if (v <= 0 || v > (py::ssize_t(1) << 30)) throw std::invalid_argument(std::string(name) + " out of range");
  return int(v);
}

jpegai::context::Model context_model(const I32& mu_hyper, const I32& bias, const I32& step, const I32& w) {
  check_shape(mu_hyper, {-1, -1, -1}, "mu_hyper_q");
  jpegai::context::Model m;
  m.M = check_int(mu_hyper.shape(0), "M");
  m.H = check_int(mu_hyper.shape(1), "H");
  m.W = check_int(mu_hyper.shape(2), "W");
  check_shape(bias, {m.M}, "bias_q");
  check_shape(step, {m.M}, "step_q");
  check_shape(w, {m.M, jpegai::context::kGroup, jpegai::context::kNumTaps}, "w_q");
  m.mu_hyper = mu_hyper.data();
  m.bias = bias.data();
  m.step = step.data();
  m.weight = w.data();
  return m;
}

std::vector<int32_t> vec32(const I32& a) { return std::vector<int32_t>(a.data(), a.data() + a.size()); }
std::vector<int64_t> vec64(const I64& a) { return std::vector<int64_t>(a.data(), a.data() + a.size()); }

// A layer's spec from its gather-layout weight (cout, cin, kh, kw), bias and shift checked against it.
jpegai::intpath::ConvSpec conv_spec(bool transposed, const I32& weight_q, const I64& bias_q, const I32& shift,
                                    std::pair<int, int> stride, std::pair<int, int> padding,
                                    std::pair<int, int> output_padding, bool relu) {
  check_shape(weight_q, {-1, -1, -1, -1}, "weight_q");
  jpegai::intpath::ConvSpec spec;
  spec.transposed = transposed;
  spec.cout = check_int(weight_q.shape(0), "cout");
  spec.cin = check_int(weight_q.shape(1), "cin");
  spec.kh = check_int(weight_q.shape(2), "kh");
  spec.kw = check_int(weight_q.shape(3), "kw");
  std::tie(spec.sh, spec.sw) = stride;
  std::tie(spec.ph, spec.pw) = padding;
  std::tie(spec.oph, spec.opw) = output_padding;
  spec.relu = relu;
  check_shape(bias_q, {spec.cout}, "bias_q");
  check_shape(shift, {spec.cout}, "shift");
  return spec;
}

// A vector's storage as a C-order array that owns it (no copy).
template <class T>
py::array_t<T, py::array::c_style> to_array(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T, py::array::c_style>(shape, heap->data(), owner);
}
}  // namespace intpath_bind

namespace {
// A stream argument: any 1-D contiguous bytes-like object (bytes, bytearray, memoryview, uint8 array).
py::buffer_info byte_view(const py::buffer& b) {
  py::buffer_info info = b.request();
  if (info.ndim != 1 || info.itemsize != 1 || (info.shape[0] > 1 && info.strides[0] != 1))
    throw py::type_error("data must be a contiguous bytes-like object");
  return info;
}
}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "jpegai_fast C++ core: entropy coding, context model, integer path, convolution";
  m.def("core_version", &jpegai::core_version);

  // --- errors (csrc/common/check.h) ---
  // A damaged stream raises jpegai_fast.DecodeError straight from C++; a bad argument ValueError
  // (pybind11 maps std::invalid_argument, InvalidArgument's base, to ValueError).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const jpegai::CorruptStream& e) {
      py::object cls = py::module_::import("jpegai_fast.errors").attr("DecodeError");
      PyErr_SetString(cls.ptr(), e.what());
    }
  });

  // --- constants that cross the boundary: Python reads these (jpegai_fast/core/constants.py) ---
  m.attr("GROUP") = jpegai::context::kGroup;           // channels per context group
  m.attr("CONTEXT_TAPS") = jpegai::context::kNumTaps;  // causal taps of the 5x5 context kernel
  m.attr("CONTEXT_WEIGHT_FRAC_BITS") = jpegai::context::kWeightFracBits;
  m.attr("CONTEXT_VALUE_LIMIT") = jpegai::context::kValueLimit;
  m.attr("CONTEXT_WEIGHT_LIMIT") = jpegai::context::kWeightLimit;
  m.attr("MAX_CHANNELS") = jpegai::context::kMaxChannels;
  m.attr("ACT_FRAC_BITS") = jpegai::intpath::kActFracBits;              // Q12: activations, mu, y_hat, steps
  m.attr("LOG2SIGMA_FRAC_BITS") = jpegai::intpath::kLog2SigmaFracBits;  // Q8: log2 sigma, log2 step
  m.attr("ACT_LIMIT") = jpegai::intpath::kActLimit;
  m.attr("WEIGHT_LIMIT") = jpegai::intpath::kWeightLimit;
  m.attr("MAX_SHIFT") = jpegai::intpath::kMaxShift;
  m.attr("Z_LIMIT") = jpegai::intpath::kZLimit;
  m.attr("SCALE_INDEX_OFFSET") = jpegai::intpath::kScaleIndexOffset;
  m.attr("SCALE_INDEX_SHIFT") = jpegai::intpath::kScaleIndexShift;
  m.attr("INT16_LIMIT") = jpegai::intpath::kInt16Limit;                      // int16 hyper-synthesis: |x|, |w|
  m.attr("INT16_ACC_LIMIT") = jpegai::intpath::kInt16AccLimit;               // and every int32 partial sum
  m.attr("INT16_Z_FRAC_BITS") = jpegai::intpath::kInt16ZFracBits;            // z_hat enters as Q4
  m.attr("INT16_HIDDEN_FRAC_BITS") = jpegai::intpath::kInt16HiddenFracBits;  // hidden activations Q11
  m.attr("ROOT_EXP_MAX") = jpegai::intpath::kMaxRootExp;     // integer synthesis: r = isqrt(n 2^e), 0 <= e <= this
  m.attr("REFINE_RATIO") = jpegai::context::kRefineRatio;    // bins per bin of the layer below
  m.attr("CONTEXT_ROW_SLOPE") = jpegai::context::kRowSlope;  // wavefront step of (i, j): j + slope * i
  {
    py::list taps;  // (dy, dx), in the weights' tap order
    for (int t = 0; t < jpegai::context::kNumTaps; ++t)
      taps.append(py::make_tuple(jpegai::context::kTapDy[t], jpegai::context::kTapDx[t]));
    m.attr("CONTEXT_TAP_OFFSETS") = py::tuple(taps);
  }
  m.attr("SCALE_LADDER_OFFSET") = jpegai::entropy::kLadderOffset;  // sigma_k = 2^((k - offset) / per_octave)
  m.attr("SCALES_PER_OCTAVE") = jpegai::entropy::kScalesPerOctave;
  // The scale-index rule is the ladder's, in log2 sigma's Q8: 2^(8 - SHIFT) tables per octave, and the
  // offset puts table kLadderOffset at sigma = step with round half up.
  static_assert((1 << (jpegai::intpath::kLog2SigmaFracBits - jpegai::intpath::kScaleIndexShift)) ==
                    jpegai::entropy::kScalesPerOctave,
                "scale-index shift and the ladder's density disagree");
  static_assert(jpegai::intpath::kScaleIndexOffset == (2 * jpegai::entropy::kLadderOffset + 1)
                                                          << (jpegai::intpath::kScaleIndexShift - 1),
                "scale-index offset and the ladder's origin disagree");
  m.attr("MAX_THREADS") = jpegai::kMaxThreads;

  // --- the one CPU switch (csrc/common/cpu.h) ---
  m.def(
      "cpu_isa", []() { return jpegai::isa_name(jpegai::current_isa()); },
      "Kernels in use: 'portable', 'avx2' or 'avx512' (results identical).");
  m.def("cpu_best_isa", []() { return jpegai::isa_name(jpegai::best_isa()); }, "Widest kernels this CPU supports.");
  m.def("set_cpu_isa", &jpegai::set_isa, py::arg("name"),
        "Select 'auto', 'portable', 'avx2' or 'avx512' for every kernel (ValueError if unknown or unsupported); "
        "returns the previous.");

  // --- entropy (csrc/entropy) ---
  // Arrays arrive already typed and C-contiguous (jpegai_fast/core/rans.py converts them); no
  // forcecast, so nothing is copied silently. Long calls release the GIL.
  {
    namespace en = jpegai::entropy;
    using I32 = py::array_t<int32_t, py::array::c_style>;
    using U8 = py::array_t<uint8_t, py::array::c_style>;
    using F64 = py::array_t<double, py::array::c_style>;
    auto to_bytes = [](const en::EncodedStream& stream) {
      // Allocate the bytes object once and let the coder write straight into it.
      size_t n = stream.size();
      PyObject* obj = PyBytes_FromStringAndSize(nullptr, py::ssize_t(n));
      if (!obj) throw py::error_already_set();
      py::bytes result = py::reinterpret_steal<py::bytes>(obj);
      {
        py::gil_scoped_release nogil;
        stream.write_to(reinterpret_cast<uint8_t*>(PyBytes_AS_STRING(obj)));
      }
      return result;
    };
    m.attr("PRECISION") = en::kPrecision;
    m.attr("NUM_SCALES") = en::kNumScales;
    m.attr("LANES") = en::kLanes;
    m.attr("MANY_LANES_FROM") = en::kManyLanesFrom;
    m.attr("CHUNK_MAX_SYMBOLS") =
        en::kChunkMaxSymbols;  // a coder stream is cut into chunks of at most this many symbols
    m.def("gaussian_scale_ladder", [] {
      auto s = en::gaussian_scale_ladder();
      return py::array_t<double>(s.size(), s.data());
    });
    m.def("gaussian_tables", [] {
      // (cdfs (76, max_len) int32, lengths (76,), offsets (76,)): same layout as the CDF coder.
      const en::TableSet& t = en::gaussian_tables();
      size_t width = 0;
      for (const auto& ti : t.infos()) width = std::max<size_t>(width, ti.n_regular + 2);
      I32 cdfs({t.size(), width}), lengths(t.size()), offsets(t.size());
      auto c = cdfs.mutable_unchecked<2>();
      for (size_t k = 0; k < t.size(); ++k) {
        const auto& ti = t.info(k);
        int32_t acc = 0;
        for (size_t j = 0; j < width; ++j) {
          c(k, j) = acc;
          if (j < ti.n_regular + 1) acc += int32_t(t.freq(k, j));
        }
        lengths.mutable_at(k) = int32_t(ti.n_regular + 2);
        offsets.mutable_at(k) = int32_t(ti.min_value);
      }
      return py::make_tuple(cdfs, lengths, offsets);
    });
    m.def("encode_gaussian", [to_bytes](I32 symbols, U8 indexes, int threads) {
      if (symbols.size() != indexes.size()) throw py::value_error("symbols and indexes differ in size");
      en::EncodedStream out(0);
      {
        py::gil_scoped_release nogil;
        out = en::encode_gaussian(symbols.data(), indexes.data(), size_t(symbols.size()), threads);
      }
      return to_bytes(out);
    });
    m.def(
        "decode_gaussian",
        [](py::buffer data, U8 indexes, int threads, std::optional<I32> out_arg) {
          py::buffer_info info = byte_view(data);
          std::vector<py::ssize_t> shape(indexes.shape(), indexes.shape() + indexes.ndim());
          I32 out = out_arg ? *out_arg : I32(shape);
          if (out.size() != indexes.size() || !out.writeable())
            throw py::value_error("out must be a writeable int32 array with as many elements as indexes");
          {
            py::gil_scoped_release nogil;
            en::decode_gaussian(static_cast<const uint8_t*>(info.ptr), size_t(info.size), indexes.data(),
                                size_t(indexes.size()), out.mutable_data(), threads);
          }
          return out;
        },
        py::arg("data"), py::arg("indexes"), py::arg("threads"), py::arg("out") = py::none());
    m.def(
        "check_coded_layout",
        [](py::buffer data, py::ssize_t n) {
          if (n < 0) throw py::value_error("n must be >= 0");
          py::buffer_info info = byte_view(data);
          en::check_layout(static_cast<const uint8_t*>(info.ptr), size_t(info.size), size_t(n));
        },
        py::arg("data"), py::arg("n"),
        "DecodeError unless a coded stream of n symbols has a sound chunk table, lane states and word alignment.");
    m.def("gaussian_bits", [](I32 symbols, U8 indexes) {
      if (symbols.size() != indexes.size()) throw py::value_error("symbols and indexes differ in size");
      py::gil_scoped_release nogil;
      return en::gaussian_bits(symbols.data(), indexes.data(), size_t(symbols.size()));
    });
    auto cdf_tables = [](const I32& cdfs, const I32& lengths, const I32& offsets) {
      if (cdfs.ndim() != 2) throw py::value_error("cdfs must be 2-D (channels, max_length)");
      size_t channels = size_t(cdfs.shape(0));
      if (size_t(lengths.size()) != channels || size_t(offsets.size()) != channels)
        throw py::value_error("lengths and offsets need one entry per cdf row");
      return en::build_cdf_tables(cdfs.data(), channels, size_t(cdfs.shape(1)), lengths.data(), offsets.data());
    };
    m.def("encode_cdf", [to_bytes, cdf_tables](I32 symbols, I32 cdfs, I32 lengths, I32 offsets, int threads) {
      if (symbols.ndim() != 2 || symbols.shape(0) != cdfs.shape(0))
        throw py::value_error("symbols must be 2-D with one row per cdf");
      en::EncodedStream out(0);
      {
        py::gil_scoped_release nogil;
        en::TableSet tables = cdf_tables(cdfs, lengths, offsets);
        out = en::encode_cdf(tables, symbols.data(), size_t(symbols.shape(1)), threads);
      }
      return to_bytes(out);
    });
    m.def("decode_cdf", [cdf_tables](py::buffer data, I32 cdfs, I32 lengths, I32 offsets, py::ssize_t n, int threads) {
      if (n < 0) throw py::value_error("n must be >= 0");
      py::buffer_info info = byte_view(data);
      I32 out({cdfs.shape(0), n});
      {
        py::gil_scoped_release nogil;
        en::TableSet tables = cdf_tables(cdfs, lengths, offsets);
        en::decode_cdf(tables, static_cast<const uint8_t*>(info.ptr), size_t(info.size), size_t(n), out.mutable_data(),
                       threads);
      }
      return out;
    });
    m.def(
        "pmf_to_cdf",
        [](F64 pmf, std::optional<F64> tail) {
          if (pmf.ndim() != 2) throw py::value_error("pmf must be 2-D (channels, symbols)");
          size_t C = size_t(pmf.shape(0)), L = size_t(pmf.shape(1));
          if (tail && size_t(tail->size()) != C) throw py::value_error("tail_mass needs one entry per pmf row");
          I32 cdfs({C, L + 2}), lengths(C);
          const double* t = tail ? tail->data() : nullptr;
          {
            py::gil_scoped_release nogil;
            en::pmf_to_cdf(pmf.data(), C, L, t, cdfs.mutable_data(), lengths.mutable_data());
          }
          return py::make_tuple(cdfs, lengths);
        },
        py::arg("pmf"), py::arg("tail") = py::none());
  }

  // --- context model (csrc/context) ---
  m.def(
      "context_reconstruct",
      [](const intpath_bind::I32& q, const intpath_bind::I32& mu_hyper, const intpath_bind::I32& bias,
         const intpath_bind::I32& step, const intpath_bind::I32& w, int threads) {
        auto model = intpath_bind::context_model(mu_hyper, bias, step, w);
        intpath_bind::check_shape(q, {model.M, model.H, model.W}, "q");
        intpath_bind::I32 y_hat({model.M, model.H, model.W});
        int32_t* out = y_hat.mutable_data();
        {
          py::gil_scoped_release release;
          jpegai::context::reconstruct(model, q.data(), out, threads);
        }
        return y_hat;
      },
      py::arg("q"), py::arg("mu_hyper_q"), py::arg("bias_q"), py::arg("step_q"), py::arg("w_q"), py::arg("threads"),
      "Decoder: y_hat_q (M,H,W) Q12 from symbols q (wavefront, fixed point).");
  m.def(
      "context_quantise",
      [](const intpath_bind::F32& y, const intpath_bind::I32& mu_hyper, const intpath_bind::I32& bias,
         const intpath_bind::I32& step, const intpath_bind::I32& w, int threads) {
        auto model = intpath_bind::context_model(mu_hyper, bias, step, w);
        intpath_bind::check_shape(y, {model.M, model.H, model.W}, "y");
        intpath_bind::I32 q({model.M, model.H, model.W}), y_hat({model.M, model.H, model.W});
        int32_t* q_out = q.mutable_data();
        int32_t* y_out = y_hat.mutable_data();
        {
          py::gil_scoped_release release;
          jpegai::context::quantise(model, y.data(), q_out, y_out, threads);
        }
        return py::make_tuple(q, y_hat);
      },
      py::arg("y"), py::arg("mu_hyper_q"), py::arg("bias_q"), py::arg("step_q"), py::arg("w_q"), py::arg("threads"),
      "Encoder: (q, y_hat_q) with y_hat_q identical to context_reconstruct(q).");
  using U8 = py::array_t<uint8_t, py::array::c_style>;
  auto refinement = [](const intpath_bind::I32& prev, const U8& idx, const U8& idx_step,
                       const jpegai::context::Model& model) {
    intpath_bind::check_shape(prev, {model.M, model.H, model.W}, "prev");
    intpath_bind::check_shape(idx, {model.M, model.H, model.W}, "idx");
    intpath_bind::check_shape(idx_step, {model.M, model.H, model.W}, "idx_step");
    jpegai::context::Refinement r;
    r.prev = prev.data();
    r.idx = idx.data();
    r.idx_step = idx_step.data();
    return r;
  };
  m.def(
      "context_refine_encode",
      [refinement](const intpath_bind::F32& y, const intpath_bind::I32& prev, const U8& idx, const U8& idx_step,
                   const intpath_bind::I32& mu_hyper, const intpath_bind::I32& bias, const intpath_bind::I32& step,
                   const intpath_bind::I32& w, int threads) {
        auto model = intpath_bind::context_model(mu_hyper, bias, step, w);
        intpath_bind::check_shape(y, {model.M, model.H, model.W}, "y");
        const jpegai::context::Refinement r = refinement(prev, idx, idx_step, model);
        intpath_bind::I32 y_hat({model.M, model.H, model.W});
        int32_t* out = y_hat.mutable_data();
        std::vector<uint8_t> payload;
        {
          py::gil_scoped_release release;
          payload = jpegai::context::refine_encode(model, r, y.data(), out, threads);
        }
        return py::make_tuple(py::bytes(reinterpret_cast<const char*>(payload.data()), payload.size()), y_hat);
      },
      py::arg("y"), py::arg("prev"), py::arg("idx"), py::arg("idx_step"), py::arg("mu_hyper_q"), py::arg("bias_q"),
      py::arg("step_q"), py::arg("w_q"), py::arg("threads"),
      "Encoder of a refinement layer (csrc/context/refine.h): (payload, y_hat_q) of this layer.");
  m.def(
      "context_refine_decode",
      [refinement](const py::buffer& data, const intpath_bind::I32& prev, const U8& idx, const U8& idx_step,
                   const intpath_bind::I32& mu_hyper, const intpath_bind::I32& bias, const intpath_bind::I32& step,
                   const intpath_bind::I32& w, int threads) {
        auto model = intpath_bind::context_model(mu_hyper, bias, step, w);
        const jpegai::context::Refinement r = refinement(prev, idx, idx_step, model);
        py::buffer_info info = byte_view(data);
        intpath_bind::I32 y_hat({model.M, model.H, model.W});
        int32_t* out = y_hat.mutable_data();
        {
          py::gil_scoped_release release;
          jpegai::context::refine_decode(model, r, static_cast<const uint8_t*>(info.ptr), size_t(info.shape[0]), out,
                                         threads);
        }
        return y_hat;
      },
      py::arg("data"), py::arg("prev"), py::arg("idx"), py::arg("idx_step"), py::arg("mu_hyper_q"), py::arg("bias_q"),
      py::arg("step_q"), py::arg("w_q"), py::arg("threads"),
      "Decoder of a refinement layer: this layer's y_hat_q (M,H,W) Q12.");
  m.def(
      "context_refine_check",
      [](const py::buffer& data, int M) {
        py::buffer_info info = byte_view(data);
        jpegai::context::refine_check_layout(static_cast<const uint8_t*>(info.ptr), size_t(info.shape[0]), M);
      },
      py::arg("data"), py::arg("M"), "The layout of a refinement layer's payload (DecodeError if wrong).");

  // --- integer entropy-parameter path (csrc/intpath) ---
  py::class_<jpegai::intpath::IntHyperSynthesis>(m, "IntHyperSynthesis",
                                                 "Deterministic integer hyper-synthesis (csrc/intpath).")
      .def(py::init([](const std::string& arith) {
             if (arith != "exact" && arith != "int16")
               throw std::invalid_argument("arith must be 'exact' or 'int16', got '" + arith + "'");
             return jpegai::intpath::IntHyperSynthesis(arith == "int16" ? jpegai::intpath::Arith::int16
                                                                        : jpegai::intpath::Arith::exact);
           }),
           py::arg("arith") = "exact",
           "arith: 'exact' (int32 Q12 activations, exact sums; format versions <= 5) or 'int16' (version 6).")
      .def(
          "add_layer",
          [](jpegai::intpath::IntHyperSynthesis& self, bool transposed, const intpath_bind::I32& weight_q,
             const intpath_bind::I64& bias_q, const intpath_bind::I32& shift, std::pair<int, int> stride,
             std::pair<int, int> padding, std::pair<int, int> output_padding, bool relu) {
            const auto spec =
                intpath_bind::conv_spec(transposed, weight_q, bias_q, shift, stride, padding, output_padding, relu);
            self.add_layer(spec, intpath_bind::vec32(weight_q), intpath_bind::vec64(bias_q),
                           intpath_bind::vec32(shift));
          },
          py::arg("transposed"), py::arg("weight_q"), py::arg("bias_q"), py::arg("shift"), py::arg("stride"),
          py::arg("padding"), py::arg("output_padding"), py::arg("relu"),
          "Append a layer; weight_q in gather layout (cout, cin, kh, kw), bias_q in the accumulator's units.")
      .def_property_readonly("num_layers", &jpegai::intpath::IntHyperSynthesis::num_layers)
      .def_property_readonly("in_channels", &jpegai::intpath::IntHyperSynthesis::in_channels)
      .def_property_readonly("out_channels", &jpegai::intpath::IntHyperSynthesis::out_channels)
      .def("output_size", &jpegai::intpath::IntHyperSynthesis::output_size, py::arg("h"), py::arg("w"))
      .def(
          "run",
          [](const jpegai::intpath::IntHyperSynthesis& self, const intpath_bind::I32& z, int M, int threads) {
            intpath_bind::check_shape(z, {-1, -1, -1}, "z_hat");
            const int cz = intpath_bind::check_int(z.shape(0), "Cz"), h = intpath_bind::check_int(z.shape(1), "h"),
                      w = intpath_bind::check_int(z.shape(2), "w");
            if (threads < 1) throw std::invalid_argument("threads must be >= 1");
            jpegai::intpath::HyperOutput out;
            {
              py::gil_scoped_release release;
              out = self.run(z.data(), cz, h, w, M, threads);
            }
            std::vector<py::ssize_t> shape{out.channels, out.height, out.width};
            return py::make_tuple(intpath_bind::to_array(std::move(out.mu_q), shape),
                                  intpath_bind::to_array(std::move(out.log2sigma_q), shape));
          },
          py::arg("z_hat"), py::arg("M"), py::arg("threads"), "(mu_q Q12, log2sigma_q Q8), each (M, H, W).");
  py::class_<jpegai::intpath::IntSynthesis>(
      m, "IntSynthesis", "Integer synthesis g_s: int16 convolutions and integer IGDN (csrc/intpath).")
      .def(py::init<>())
      .def(
          "add_conv",
          [](jpegai::intpath::IntSynthesis& self, bool transposed, const intpath_bind::I32& weight_q,
             const intpath_bind::I64& bias_q, const intpath_bind::I32& shift, std::pair<int, int> stride,
             std::pair<int, int> padding, std::pair<int, int> output_padding) {
            const auto spec =
                intpath_bind::conv_spec(transposed, weight_q, bias_q, shift, stride, padding, output_padding, false);
            self.add_conv(spec, intpath_bind::vec32(weight_q), intpath_bind::vec64(bias_q), intpath_bind::vec32(shift));
          },
          py::arg("transposed"), py::arg("weight_q"), py::arg("bias_q"), py::arg("shift"), py::arg("stride"),
          py::arg("padding"), py::arg("output_padding"), "Append an int16 convolution (gather layout weights).")
      .def(
          "add_igdn",
          [](jpegai::intpath::IntSynthesis& self, const intpath_bind::I32& gamma_q, const intpath_bind::I64& beta_q,
             const intpath_bind::I32& norm_shift, int square_shift, const intpath_bind::I32& root_exp, int out_shift) {
            const py::ssize_t c = beta_q.size();
            intpath_bind::check_shape(gamma_q, {c, c}, "gamma_q");
            intpath_bind::check_shape(norm_shift, {c}, "norm_shift");
            intpath_bind::check_shape(root_exp, {c}, "root_exp");
            self.add_igdn(intpath_bind::vec32(gamma_q), intpath_bind::vec64(beta_q), intpath_bind::vec32(norm_shift),
                          square_shift, intpath_bind::vec32(root_exp), out_shift);
          },
          py::arg("gamma_q"), py::arg("beta_q"), py::arg("norm_shift"), py::arg("square_shift"), py::arg("root_exp"),
          py::arg("out_shift"), "Append an integer IGDN over the last convolution's channels.")
      .def_property_readonly("in_channels", &jpegai::intpath::IntSynthesis::in_channels)
      .def_property_readonly("out_channels", &jpegai::intpath::IntSynthesis::out_channels)
      .def_property_readonly("num_steps", &jpegai::intpath::IntSynthesis::num_steps)
      .def("output_size", &jpegai::intpath::IntSynthesis::output_size, py::arg("h"), py::arg("w"))
      .def(
          "run",
          [](const jpegai::intpath::IntSynthesis& self, const intpath_bind::I32& y_q, int32_t out_limit, int threads,
             std::optional<std::array<int, 4>> crop, jpegai::intpath::SynthesisScratch* scratch) {
            intpath_bind::check_shape(y_q, {self.in_channels(), -1, -1}, "y_q");
            const int h = intpath_bind::check_int(y_q.shape(1), "h"), w = intpath_bind::check_int(y_q.shape(2), "w");
            if (threads < 1) throw std::invalid_argument("threads must be >= 1");
            const auto [ho, wo] = self.output_size(h, w);
            const auto rect = jpegai::conv::crop_or_all(crop, ho, wo, "IntSynthesis");
            std::vector<int32_t> out;
            {
              py::gil_scoped_release release;
              out = self.run(y_q.data(), h, w, out_limit, threads, rect, scratch);
            }
            return intpath_bind::to_array(std::move(out), {self.out_channels(), rect.h(), rect.w()});
          },
          py::arg("y_q"), py::arg("out_limit"), py::arg("threads"), py::arg("crop") = py::none(),
          py::arg("scratch") = py::none(),
          "(cout, H, W) int32: the last layer's output; crop (y0, y1, x0, x1): that rectangle of it alone; "
          "scratch: a SynthesisScratch lent to successive runs (one at a time).");
  m.def(
      "quantise_conv_int16",
      [](const py::array_t<double, py::array::c_style>& weight,
         std::optional<py::array_t<double, py::array::c_style>> bias, bool transposed, std::pair<int, int> stride,
         int frac_in, int frac_out) {
        intpath_bind::check_shape(weight, {-1, -1, -1, -1}, "weight");
        const int cout = intpath_bind::check_int(weight.shape(0), "cout"),
                  cin = intpath_bind::check_int(weight.shape(1), "cin"),
                  kh = intpath_bind::check_int(weight.shape(2), "kh"),
                  kw = intpath_bind::check_int(weight.shape(3), "kw");
        if (bias) intpath_bind::check_shape(*bias, {cout}, "bias");
        auto q = jpegai::intpath::quantise_conv_int16(weight.data(), cout, cin, kh, kw, bias ? bias->data() : nullptr,
                                                      transposed, stride.first, stride.second, frac_in, frac_out);
        return py::make_tuple(intpath_bind::to_array(std::move(q.weight_q), {cout, cin, kh, kw}),
                              intpath_bind::to_array(std::move(q.bias_q), {cout}),
                              intpath_bind::to_array(std::move(q.shift), {cout}));
      },
      py::arg("weight"), py::arg("bias"), py::arg("transposed"), py::arg("stride"), py::arg("frac_in"),
      py::arg("frac_out"),
      "(weight_q int32, bias_q int64, shift int32): the int16 arithmetic's quantisation of a gather-layout "
      "float64 weight (csrc/intpath/int16_quantise.h).");
  py::class_<jpegai::intpath::SynthesisScratch>(
      m, "SynthesisScratch",
      "Activation storage lent to successive IntSynthesis runs, one at a time (csrc/intpath/int_synthesis.h).")
      .def(py::init<>());
  m.def(
      "q_to_pixels",
      [](const intpath_bind::I32& planar, py::array dst, int frac_bits, int bit_depth, int threads) {
        intpath_bind::check_shape(planar, {3, -1, -1}, "planar");
        const py::ssize_t h = planar.shape(1), w = planar.shape(2);
        intpath_bind::check_shape(dst, {h, w, 3}, "dst");
        if (!dst.writeable()) throw std::invalid_argument("dst must be writable");
        if (threads < 1) throw std::invalid_argument("threads must be >= 1");
        const py::ssize_t item = dst.itemsize();
        for (int d = 0; d < 3; ++d)
          if (dst.strides(d) % item != 0) throw std::invalid_argument("dst strides must be whole elements");
        const int64_t rs = dst.strides(0) / item, ps = dst.strides(1) / item, cs = dst.strides(2) / item;
        const bool u8 = py::isinstance<py::array_t<uint8_t>>(dst), u16 = py::isinstance<py::array_t<uint16_t>>(dst);
        if (!u8 && !u16) throw py::type_error("dst must be uint8 or uint16");
        void* out = dst.mutable_data();
        py::gil_scoped_release release;
        if (u8)
          jpegai::intpath::q_to_pixels(planar.data(), int(h), int(w), frac_bits, bit_depth, static_cast<uint8_t*>(out),
                                       rs, ps, cs, threads);
        else
          jpegai::intpath::q_to_pixels(planar.data(), int(h), int(w), frac_bits, bit_depth, static_cast<uint16_t*>(out),
                                       rs, ps, cs, threads);
      },
      py::arg("planar"), py::arg("dst"), py::arg("frac_bits"), py::arg("bit_depth"), py::arg("threads"),
      "Write int32 (3, h, w) Q(frac_bits) values into dst (h, w, 3) as pixels (csrc/intpath/picture_out.h).");
  m.def(
      "intpath_scale_indexes",
      [](const intpath_bind::I32& log2sigma_q, const intpath_bind::I32& log2step_q, int threads) {
        intpath_bind::check_shape(log2sigma_q, {-1, -1, -1}, "log2sigma_q");
        const int M = intpath_bind::check_int(log2sigma_q.shape(0), "M");
        intpath_bind::check_shape(log2step_q, {M}, "log2step_q");
        if (threads < 1) throw std::invalid_argument("threads must be >= 1");
        py::array_t<uint8_t> out({log2sigma_q.shape(0), log2sigma_q.shape(1), log2sigma_q.shape(2)});
        uint8_t* dst = out.mutable_data();
        const int64_t plane = int64_t(log2sigma_q.shape(1)) * log2sigma_q.shape(2);
        {
          py::gil_scoped_release release;
          jpegai::intpath::scale_indexes(log2sigma_q.data(), log2step_q.data(), M, plane, dst, threads);
        }
        return out;
      },
      py::arg("log2sigma_q"), py::arg("log2step_q"), py::arg("threads"),
      "The scale-index rule: clamp(floor((log2sigma_q - log2step_q[c] + 880) / 32), 0, 75), uint8.");

  // --- float convolution engine (csrc/conv) ---
  py::class_<jpegai::conv::FloatTransform>(m, "FloatTransform", "Float32 conv/deconv + (I)GDN/ReLU chain (csrc/conv).")
      .def(py::init<>())
      .def(
          "add_conv",
          [](jpegai::conv::FloatTransform& self, bool transposed, const intpath_bind::F32& weight,
             const intpath_bind::F32& bias, int stride) {
            intpath_bind::check_shape(weight, {-1, -1, -1, -1}, "weight");
            if (weight.shape(2) != weight.shape(3)) throw std::invalid_argument("weight: kernel must be square");
            jpegai::conv::LayerSpec spec;
            spec.transposed = transposed;
            spec.cout = intpath_bind::check_int(weight.shape(transposed ? 1 : 0), "cout");
            spec.cin = intpath_bind::check_int(weight.shape(transposed ? 0 : 1), "cin");
            spec.k = intpath_bind::check_int(weight.shape(2), "kernel size");
            spec.stride = stride;
            intpath_bind::check_shape(bias, {spec.cout}, "bias");
            self.add_conv(spec, weight.data(), bias.data());
          },
          py::arg("transposed"), py::arg("weight"), py::arg("bias"), py::arg("stride"),
          "Append a Conv2d ('same' padding k//2, stride 1|2; weight (cout, cin, k, k)) or a ConvTranspose2d "
          "(stride 2, padding k//2, output_padding 1; weight (cin, cout, k, k)).")
      .def(
          "add_gdn",
          [](jpegai::conv::FloatTransform& self, bool inverse, const intpath_bind::F32& beta,
             const intpath_bind::F32& gamma) {
            intpath_bind::check_shape(beta, {-1}, "beta");
            const int c = intpath_bind::check_int(beta.shape(0), "channels");
            intpath_bind::check_shape(gamma, {c, c}, "gamma");
            self.add_gdn(inverse, beta.data(), gamma.data(), c);
          },
          py::arg("inverse"), py::arg("beta"), py::arg("gamma"),
          "GDN/IGDN (effective beta (C,), gamma (C, C)) after the last layer.")
      .def("add_relu", &jpegai::conv::FloatTransform::add_relu, "ReLU after the last layer (not the output layer).")
      .def_property_readonly("num_layers", &jpegai::conv::FloatTransform::num_layers)
      .def_property_readonly("in_channels", &jpegai::conv::FloatTransform::in_channels)
      .def_property_readonly("out_channels", &jpegai::conv::FloatTransform::out_channels)
      .def("output_size", &jpegai::conv::FloatTransform::output_size, py::arg("h"), py::arg("w"))
      .def(
          "run",
          [](const jpegai::conv::FloatTransform& self, const intpath_bind::F32& x, int threads,
             std::optional<std::array<int, 4>> crop, jpegai::conv::TransformScratch* scratch) {
            intpath_bind::check_shape(x, {self.in_channels(), -1, -1}, "x");
            const int h = intpath_bind::check_int(x.shape(1), "h"), w = intpath_bind::check_int(x.shape(2), "w");
            const auto size = self.output_size(h, w);
            const auto rect = jpegai::conv::crop_or_all(crop, size.first, size.second, "FloatTransform");
            intpath_bind::F32 out({py::ssize_t(self.out_channels()), py::ssize_t(rect.h()), py::ssize_t(rect.w())});
            float* dst = out.mutable_data();
            const float* src = x.data();
            {
              py::gil_scoped_release release;
              self.run(src, h, w, dst, threads, rect, scratch);
            }
            return out;
          },
          py::arg("x"), py::arg("threads"), py::arg("crop") = py::none(), py::arg("scratch") = py::none(),
          "x (cin, h, w) float32 -> (cout, ho, wo) float32; crop (y0, y1, x0, x1): that rectangle of it alone; "
          "scratch: a TransformScratch lent to successive runs (one at a time).");
  py::class_<jpegai::conv::TransformScratch>(
      m, "TransformScratch",
      "Activation storage lent to successive FloatTransform runs, one at a time (csrc/conv/float_transform.h).")
      .def(py::init<>());

  // --- alpha and lossless planes (csrc/alpha, csrc/lossless) ------------------------------------
  using U16 = py::array_t<uint16_t, py::array::c_style | py::array::forcecast>;
  // a copy map payload (empty: no copies) -> its copies; DecodeError if damaged
  auto copies_of = [](const py::buffer& copy_map, int h, int w) {
    py::buffer_info info = byte_view(copy_map);
    if (info.size == 0) return std::vector<jpegai::lossless::Copy>();
    return jpegai::lossless::decode_copies(static_cast<const uint8_t*>(info.ptr), size_t(info.size), h, w);
  };
  m.def(
      "alpha_encode",
      [copies_of](U16 plane, int bits, py::buffer copy_map, int near) {
        if (plane.ndim() != 2) throw py::value_error("alpha plane must be 2-D");
        const int h = int(plane.shape(0)), w = int(plane.shape(1));
        const auto copies = copies_of(copy_map, h, w);
        std::vector<uint8_t> out;
        {
          py::gil_scoped_release nogil;
          out = jpegai::alpha::encode(plane.data(), h, w, bits, copies, near);
        }
        return py::bytes(reinterpret_cast<const char*>(out.data()), out.size());
      },
      py::arg("plane"), py::arg("bits"), py::arg("copy_map") = py::bytes(), py::arg("near") = 0,
      "Plane (h, w) uint16 < 2^bits -> payload bytes: lossless (the pixels the copy map covers left out), or "
      "within +-near of every sample (near >= 1; copied pixels repeat their source's reconstruction).");
  m.def(
      "alpha_max_near", [](int bits) { return bits < 2 || bits > 16 ? 0 : jpegai::alpha::max_near(bits); },
      py::arg("bits"), "The largest near-lossless bound of bits-bit samples (0: none).");
  m.def(
      "alpha_encode_near",
      [copies_of](U16 plane, int bits, int near, py::buffer copy_map) {
        if (plane.ndim() != 2) throw py::value_error("alpha plane must be 2-D");
        if (near < 1) throw py::value_error("alpha_encode_near: near must be >= 1");
        const int h = int(plane.shape(0)), w = int(plane.shape(1));
        const auto copies = copies_of(copy_map, h, w);
        U16 recon({py::ssize_t(h), py::ssize_t(w)});
        std::vector<uint8_t> out;
        {
          py::gil_scoped_release nogil;
          out = jpegai::alpha::encode(plane.data(), h, w, bits, copies, near, recon.mutable_data());
        }
        return py::make_tuple(py::bytes(reinterpret_cast<const char*>(out.data()), out.size()), recon);
      },
      py::arg("plane"), py::arg("bits"), py::arg("near"), py::arg("copy_map") = py::bytes(),
      "Near-lossless plane -> (payload bytes, the (h, w) uint16 samples its decoder reconstructs).");
  m.def(
      "alpha_costs",
      [](U16 plane, int bits) {
        if (plane.ndim() != 2) throw py::value_error("alpha plane must be 2-D");
        const int h = int(plane.shape(0)), w = int(plane.shape(1));
        py::array_t<float> out({py::ssize_t(h), py::ssize_t(w)});
        {
          py::gil_scoped_release nogil;
          jpegai::alpha::pixel_costs(plane.data(), h, w, bits, out.mutable_data());
        }
        return out;
      },
      py::arg("plane"), py::arg("bits"), "The coder's estimate of each pixel's bits (h, w) float32, no copies.");
  m.def(
      "alpha_check",
      [](py::buffer data, int h, int w, int bits) {
        py::buffer_info info = byte_view(data);
        jpegai::alpha::check(static_cast<const uint8_t*>(info.ptr), size_t(info.size), h, w, bits);
      },
      py::arg("data"), py::arg("h"), py::arg("w"), py::arg("bits"),
      "DecodeError if the payload's tables or initial state are damaged (no pixel is decoded).");
  // copies as an (n, 3) uint32 array (start, distance, length), as copy_map_decode gives them: decoded once
  // per stream, then handed to every plane's decode
  using U32 = py::array_t<uint32_t, py::array::c_style | py::array::forcecast>;
  auto copies_from = [](const std::optional<U32>& copies_array) {
    std::vector<jpegai::lossless::Copy> copies;
    if (copies_array) {
      if (copies_array->ndim() != 2 || copies_array->shape(1) != 3)
        throw py::value_error("alpha: copies must be (n, 3) uint32");
      const uint32_t* c = copies_array->data();
      for (py::ssize_t k = 0; k < copies_array->shape(0); ++k) copies.push_back({c[3 * k], c[3 * k + 1], c[3 * k + 2]});
    }
    return copies;
  };
  m.def(
      "alpha_decode",
      [copies_from](py::buffer data, int h, int w, int bits, std::optional<U32> copies_array, int near) {
        py::buffer_info info = byte_view(data);
        if (h < 1 || w < 1) throw py::value_error("alpha: plane must be at least 1x1");
        const std::vector<jpegai::lossless::Copy> copies = copies_from(copies_array);
        U16 out({py::ssize_t(h), py::ssize_t(w)});
        {
          py::gil_scoped_release nogil;
          jpegai::alpha::decode(static_cast<const uint8_t*>(info.ptr), size_t(info.size), h, w, bits,
                                out.mutable_data(), copies, near);
        }
        return out;
      },
      py::arg("data"), py::arg("h"), py::arg("w"), py::arg("bits"), py::arg("copies") = py::none(), py::arg("near") = 0,
      "Payload -> plane (h, w) uint16, the pixels the copies (copy_map_decode) cover filled from their source.");
  m.def(
      "alpha_decode_group",
      [copies_from](const std::vector<py::buffer>& payloads, int h, int w, int bits, std::optional<U32> copies_array) {
        if (h < 1 || w < 1) throw py::value_error("alpha: plane must be at least 1x1");
        const std::vector<jpegai::lossless::Copy> copies = copies_from(copies_array);
        std::vector<py::buffer_info> infos;
        std::vector<U16> outs;
        std::vector<jpegai::alpha::GroupPlane> group;
        for (const py::buffer& b : payloads) {
          infos.push_back(byte_view(b));
          outs.emplace_back(std::vector<py::ssize_t>{h, w});
        }
        for (size_t k = 0; k < infos.size(); ++k)
          group.push_back({static_cast<const uint8_t*>(infos[k].ptr), size_t(infos[k].size), outs[k].mutable_data()});
        {
          py::gil_scoped_release nogil;
          jpegai::alpha::decode_group(group, h, w, bits, copies);
        }
        return outs;
      },
      py::arg("payloads"), py::arg("h"), py::arg("w"), py::arg("bits"), py::arg("copies") = py::none(),
      "Lossless payloads of planes of one size and bit depth sharing the copies -> their planes (h, w) uint16, "
      "decoded in one pass (alpha_decode's planes, their dependency chains overlapped); the DecodeError names "
      "no plane.");
  m.def(
      "copy_map_find",
      [](U16 pixels, py::array_t<float, py::array::c_style | py::array::forcecast> cost) {
        if (pixels.ndim() != 2 && pixels.ndim() != 3) throw py::value_error("copy search: pixels must be (h, w[, c])");
        const int h = int(pixels.shape(0)), w = int(pixels.shape(1));
        const int c = pixels.ndim() == 3 ? int(pixels.shape(2)) : 1;
        if (cost.ndim() != 2 || cost.shape(0) != h || cost.shape(1) != w)
          throw py::value_error("copy search: cost must be (h, w)");
        std::vector<uint8_t> out;
        {
          py::gil_scoped_release nogil;
          const auto copies = jpegai::lossless::find_copies(pixels.data(), h, w, c, cost.data());
          if (!copies.empty()) out = jpegai::lossless::encode_copies(copies, h, w);
        }
        return py::bytes(reinterpret_cast<const char*>(out.data()), out.size());
      },
      py::arg("pixels"), py::arg("cost"),
      "The copy map payload of an image (h, w[, c]) uint16 given each pixel's literal bits; b'' if none pays.");
  m.def(
      "copy_map_decode",
      [copies_of](py::buffer data, int h, int w) {
        if (h < 1 || w < 1) throw py::value_error("copy map: image must be at least 1x1");
        py::buffer_info info = byte_view(data);
        if (info.size == 0) throw jpegai::CorruptStream("copy map: empty payload");
        const auto copies = copies_of(data, h, w);
        py::array_t<uint32_t> out({py::ssize_t(copies.size()), py::ssize_t(3)});
        uint32_t* o = out.mutable_data();
        for (const auto& c : copies) {
          *o++ = c.start;
          *o++ = c.distance;
          *o++ = c.length;
        }
        return out;
      },
      py::arg("data"), py::arg("h"), py::arg("w"),
      "The copies (n, 3) uint32 (start, distance, length) of a copy map payload; DecodeError if it is damaged.");
}
