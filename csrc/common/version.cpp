#include "common/version.h"
namespace jpegai {
const char* core_version() { return "0.4.0"; }
}  // namespace jpegai
