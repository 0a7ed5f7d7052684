// The one binding file: every C++ concern is exposed to Python here, as jpegai_fast._core.
// Each section calls into its own folder under csrc/; no algorithm lives in this file.
#include <pybind11/pybind11.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "common/version.h"
#include "entropy/coder.h"
#include "entropy/gaussian_tables.h"
#include "entropy/quantize.h"
#include "entropy/rans.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "jpegai_fast C++ core: entropy coding, context model, integer path, convolution";
  m.def("core_version", &jpegai::core_version);

  // --- entropy (csrc/entropy) ---
  // Arrays arrive already typed and C-contiguous (jpegai_fast/coder.py converts them); no
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
    auto byte_view = [](const py::buffer& b) {
      py::buffer_info info = b.request();
      if (info.ndim != 1 || info.itemsize != 1 || (info.shape[0] > 1 && info.strides[0] != 1))
        throw py::type_error("data must be a contiguous bytes-like object");
      return info;
    };
    m.attr("PRECISION") = en::kPrecision;
    m.attr("NUM_SCALES") = en::kNumScales;
    m.attr("LANES") = en::kLanes;
    m.attr("SUBSTREAM_MAX_SYMBOLS") = en::kSubstreamMaxSymbols;
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
    m.def("decode_gaussian", [byte_view](py::buffer data, U8 indexes, int threads, std::optional<I32> out_arg) {
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
    }, py::arg("data"), py::arg("indexes"), py::arg("threads"), py::arg("out") = py::none());
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
      return en::build_cdf_tables(cdfs.data(), channels, size_t(cdfs.shape(1)), lengths.data(),
                                  offsets.data());
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
    m.def("decode_cdf", [byte_view, cdf_tables](py::buffer data, I32 cdfs, I32 lengths, I32 offsets, py::ssize_t n, int threads) {
      if (n < 0) throw py::value_error("n must be >= 0");
      py::buffer_info info = byte_view(data);
      I32 out({cdfs.shape(0), n});
      {
        py::gil_scoped_release nogil;
        en::TableSet tables = cdf_tables(cdfs, lengths, offsets);
        en::decode_cdf(tables, static_cast<const uint8_t*>(info.ptr), size_t(info.size), size_t(n),
                       out.mutable_data(), threads);
      }
      return out;
    });
    m.def("pmf_to_cdf", [](F64 pmf, std::optional<F64> tail) {
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
    }, py::arg("pmf"), py::arg("tail") = py::none());
  }

  // --- context model (csrc/context) ---

  // --- integer entropy-parameter path (csrc/intpath) ---
}
