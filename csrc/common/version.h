// Version of the C++ core; the Python package checks it matches at import.
#pragma once
namespace jpegai {
const char* core_version();
}
