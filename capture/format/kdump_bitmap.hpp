// One page bitmap of a kdump-compressed file (pfn N is bit N % 8 of byte
// N / 8), with a rank index so that finding a page's descriptor (the number
// of set bits before it) costs a table lookup and a few popcounts instead of
// a scan of the bitmap.
#pragma once

#include "capture/format/byte_order.hpp"
#include "capture/format/byte_source.hpp"
#include "capture/format/error.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace coroner::kdump {

class PageBitmap {
 public:
  PageBitmap() = default;

  // Reads the bitmap of `bits` pages at [offset, offset + ceil(bits / 8)) of
  // `source`: a view into it when the source is mapped, else a copy (the
  // caller has checked the range lies inside the source). Without
  // with_rank there is no rank index (one pass less over the bitmap) and
  // rank() must not be called.
  static Expected<PageBitmap> load(std::shared_ptr<const ByteSource> source, uint64_t offset, uint64_t bits,
                                   bool with_rank = true);

  uint64_t bits() const { return bits_; }
  // False for pfns at or beyond bits().
  bool test(uint64_t pfn) const {
    return pfn < bits_ && (static_cast<unsigned>(bytes_[pfn / 8]) >> (pfn % 8) & 1);
  }
  // The number of set bits in [0, pfn); pfn is clamped to bits().
  uint64_t rank(uint64_t pfn) const;
  // Maximal runs [first, end) of set bits, in order.
  std::vector<std::pair<uint64_t, uint64_t>> runs() const;
  // The raw bytes, for comparing the bitmaps of split parts.
  std::span<const std::byte> bytes() const { return bytes_; }

 private:
  // 64 pfns starting at word * 64, bits at or beyond bits() cleared.
  uint64_t word(uint64_t index) const {
    return index < whole_words_ ? load_le64(bytes_.data() + index * 8) : edge_word(index);
  }
  // word() of the last, partly valid or partly present, word and beyond.
  uint64_t edge_word(uint64_t index) const;
  void index_ranks();

  std::shared_ptr<const ByteSource> source_;  // keeps a mapped view alive
  std::unique_ptr<std::byte[]> owned_;  // a copy when the source has no view
  std::span<const std::byte> bytes_;
  uint64_t bits_ = 0;
  uint64_t whole_words_ = 0;  // words wholly inside bytes_ and bits_
  std::vector<uint64_t> block_rank_;  // set bits before each block of kWordsPerBlock words
};

}  // namespace coroner::kdump
