// The core's two error types, so Python can tell a caller's mistake from a damaged stream:
//   InvalidArgument (JPEGAI_CHECK): a bad argument or table from the caller -> ValueError;
//   CorruptStream (JPEGAI_CHECK_STREAM): bytes that no encoder writes       -> jpegai_fast.DecodeError.
// The bindings map them (csrc/bindings.cpp); broken internal invariants are assert()s, not errors.
#pragma once
#include <stdexcept>
#include <string>

namespace jpegai {

struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct CorruptStream : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const std::string& msg) { throw InvalidArgument(msg); }
[[noreturn]] inline void fail_stream(const std::string& msg) { throw CorruptStream(msg); }

}  // namespace jpegai

#define JPEGAI_CHECK(cond, msg)       \
  do {                                \
    if (!(cond)) ::jpegai::fail(msg); \
  } while (0)

#define JPEGAI_CHECK_STREAM(cond, msg)       \
  do {                                       \
    if (!(cond)) ::jpegai::fail_stream(msg); \
  } while (0)
