#include "entropy/coder.h"

#include <cstring>
#include <string>

#include "common/byte_io.h"
#include "common/check.h"
#include "common/parallel.h"
#include "entropy/gaussian_tables.h"

namespace jpegai::entropy {
namespace {

struct IndexSelector {
  const uint8_t* indexes;
  uint32_t operator()(size_t i) const { return indexes[i]; }
};

// channel = i / n without a per-symbol integer division: a floating-point estimate (off by at
// most one for any realistic i) corrected exactly with integer arithmetic.
struct ChannelSelector {
  size_t n;  // symbols per channel (> 0)
  double inv_n;
  explicit ChannelSelector(size_t n_) : n(n_), inv_n(1.0 / double(n_)) {}
  uint32_t operator()(size_t i) const {
    size_t c = size_t(double(i) * inv_n);
    if (c * n > i)
      --c;
    else if ((c + 1) * n <= i)
      ++c;
    return uint32_t(c);
  }
};

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the word reader assumes a little-endian host");

size_t chunk_count(size_t n) { return (n + kChunkMaxSymbols - 1) / kChunkMaxSymbols; }

// The last payload's length is implied by the stream's, so the table stores all but that one.
size_t size_table_entries(size_t n_sub) { return n_sub ? n_sub - 1 : 0; }

// Chunk k covers [floor(k n / n_sub), floor((k + 1) n / n_sub)): near-equal sizes, so the
// threads stay balanced, and a function of n alone, so the bytes never depend on threads.
size_t chunk_begin(size_t k, size_t n, size_t n_sub) {
  return size_t(uint64_t((u128(uint64_t(k)) * u128(uint64_t(n))) / u128(uint64_t(n_sub))));
}

template <class Selector>
EncodedStream encode_all(const TableSet& tables, const int32_t* symbols, size_t n, const Selector& sel, int threads) {
  const size_t n_sub = chunk_count(n);
  EncodedStream stream(n_sub);
  parallel_for(n_sub, resolve_threads(threads), [&](size_t k) {
    size_t begin = chunk_begin(k, n, n_sub);
    size_t count = chunk_begin(k + 1, n, n_sub) - begin;
    if (lanes_for(count) == kLanes)
      encode_chunk<kLanes>(tables, symbols, sel, begin, count, stream.part(k));
    else
      encode_chunk<1>(tables, symbols, sel, begin, count, stream.part(k));
    JPEGAI_CHECK(stream.part(k).size <= UINT32_MAX, "chunk too large");
  });
  return stream;
}

// Where each chunk payload of a stream of n symbols starts (n_sub + 1 entries, the last = len),
// after checking the size table: every payload lies inside the data.
std::vector<size_t> chunk_offsets(const uint8_t* data, size_t len, size_t n) {
  const size_t n_sub = chunk_count(n);
  const size_t n_sizes = size_table_entries(n_sub);
  JPEGAI_CHECK_STREAM(n_sub > 0 || len == 0, "corrupt stream: data for zero symbols");
  JPEGAI_CHECK_STREAM(len / 4 >= n_sizes, "corrupt stream: shorter than its chunk table");
  std::vector<size_t> offset(n_sub + 1);
  offset[0] = 4 * n_sizes;
  for (size_t k = 0; k < n_sizes; ++k) {
    size_t size = load_le32(data + 4 * k);
    JPEGAI_CHECK_STREAM(size <= len - offset[k], "corrupt stream: chunk length past the end");
    offset[k + 1] = offset[k] + size;
  }
  offset[n_sub] = len;  // the last payload runs to the end of the stream
  return offset;
}

[[noreturn]] void chunk_fails(size_t k) {
  fail_stream("corrupt stream: chunk " + std::to_string(k) + " does not decode");
}

template <class Selector>
void decode_all(const TableSet& tables, const uint8_t* data, size_t len, size_t n, const Selector& sel, int32_t* out,
                int threads) {
  const size_t n_sub = chunk_count(n);
  // Validate the whole table before any decoding: every payload must lie inside the data.
  const std::vector<size_t> offset = chunk_offsets(data, len, n);
  parallel_for(n_sub, resolve_threads(threads), [&](size_t k) {
    size_t begin = chunk_begin(k, n, n_sub);
    size_t count = chunk_begin(k + 1, n, n_sub) - begin;
    const uint8_t* part = data + offset[k];
    const size_t part_len = offset[k + 1] - offset[k];
    bool ok = lanes_for(count) == kLanes ? decode_chunk<kLanes>(tables, part, part_len, sel, begin, count, out)
                                         : decode_chunk<1>(tables, part, part_len, sel, begin, count, out);
    if (!ok) chunk_fails(k);
  });
}

void check_indexes(const uint8_t* indexes, size_t n) {
  uint8_t worst = 0;
  for (size_t i = 0; i < n; ++i) worst = indexes[i] > worst ? indexes[i] : worst;
  JPEGAI_CHECK(n == 0 || worst < kNumScales, "scale index out of range (must be < 76)");
}

}  // namespace

void check_layout(const uint8_t* data, size_t len, size_t n) {
  const size_t n_sub = chunk_count(n);
  const std::vector<size_t> offset = chunk_offsets(data, len, n);
  for (size_t k = 0; k < n_sub; ++k) {
    const size_t count = chunk_begin(k + 1, n, n_sub) - chunk_begin(k, n, n_sub);
    if (!chunk_header_ok(data + offset[k], offset[k + 1] - offset[k], lanes_for(count))) chunk_fails(k);
  }
}

size_t EncodedStream::size() const {
  size_t total = 4 * size_table_entries(parts_.size());
  for (const auto& p : parts_) total += p.size;
  return total;
}

void EncodedStream::write_to(uint8_t* dst) const {
  const size_t n_sizes = size_table_entries(parts_.size());
  uint8_t* o = dst + 4 * n_sizes;
  for (size_t k = 0; k < parts_.size(); ++k) {
    if (k < n_sizes) store_le32(dst + 4 * k, uint32_t(parts_[k].size));
    if (parts_[k].size) std::memcpy(o, parts_[k].data.get(), parts_[k].size);
    o += parts_[k].size;
  }
}

std::vector<uint8_t> EncodedStream::to_vector() const {
  std::vector<uint8_t> out(size());
  if (!out.empty()) write_to(out.data());
  return out;
}

EncodedStream encode_gaussian(const int32_t* symbols, const uint8_t* indexes, size_t n, int threads) {
  check_indexes(indexes, n);
  return encode_all(gaussian_tables(), symbols, n, IndexSelector{indexes}, threads);
}

void decode_gaussian(const uint8_t* data, size_t len, const uint8_t* indexes, size_t n, int32_t* out, int threads) {
  check_indexes(indexes, n);
  decode_all(gaussian_tables(), data, len, n, IndexSelector{indexes}, out, threads);
}

double gaussian_bits(const int32_t* symbols, const uint8_t* indexes, size_t n) {
  check_indexes(indexes, n);
  const TableSet& t = gaussian_tables();
  const double* bits = t.bits();
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const TableInfo& ti = t.info(indexes[i]);
    int64_t local = int64_t(symbols[i]) - ti.min_value;
    if (uint64_t(local) < ti.n_regular) {
      total += bits[ti.sym_base + size_t(local)];
    } else {
      total += bits[ti.sym_base + ti.n_regular] + escape_extra_bits(make_escape(local, ti.n_regular));
    }
  }
  return total;
}

TableSet build_cdf_tables(const int32_t* cdfs, size_t channels, size_t stride, const int32_t* lengths,
                          const int32_t* offsets) {
  TableSet set;
  std::vector<uint32_t> freq;
  for (size_t c = 0; c < channels; ++c) {
    const int32_t* cdf = cdfs + c * stride;
    int32_t len = lengths[c];
    JPEGAI_CHECK(len >= 3 && size_t(len) <= stride,
                 "cdf length of channel " + std::to_string(c) + " must be in [3, cdfs.shape[1]]");
    JPEGAI_CHECK(cdf[0] == 0 && cdf[len - 1] == int32_t(kProbTotal),
                 "cdf of channel " + std::to_string(c) + " must start at 0 and end at 2^16");
    freq.resize(size_t(len - 1));
    for (int32_t s = 0; s + 1 < len; ++s) {
      JPEGAI_CHECK(cdf[s + 1] > cdf[s], "cdf of channel " + std::to_string(c) + " must be strictly increasing");
      freq[size_t(s)] = uint32_t(cdf[s + 1] - cdf[s]);
    }
    set.add_table(freq.data(), freq.size(), offsets[c]);
  }
  return set;
}

EncodedStream encode_cdf(const TableSet& tables, const int32_t* symbols, size_t n, int threads) {
  const size_t total = n * tables.size();
  if (total == 0) return EncodedStream(0);
  return encode_all(tables, symbols, total, ChannelSelector(n), threads);
}

void decode_cdf(const TableSet& tables, const uint8_t* data, size_t len, size_t n, int32_t* out, int threads) {
  const size_t total = n * tables.size();
  if (total == 0) {
    JPEGAI_CHECK_STREAM(len == 0, "corrupt stream: data for zero symbols");
    return;
  }
  decode_all(tables, data, len, total, ChannelSelector(n), out, threads);
}

}  // namespace jpegai::entropy
