#include "intpath/int16_quantise.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "intpath/int_conv.h"

namespace jpegai {
namespace intpath {
namespace {

double round_half_up(double x) { return std::floor(x + 0.5); }

}  // namespace

Int16Weights quantise_conv_int16(const double* weight, int cout, int cin, int kh, int kw, const double* bias,
                                 bool transposed, int sy, int sx, int frac_in, int frac_out) {
  if (cout <= 0 || cin <= 0 || kh <= 0 || kw <= 0 || sy <= 0 || sx <= 0)
    throw std::invalid_argument("quantise_conv_int16: shapes and strides must be positive");
  if (frac_in < 0 || frac_in > kInt16ShiftMax || frac_out < 0 || frac_out > kInt16ShiftMax)
    throw std::invalid_argument("quantise_conv_int16: fraction bits must be in [0, 30]");
  const int64_t per = int64_t(cin) * kh * kw;
  for (int64_t k = 0; k < per * cout; ++k)
    if (!std::isfinite(weight[k])) throw std::invalid_argument("weights contain NaN or infinity");
  if (bias)
    for (int oc = 0; oc < cout; ++oc)
      if (!std::isfinite(bias[oc])) throw std::invalid_argument("weights contain NaN or infinity");
  const int lowest = std::max(0, frac_out - frac_in);
  const int ry = transposed ? sy : 1, rx = transposed ? sx : 1;  // output phases (max_phase_l1)
  // taps of one output position: all for a convolution, ceil(kh / sy) ceil(kw / sx) per input channel for
  // a transposed one
  const double taps = transposed ? double((kh + sy - 1) / sy) * double((kw + sx - 1) / sx) * cin : double(per);
  const double lim = double(kInt16Limit), acc = double(kInt16AccLimit);
  Int16Weights out;
  out.weight_q.resize(size_t(per * cout));
  out.bias_q.resize(size_t(cout));
  out.shift.resize(size_t(cout));
  std::vector<double> q(static_cast<size_t>(per));
  for (int oc = 0; oc < cout; ++oc) {
    const double* w = weight + oc * per;
    const double b = bias ? bias[oc] : 0.0;
    double peak = 0.0;
    for (int64_t k = 0; k < per; ++k) peak = std::max(peak, std::fabs(w[k]));
    const double l1 = max_phase_l1<double>(w, cin, kh, kw, ry, rx);
    // The start: every larger s fails. round(peak 2^s) > kInt16Limit once peak 2^s >= kInt16Limit + 1/2; and
    // rounding moves each of a phase's n weights by at most 1/2, so phase_l1(w_q) >= l1 2^s - n/2, and every s
    // with l1 2^s > kInt16AccLimit / kInt16Limit + n/2 fails. One more than each floor(log2) covers log2's
    // rounding (a start above the answer costs an iteration, never the answer).
    // (in doubles until clamped: a denormal peak makes the quotient infinite)
    double start = kInt16ShiftMax;
    if (peak > 0) start = std::min(start, std::floor(std::log2((lim + 0.5) / peak)) + 1);
    if (l1 > 0) start = std::min(start, std::floor(std::log2((acc / lim + taps / 2) / l1)) + 1);
    int s = std::max(int(start), lowest);
    double bq = 0.0;
    for (;; --s) {
      const double scale = std::ldexp(1.0, s);
      double top = 0.0;
      for (int64_t k = 0; k < per; ++k) {
        q[size_t(k)] = round_half_up(w[k] * scale);
        top = std::max(top, std::fabs(q[size_t(k)]));
      }
      bq = round_half_up(b * std::ldexp(1.0, s + frac_in));
      if (top <= lim && max_phase_l1<double>(q.data(), cin, kh, kw, ry, rx) * lim + std::fabs(bq) <= acc) break;
      if (s <= lowest)
        throw std::invalid_argument("output channel " + std::to_string(oc) +
                                    ": weights too large for the int16 arithmetic");
    }
    for (int64_t k = 0; k < per; ++k) out.weight_q[size_t(oc * per + k)] = int32_t(q[size_t(k)]);
    out.bias_q[size_t(oc)] = int64_t(bq);
    out.shift[size_t(oc)] = s + frac_in - frac_out;
  }
  return out;
}

}  // namespace intpath
}  // namespace jpegai
