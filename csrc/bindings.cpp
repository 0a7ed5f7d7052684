// The one binding file: every C++ concern is exposed to Python here, as jpegai_fast._core.
// Each section calls into its own folder under csrc/; no algorithm lives in this file.
#include <pybind11/pybind11.h>
#include <pybind11/numpy.h>

#include "common/version.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "jpegai_fast C++ core: entropy coding, context model, integer path, convolution";
  m.def("core_version", &jpegai::core_version);

  // --- entropy (csrc/entropy) ---

  // --- context model (csrc/context) ---

  // --- integer entropy-parameter path (csrc/intpath) ---
}
