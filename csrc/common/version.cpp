#include "common/version.h"
namespace jpegai {
const char* core_version() { return "0.3.0"; }
}  // namespace jpegai
