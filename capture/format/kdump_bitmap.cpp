#include "capture/format/kdump_bitmap.hpp"

#include "capture/format/kdump_header.hpp"

#include <algorithm>
#include <array>
#include <bit>

namespace coroner::kdump {
namespace {

// 1024 pfns per index entry: the index is 1/16 of the bitmap's size and a
// rank query adds at most 15 popcounts to the lookup.
constexpr uint64_t kWordsPerBlock = 16;
// Passes over the whole bitmap go 1 MiB at a time (a multiple of the block).
constexpr uint64_t kChunkWords = 128 * 1024;

}  // namespace

Expected<PageBitmap> PageBitmap::load(std::shared_ptr<const ByteSource> source, uint64_t offset, uint64_t bits,
                                      bool with_rank) {
  PageBitmap bitmap;
  uint64_t size = (bits + 7) / 8;
  bitmap.bits_ = bits;
  bitmap.offset_ = offset;
  bitmap.bytes_ = source->view(offset, size);
  if (bitmap.bytes_.size() != size) {
    bitmap.bytes_ = {};
    if (size != 0) {
      std::byte last{};
      CORONER_CHECK(source->read_at(offset + size - 1, std::span(&last, 1)));
    }
  }
  bitmap.whole_words_ = std::min(bits / 64, bitmap.bytes_.size() / 8);
  bitmap.source_ = std::move(source);
  if (with_rank) bitmap.index_ranks();
  return bitmap;
}

uint64_t PageBitmap::other_word(uint64_t index) const {
  uint64_t first_byte = index * 8, size = (bits_ + 7) / 8;
  if (first_byte >= size) return 0;
  std::array<std::byte, 8> raw{};
  uint64_t n = std::min<uint64_t>(8, size - first_byte);
  if (!bytes_.empty()) {
    std::copy_n(bytes_.data() + first_byte, n, raw.data());
  } else if (!source_->read_at(offset_ + first_byte, std::span(raw.data(), n))) {
    return 0;  // load() read the last byte: only an I/O error gets here, and no page is better than a wrong one
  }
  uint64_t value = load_le64(raw.data());
  uint64_t valid = bits_ - std::min(bits_, index * 64);
  if (valid < 64) value &= (uint64_t{1} << valid) - 1;
  return value;
}

template <typename Fn>
void PageBitmap::for_each_chunk(Fn fn) const {
  uint64_t words = (bits_ + 63) / 64;
  std::vector<uint64_t> chunk(std::min(words, kChunkWords));
  std::vector<std::byte> raw;
  for (uint64_t first = 0; first < words; first += chunk.size()) {
    uint64_t n = std::min<uint64_t>(chunk.size(), words - first);
    if (bytes_.empty() && (first + n) * 64 <= bits_) {
      // One read for the chunk instead of one a word.
      raw.resize(n * 8);
      if (source_->read_at(offset_ + first * 8, raw)) {
        for (uint64_t i = 0; i < n; ++i) chunk[i] = load_le64(raw.data() + i * 8);
      } else {
        std::fill_n(chunk.begin(), n, 0);
      }
    } else {
      for (uint64_t i = 0; i < n; ++i) chunk[i] = word(first + i);
    }
    fn(first, std::span<const uint64_t>(chunk.data(), n));
  }
}

// One pass over the bitmap, at memory speed where it is uniform: a
// terabyte machine's dump has a 32 MiB bitmap, nearly all of it words of
// excluded (0) or, in the first bitmap, present (~0) pages, which need no
// popcount (a library call where the CPU baseline lacks the instruction).
void PageBitmap::index_ranks() {
  block_rank_.reserve((bits_ + 63) / 64 / kWordsPerBlock + 1);
  uint64_t total = 0;
  for_each_chunk([&](uint64_t first, std::span<const uint64_t> words) {
    for (uint64_t i = 0; i < words.size(); ++i) {
      if ((first + i) % kWordsPerBlock == 0) block_rank_.push_back(total);
      uint64_t value = words[i];
      total += value == 0 ? 0 : value == ~uint64_t{0} ? 64 : std::popcount(value);
    }
  });
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
  bool open = false;
  uint64_t start = 0;
  for_each_chunk([&](uint64_t first, std::span<const uint64_t> words) {
    for (uint64_t i = 0; i < words.size(); ++i) {
      uint64_t value = words[i];
      // Whole words of one value need no per-bit walk.
      if ((value == 0 && !open) || (value == ~uint64_t{0} && open)) continue;
      for (unsigned bit = 0; bit < 64; ++bit) {
        bool set = value >> bit & 1;
        if (set != open) {
          uint64_t pfn = (first + i) * 64 + bit;
          if (set) start = pfn;
          else result.emplace_back(start, pfn);
          open = set;
        }
      }
    }
  });
  if (open) result.emplace_back(start, bits_);
  return result;
}

}  // namespace coroner::kdump
