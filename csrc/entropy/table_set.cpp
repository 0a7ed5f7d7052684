#include "entropy/table_set.h"

#include <cmath>

#include "common/check.h"

namespace jpegai::entropy {

constexpr uint32_t kMaxBuckets = 4096;

void TableSet::add_table(const uint32_t* freqs, size_t n, int64_t min_value) {
  JPEGAI_CHECK(n >= 2 && n <= kProbTotal, "a coding table needs 2 .. 65536 symbols (escape included)");
  uint64_t total = 0;
  for (size_t s = 0; s < n; ++s) {
    JPEGAI_CHECK(freqs[s] >= 1, "every symbol frequency must be >= 1");
    total += freqs[s];
  }
  JPEGAI_CHECK(total == kProbTotal, "symbol frequencies must sum to 2^16");

  TableInfo ti;
  ti.min_value = min_value;
  ti.n_regular = uint32_t(n - 1);
  ti.bucket_base = uint32_t(bucket_.size());
  // 4-8 buckets per symbol (power of two; measured faster than 2-4 or 8-16): a slot then
  // rarely lies past the bucket's first symbol, and all Gaussian buckets together stay
  // ~200 KB, inside L2. Capped at 4096 (32 KB) per table so huge CDF tables stay bounded;
  // the cap is above what any Gaussian table needs.
  uint32_t n_buckets = 1;
  while (n_buckets < 4 * n && n_buckets < kMaxBuckets) n_buckets <<= 1;
  uint32_t shift = 0;
  while ((kProbTotal >> shift) > n_buckets) ++shift;
  ti.bucket_shift = shift;

  if (!dec_.empty()) dec_.pop_back();  // the sentinel moves behind the new table
  ti.sym_base = uint32_t(dec_.size());
  uint32_t start = 0;
  for (size_t s = 0; s < n; ++s) {
    enc_.push_back(make_enc_symbol(start, freqs[s]));
    dec_.push_back(start | (freqs[s] << 16));
    bits_.push_back(double(kPrecision) - std::log2(double(freqs[s])));
    start += freqs[s];
  }
  dec_.push_back(0xFFFFFFFFu);  // sentinel: the decoder may read one entry past a table
  size_t s = 0, cum_next = freqs[0];
  for (uint32_t b = 0; b < (kProbTotal >> shift); ++b) {
    uint32_t slot = b << shift;
    while (slot >= cum_next) cum_next += freqs[++s];
    bucket_.push_back((uint64_t(s) << 32) | (uint32_t(cum_next - freqs[s]) | (freqs[s] << 16)));
  }
  info_.push_back(ti);
}

}  // namespace jpegai::entropy
