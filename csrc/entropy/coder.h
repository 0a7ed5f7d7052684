// Entry points of the entropy coder (raw pointers; the bindings wrap them for numpy).
//
// Stream = n_sub - 1 little-endian uint32 payload lengths (the last one is implied by the stream
// length), then the n_sub chunk payloads, with
// n_sub = ceil(n / 2^18), chunk k holding symbols [floor(k n / n_sub), floor((k+1) n / n_sub)):
// the split depends only on the symbol count, so the bytes are identical for every thread
// count. n = 0 gives an empty stream.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "entropy/chunk_coder.h"
#include "entropy/table_set.h"

namespace jpegai::entropy {

// An encoded stream kept as its chunk payloads, so the caller can write it once into
// memory it owns (a Python bytes object) instead of copying through an intermediate buffer.
class EncodedStream {
 public:
  explicit EncodedStream(size_t n_sub) : parts_(n_sub) {}
  EncodedPart& part(size_t k) { return parts_[k]; }
  size_t size() const;                // total stream bytes
  void write_to(uint8_t* dst) const;  // writes size() bytes
  std::vector<uint8_t> to_vector() const;

 private:
  std::vector<EncodedPart> parts_;
};

// The checks of a stream of n symbols (either coder) that need no table: its chunk size table, and
// each chunk's lane states and word alignment (chunk_header_ok). Throws CorruptStream with the message
// decoding would give. O(chunks): the decoder runs it on every substream before any entropy decoding.
void check_layout(const uint8_t* data, size_t len, size_t n);

// Gaussian conditional: symbols[i] coded with table indexes[i] (< kNumScales).
EncodedStream encode_gaussian(const int32_t* symbols, const uint8_t* indexes, size_t n, int threads);
// Throws std::invalid_argument on a corrupt or mismatched stream.
void decode_gaussian(const uint8_t* data, size_t len, const uint8_t* indexes, size_t n, int32_t* out, int threads);
// Ideal information content in bits under the quantised tables, escapes included.
double gaussian_bits(const int32_t* symbols, const uint8_t* indexes, size_t n);

// Per-channel CDF tables: row c of cdfs (stride entries) holds lengths[c] CDF values
// (0 = cdf[0] < ... < cdf[lengths[c] - 1] = 2^16, lengths[c] >= 3: the last symbol is the
// escape); symbol value v of channel c is coded as v - offsets[c].
TableSet build_cdf_tables(const int32_t* cdfs, size_t channels, size_t stride, const int32_t* lengths,
                          const int32_t* offsets);
// symbols: channels x n, row-major; channel c uses table c.
EncodedStream encode_cdf(const TableSet& tables, const int32_t* symbols, size_t n, int threads);
void decode_cdf(const TableSet& tables, const uint8_t* data, size_t len, size_t n, int32_t* out, int threads);

}  // namespace jpegai::entropy
