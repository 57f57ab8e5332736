// One page bitmap of a kdump-compressed file (pfn N is bit N % 8 of byte
// N / 8), read in place, with a rank index so that finding a page's descriptor (the number
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

  // The bitmap of `bits` pages at [offset, offset + ceil(bits / 8)) of
  // `source`: a view into it when the source is mapped, else read from it
  // word by word (a flattened stream, whose bitmap is in many records: no
  // copy, which for a terabyte machine would be 32 MiB). Errors if the
  // range is not inside the source. Without with_rank there is no rank
  // index (one pass less over the bitmap) and rank() must not be called.
  static Expected<PageBitmap> load(std::shared_ptr<const ByteSource> source, uint64_t offset, uint64_t bits,
                                   bool with_rank = true);

  uint64_t bits() const { return bits_; }
  // False for pfns at or beyond bits().
  bool test(uint64_t pfn) const { return pfn < bits_ && (word(pfn / 64) >> (pfn % 64) & 1); }
  // The number of set bits in [0, pfn); pfn is clamped to bits().
  uint64_t rank(uint64_t pfn) const;
  // Maximal runs [first, end) of set bits, in order.
  std::vector<std::pair<uint64_t, uint64_t>> runs() const;

 private:
  // 64 pfns starting at word * 64, bits at or beyond bits() cleared.
  uint64_t word(uint64_t index) const {
    return index < whole_words_ ? load_le64(bytes_.data() + index * 8) : other_word(index);
  }
  // word() where there is no view, and of the last, partly valid word.
  uint64_t other_word(uint64_t index) const;
  // Calls fn(first word index, words) over the whole bitmap, a chunk at a time.
  template <typename Fn>
  void for_each_chunk(Fn fn) const;
  void index_ranks();

  std::shared_ptr<const ByteSource> source_;
  uint64_t offset_ = 0;
  std::span<const std::byte> bytes_;  // the view, when the source is mapped
  uint64_t bits_ = 0;
  uint64_t whole_words_ = 0;  // words wholly inside bytes_ and bits_
  std::vector<uint64_t> block_rank_;  // set bits before each block of kWordsPerBlock words
};

}  // namespace coroner::kdump
