// A set of coding tables (one per Gaussian scale, or one per channel for the CDF coder) in the
// layouts the hot loops want: encoder reciprocals, packed decoder entries and a per-table
// bucket index that maps the top bits of a slot to the first candidate symbol.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "entropy/rans.h"

namespace jpegai::entropy {

struct TableInfo {
  int64_t min_value;      // value coded by symbol 0 of this table
  uint32_t n_regular;     // regular symbols; symbol n_regular is the escape
  uint32_t sym_base;      // first entry in enc / dec / bits
  uint32_t bucket_base;   // first entry in bucket
  uint32_t bucket_shift;  // bucket = slot >> bucket_shift
};

class TableSet {
 public:
  // Adds a table from n_regular + 1 frequencies (escape last), each >= 1, summing to 2^16.
  // Throws std::invalid_argument otherwise.
  void add_table(const uint32_t* freqs, size_t n_with_escape, int64_t min_value);

  size_t size() const { return info_.size(); }
  const TableInfo& info(size_t t) const { return info_[t]; }
  const std::vector<TableInfo>& infos() const { return info_; }
  const EncSymbol* enc() const { return enc_.data(); }
  const uint32_t* dec() const { return dec_.data(); }  // start | freq << 16
  // Bucket entry: low 32 bits = dec entry of the first symbol the bucket's slots can decode
  // to, high 32 bits = that symbol's index within its table. One load resolves most slots.
  const uint64_t* bucket() const { return bucket_.data(); }
  const double* bits() const { return bits_.data(); }  // -log2(freq / 2^16)
  uint32_t freq(size_t t, size_t s) const { return dec_[info_[t].sym_base + s] >> 16; }

 private:
  std::vector<TableInfo> info_;
  std::vector<EncSymbol> enc_;
  std::vector<uint32_t> dec_;
  std::vector<uint64_t> bucket_;
  std::vector<double> bits_;
};

}  // namespace jpegai::entropy
