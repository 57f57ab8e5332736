#include "capture/format/kdump_bitmap.hpp"

#include "capture/format/kdump_header.hpp"

#include <algorithm>
#include <bit>

namespace coroner::kdump {
namespace {

// 1024 pfns per index entry: the index is 1/16 of the bitmap's size and a
// rank query adds at most 15 popcounts to the lookup.
constexpr uint64_t kWordsPerBlock = 16;

}  // namespace

Expected<PageBitmap> PageBitmap::load(std::shared_ptr<const ByteSource> source, uint64_t offset, uint64_t bits,
                                      bool with_rank) {
  PageBitmap bitmap;
  uint64_t size = (bits + 7) / 8;
  bitmap.bits_ = bits;
  bitmap.bytes_ = source->view(offset, size);
  if (bitmap.bytes_.size() == size && size != 0) {
    bitmap.source_ = std::move(source);
  } else {
    // Not zeroed first: a terabyte machine's bitmap is 32 MiB.
    bitmap.owned_ = std::make_unique_for_overwrite<std::byte[]>(size);
    std::span<std::byte> copy(bitmap.owned_.get(), size);
    CORONER_CHECK(source->read_at(offset, copy));
    bitmap.bytes_ = copy;
  }
  bitmap.whole_words_ = std::min(bits / 64, size / 8);
  if (with_rank) bitmap.index_ranks();
  return bitmap;
}

// One pass over the bitmap, at memory speed where it is uniform: a
// terabyte machine's dump has a 32 MiB bitmap, nearly all of it words of
// excluded (0) or, in the first bitmap, present (~0) pages, which need no
// popcount (a library call where the CPU baseline lacks the instruction).
void PageBitmap::index_ranks() {
  uint64_t words = (bits_ + 63) / 64;
  block_rank_.reserve(words / kWordsPerBlock + 1);
  uint64_t total = 0;
  for (uint64_t w = 0; w < words; ++w) {
    if (w % kWordsPerBlock == 0) block_rank_.push_back(total);
    uint64_t value = word(w);
    total += value == 0 ? 0 : value == ~uint64_t{0} ? 64 : std::popcount(value);
  }
}

uint64_t PageBitmap::edge_word(uint64_t index) const {
  uint64_t first_byte = index * 8;
  uint64_t value;
  if (first_byte + 8 <= bytes_.size()) {
    value = load_le64(bytes_.data() + first_byte);
  } else {
    value = 0;
    for (uint64_t i = first_byte; i < bytes_.size(); ++i)
      value |= static_cast<uint64_t>(bytes_[i]) << (8 * (i - first_byte));
  }
  uint64_t valid = bits_ - std::min(bits_, index * 64);
  if (valid < 64) value &= (uint64_t{1} << valid) - 1;
  return value;
}

uint64_t PageBitmap::rank(uint64_t pfn) const {
  pfn = std::min(pfn, bits_);
  uint64_t word_index = pfn / 64;
  uint64_t block = word_index / kWordsPerBlock;
  if (block >= block_rank_.size()) {
    // pfn == bits_ at a block boundary: the total lies past the last entry.
    if (block_rank_.empty()) return 0;
    block = block_rank_.size() - 1;
  }
  uint64_t count = block_rank_[block];
  for (uint64_t w = block * kWordsPerBlock; w < word_index; ++w) count += std::popcount(word(w));
  if (pfn % 64) count += std::popcount(word(word_index) & ((uint64_t{1} << (pfn % 64)) - 1));
  return count;
}

std::vector<std::pair<uint64_t, uint64_t>> PageBitmap::runs() const {
  std::vector<std::pair<uint64_t, uint64_t>> result;
  uint64_t words = (bits_ + 63) / 64;
  bool open = false;
  uint64_t start = 0;
  for (uint64_t w = 0; w < words; ++w) {
    uint64_t value = word(w);
    // Whole words of one value need no per-bit walk.
    if ((value == 0 && !open) || (value == ~uint64_t{0} && open)) continue;
    for (unsigned bit = 0; bit < 64; ++bit) {
      bool set = value >> bit & 1;
      if (set != open) {
        uint64_t pfn = w * 64 + bit;
        if (set) start = pfn;
        else result.emplace_back(start, pfn);
        open = set;
      }
    }
  }
  if (open) result.emplace_back(start, bits_);
  return result;
}

}  // namespace coroner::kdump
