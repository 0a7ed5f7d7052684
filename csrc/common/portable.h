// Portable wrappers for the few compiler extensions the core uses, so MSVC and Apple clang build it too.
//
//  * u128: unsigned 128-bit integers. GCC and Clang on 64-bit targets have unsigned __int128; elsewhere
//    (MSVC) an exact emulation on two 64-bit halves with the operators the core needs. Defining
//    JPEGAI_PORTABLE_U128 forces the emulation on GCC/Clang too, which is how it is tested
//    (scripts/portable_build_test.sh: the coder tests, whose table hash is pinned, pass with it).
//  * floor_log2_u64, mulhi64: count-leading-zeros and the high half of a 64x64 product.
//  * JPEGAI_LIKELY / JPEGAI_UNLIKELY / JPEGAI_ALWAYS_INLINE: branch hints and forced inlining, no-ops
//    where the compiler has none.
#pragma once
#include <cstdint>
#include <type_traits>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define JPEGAI_LIKELY(x) __builtin_expect(!!(x), 1)
#define JPEGAI_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define JPEGAI_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define JPEGAI_LIKELY(x) (x)
#define JPEGAI_UNLIKELY(x) (x)
#define JPEGAI_ALWAYS_INLINE __forceinline
#else
#define JPEGAI_LIKELY(x) (x)
#define JPEGAI_UNLIKELY(x) (x)
#define JPEGAI_ALWAYS_INLINE inline
#endif

namespace jpegai {

#if defined(__SIZEOF_INT128__) && !defined(JPEGAI_PORTABLE_U128)
using u128 = unsigned __int128;
#else
// Exact unsigned 128-bit arithmetic on two halves (modulo 2^128, like unsigned __int128).
class u128 {
 public:
  constexpr u128() : hi_(0), lo_(0) {}
  // From any integer, implicitly and sign-extended, like the built-in type.
  template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  constexpr u128(T v)  // NOLINT
      : hi_(std::is_signed_v<T> && v < 0 ? ~uint64_t(0) : 0), lo_(uint64_t(int64_t(v))) {}
  static constexpr u128 from_halves(uint64_t hi, uint64_t lo) { return u128(hi, lo, 0); }
  constexpr uint64_t hi() const { return hi_; }
  constexpr uint64_t lo() const { return lo_; }
  explicit constexpr operator uint64_t() const { return lo_; }
  explicit constexpr operator uint32_t() const { return uint32_t(lo_); }
  explicit constexpr operator int64_t() const { return int64_t(lo_); }
  explicit constexpr operator double() const { return double(hi_) * 18446744073709551616.0 + double(lo_); }
  explicit constexpr operator bool() const { return (hi_ | lo_) != 0; }

  friend constexpr u128 operator+(u128 a, u128 b) {
    const uint64_t lo = a.lo_ + b.lo_;
    return u128(a.hi_ + b.hi_ + (lo < a.lo_), lo, 0);
  }
  friend constexpr u128 operator-(u128 a, u128 b) { return u128(a.hi_ - b.hi_ - (a.lo_ < b.lo_), a.lo_ - b.lo_, 0); }
  friend u128 operator*(u128 a, u128 b) {
    const uint64_t hi = mul_hi(a.lo_, b.lo_) + a.hi_ * b.lo_ + a.lo_ * b.hi_;
    return u128(hi, a.lo_ * b.lo_, 0);
  }
  friend constexpr u128 operator<<(u128 a, int s) {
    return s == 0     ? a
           : s >= 128 ? u128()
           : s >= 64  ? u128(a.lo_ << (s - 64), 0, 0)
                      : u128((a.hi_ << s) | (a.lo_ >> (64 - s)), a.lo_ << s, 0);
  }
  friend constexpr u128 operator>>(u128 a, int s) {
    return s == 0     ? a
           : s >= 128 ? u128()
           : s >= 64  ? u128(0, a.hi_ >> (s - 64), 0)
                      : u128(a.hi_ >> s, (a.lo_ >> s) | (a.hi_ << (64 - s)), 0);
  }
  friend u128 operator/(u128 a, u128 b) { return divmod(a, b, nullptr); }
  friend u128 operator%(u128 a, u128 b) {
    u128 r;
    divmod(a, b, &r);
    return r;
  }
  friend constexpr bool operator==(u128 a, u128 b) { return a.hi_ == b.hi_ && a.lo_ == b.lo_; }
  friend constexpr bool operator!=(u128 a, u128 b) { return !(a == b); }
  friend constexpr bool operator<(u128 a, u128 b) { return a.hi_ < b.hi_ || (a.hi_ == b.hi_ && a.lo_ < b.lo_); }
  friend constexpr bool operator>(u128 a, u128 b) { return b < a; }
  friend constexpr bool operator<=(u128 a, u128 b) { return !(b < a); }
  friend constexpr bool operator>=(u128 a, u128 b) { return !(a < b); }
  u128& operator+=(u128 b) { return *this = *this + b; }
  u128& operator-=(u128 b) { return *this = *this - b; }
  u128& operator*=(u128 b) { return *this = *this * b; }
  u128& operator/=(u128 b) { return *this = *this / b; }
  u128& operator<<=(int s) { return *this = *this << s; }
  u128& operator>>=(int s) { return *this = *this >> s; }

  static uint64_t mul_hi(uint64_t a, uint64_t b) {
    const uint64_t a0 = uint32_t(a), a1 = a >> 32, b0 = uint32_t(b), b1 = b >> 32;
    const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const uint64_t mid = (p00 >> 32) + uint32_t(p01) + uint32_t(p10);
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  }

 private:
  constexpr u128(uint64_t hi, uint64_t lo, int) : hi_(hi), lo_(lo) {}
  // Shift-subtract long division; the core divides 128-bit values only while building tables.
  static u128 divmod(u128 a, u128 b, u128* rem) {
    u128 q, r;
    if (b == u128()) return q;  // like the hardware trap's absence: callers never divide by 0
    for (int i = 127; i >= 0; --i) {
      r = (r << 1) + ((a >> i).lo_ & 1);
      if (r >= b) {
        r -= b;
        q = q + (u128(1) << i);
      }
    }
    if (rem) *rem = r;
    return q;
  }
  uint64_t hi_, lo_;
};
#endif

// High 64 bits of the 128-bit product a * b.
inline uint64_t mulhi64(uint64_t a, uint64_t b) {
#if defined(__SIZEOF_INT128__) && !defined(JPEGAI_PORTABLE_U128)
  return uint64_t((static_cast<unsigned __int128>(a) * b) >> 64);
#elif defined(_MSC_VER) && defined(_M_X64) && !defined(JPEGAI_PORTABLE_U128)
  return __umulh(a, b);
#else
  return u128::mul_hi(a, b);
#endif
}

// floor(log2(v)) for v != 0: the index of the highest set bit.
inline int floor_log2_u64(uint64_t v) {
#if defined(__GNUC__) || defined(__clang__)
  return 63 - __builtin_clzll(v);
#elif defined(_MSC_VER) && defined(_M_X64)
  unsigned long i;
  _BitScanReverse64(&i, v);
  return int(i);
#else
  int r = 0;
  while (v >>= 1) ++r;
  return r;
#endif
}

}  // namespace jpegai
