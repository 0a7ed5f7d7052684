// Input validation: a failed check throws std::invalid_argument, which the bindings turn into
// a Python ValueError (bad arguments and corrupt streams are the caller's problem, never a crash).
#pragma once
#include <stdexcept>
#include <string>

namespace jpegai {

[[noreturn]] inline void fail(const std::string& msg) { throw std::invalid_argument(msg); }

}  // namespace jpegai

#define JPEGAI_CHECK(cond, msg)      \
  do {                               \
    if (!(cond)) ::jpegai::fail(msg); \
  } while (0)
