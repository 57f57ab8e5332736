#include "capture/filter/page_filter.hpp"

#include "capture/filter/free_lists.hpp"
#include "analyzer/os/linux/mem_map.hpp"
#include "capture/filter/page_flags.hpp"

#include <algorithm>
#include <bit>
#include <limits>

namespace coroner::capture {

uint64_t PfnBitmap::count() const {
  uint64_t total = 0;
  for (uint64_t word : bits_) total += std::popcount(word);
  return total;
}

namespace {

// Calls fn(word index, mask of the bits of [start, end) in that word).
template <typename Fn>
void for_each_word(uint64_t start, uint64_t end, Fn fn) {
  while (start < end) {
    uint64_t word = start / 64;
    unsigned low = start % 64;
    uint64_t bits = std::min<uint64_t>(end - start, 64 - low);
    uint64_t mask = bits == 64 ? ~uint64_t{0} : ((uint64_t{1} << bits) - 1) << low;
    fn(word, mask);
    start += bits;
  }
}

}  // namespace

void PfnBitmap::set_range(uint64_t start, uint64_t end) {
  for_each_word(start, std::min(end, max_pfn_), [&](uint64_t w, uint64_t mask) { bits_[w] |= mask; });
}

uint64_t PfnBitmap::clear_range(uint64_t start, uint64_t end) {
  uint64_t cleared = 0;
  for_each_word(start, std::min(end, max_pfn_), [&](uint64_t w, uint64_t mask) {
    cleared += std::popcount(bits_[w] & mask);
    bits_[w] &= ~mask;
  });
  return cleared;
}

namespace {

// Struct pages per read: a bounded buffer (256 KiB for 64-byte pages)
// whatever the section size. A power of two, so a compound head (aligned
// to its order) is never the last page of a chunk.
constexpr uint64_t kChunkPages = 4096;
// Bitmaps beyond this many pfns (16 TiB of 4K pages, a 512 MiB bitmap)
// are refused: a hostile range must not make us allocate without bound.
constexpr uint64_t kMaxPfns = uint64_t{1} << 32;

struct PfnRange {
  uint64_t start = 0, end = 0;
};

// Reads `count` struct pages at `vaddr`. Where one read fails, page by
// page, so that the readable struct pages around a hole are still judged;
// valid[i] says whether struct page i was read whole.
void read_struct_pages(const KernelMemory& memory, uint64_t vaddr, uint64_t count, uint64_t size,
                       std::vector<std::byte>& buffer, std::vector<uint8_t>& valid) {
  buffer.resize(count * size);
  valid.assign(count, 1);
  if (memory.read(vaddr, buffer)) return;
  uint64_t page = memory.arch().page_size();
  uint64_t base = vaddr & ~(page - 1);
  uint64_t end = vaddr + count * size;
  std::vector<uint8_t> piece_ok((end - base + page - 1) / page, 0);
  for (uint64_t i = 0; i < piece_ok.size(); ++i) {
    uint64_t from = std::max(vaddr, base + i * page);
    uint64_t to = std::min(end, base + (i + 1) * page);
    piece_ok[i] = memory.read(from, std::span(buffer).subspan(from - vaddr, to - from)).has_value();
  }
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t first = (vaddr + i * size - base) / page;
    uint64_t last = (vaddr + (i + 1) * size - 1 - base) / page;
    for (uint64_t p = first; p <= last; ++p) valid[i] &= piece_ok[p];
  }
}

class Classifier {
 public:
  Classifier(const KernelMemory& memory, const StructPageLayout& layout, unsigned level, FilterResult& result)
      : memory_(memory), layout_(layout), level_(level), result_(result) {}

  // Judges pfns [from, to) of `span`, resuming after the last excluded
  // block. Within one span an exclusion skips the pages it covered (as
  // makedumpfile does); the next span examines its pages afresh.
  void walk(const MemMapSpan& span, uint64_t from, uint64_t to) {
    if (span.pfn_start != span_start_) {
      span_start_ = span.pfn_start;
      next_ = span.pfn_start;
    }
    uint64_t pfn = std::max(from, next_);
    uint64_t size = layout_.size();
    while (pfn < to) {
      uint64_t chunk_end = std::min(to, span.pfn_start + ((pfn - span.pfn_start) / kChunkPages + 1) * kChunkPages);
      // One more struct page: a head's first tail holds its order.
      uint64_t read_end = std::min(chunk_end + 1, span.pfn_end);
      read_struct_pages(memory_, span.mem_map + (pfn - span.pfn_start) * size, read_end - pfn, size, buffer_, valid_);
      uint64_t first = pfn;
      while (pfn < chunk_end) {
        uint64_t i = pfn - first;
        if (!valid_[i]) {
          ++result_.unreadable;
          ++pfn;
          continue;
        }
        const std::byte* next = i + 1 < valid_.size() && valid_[i + 1] ? &buffer_[(i + 1) * size] : nullptr;
        PageVerdict verdict = layout_.judge(pfn, &buffer_[i * size], next, level_);
        if (verdict.kind == PageKind::keep || verdict.kind == PageKind::tail) {
          ++pfn;
          continue;
        }
        uint64_t end = pfn + std::min(verdict.nr_pages, std::numeric_limits<uint64_t>::max() - pfn);
        count(verdict.kind, result_.keep.clear_range(pfn, end));
        pfn = end;
      }
    }
    next_ = std::max(next_, pfn);
  }

 private:
  void count(PageKind kind, uint64_t pages) {
    FilterStats& s = result_.stats;
    switch (kind) {
      case PageKind::free: s.free += pages; break;
      case PageKind::cache: s.cache += pages; break;
      case PageKind::cache_private: s.cache_private += pages; break;
      case PageKind::user: s.user += pages; break;
      case PageKind::hwpoison: s.hwpoison += pages; break;
      case PageKind::offline: s.offline += pages; break;
      case PageKind::keep:
      case PageKind::tail: break;
    }
  }

  const KernelMemory& memory_;
  const StructPageLayout& layout_;
  unsigned level_;
  FilterResult& result_;
  uint64_t span_start_ = std::numeric_limits<uint64_t>::max();
  uint64_t next_ = 0;
  std::vector<std::byte> buffer_;
  std::vector<uint8_t> valid_;
};

// The pfns whose first byte lies in a RAM range (makedumpfile's
// is_in_segs), sorted and merged.
std::vector<PfnRange> ram_pfns(const std::vector<PhysRange>& ranges, uint64_t page_size) {
  std::vector<PfnRange> pfns;
  for (const PhysRange& r : ranges) {
    if (r.size == 0 || r.end() < r.start) continue;
    PfnRange p{(r.start + page_size - 1) / page_size, r.end() / page_size + (r.end() % page_size != 0)};
    if (p.start >= p.end) continue;
    if (!pfns.empty() && p.start <= pfns.back().end)
      pfns.back().end = std::max(pfns.back().end, p.end);
    else
      pfns.push_back(p);
  }
  return pfns;
}

}  // namespace

Expected<FilterResult> classify_pages(const Dump& dump, const VmcoreInfo& info, const KernelMemory& memory,
                                      unsigned dump_level) {
  if (dump_level > 31) return make_error(Errc::invalid_argument, "dump level {} is not in 0..31", dump_level);
  uint64_t page_size = dump.page_size();
  if (page_size == 0) page_size = info.page_size().value_or(memory.arch().page_size());
  if (page_size < 1024 || !std::has_single_bit(page_size))
    return make_error(Errc::corrupt, "page size {} is not a power of two of at least 1 KiB", page_size);

  std::vector<PhysRange> ranges = dump.ranges();
  std::sort(ranges.begin(), ranges.end(), [](const PhysRange& a, const PhysRange& b) { return a.start < b.start; });
  std::vector<PfnRange> pfns = ram_pfns(ranges, page_size);
  uint64_t max_pfn = pfns.empty() ? 0 : pfns.back().end;
  if (max_pfn > kMaxPfns)
    return make_error(Errc::corrupt, "{}: RAM range ends at physical {:#x}, beyond any supported machine",
                      dump.files().empty() ? std::string("dump") : dump.files().front(), max_pfn * page_size);

  FilterResult result;
  result.keep = PfnBitmap(max_pfn);
  for (const PfnRange& p : pfns) result.keep.set_range(p.start, p.end);
  result.stats.total = result.keep.count();
  result.stats.kept = result.stats.total;
  if ((dump_level & (kExcludeCache | kExcludeCachePrivate | kExcludeUser | kExcludeFree)) == 0) return result;

  CORONER_TRY(layout, StructPageLayout::from_vmcoreinfo(info, dump_level));
  CORONER_TRY(locator, MemMapLocator::create(info, memory, page_size, layout.size()));
  if (auto attached = locator.attach(ranges, page_size); !attached) {
    result.warning = attached.error().message() + "; keeping every page";
    result.unreadable = result.stats.total;
    return result;
  }
  result.memory_model = std::string(locator.model_name());

  Classifier classifier(memory, layout, dump_level, result);
  std::vector<MemMapSpan> spans;  // of RAM, for the free lists
  for (const PfnRange& range : pfns) {
    uint64_t pfn = range.start;
    while (pfn < range.end) {
      auto span = locator.span_of(pfn);
      if (!span) {
        // No struct page here: keep the pages up to the next section.
        uint64_t step = locator.span_pages() - pfn % locator.span_pages();
        uint64_t end = std::min(range.end, pfn + std::min(step, range.end - pfn));
        result.unreadable += end - pfn;
        pfn = end;
        continue;
      }
      uint64_t end = std::min(range.end, span->pfn_end);
      if (spans.empty() || spans.back().pfn_start != span->pfn_start) spans.push_back(*span);
      classifier.walk(*span, pfn, end);
      pfn = end;
    }
  }
  if ((dump_level & kExcludeFree) && !layout.knows_buddy()) {
    // Before 2.6.38 free pages are known only from the zones' free lists.
    auto walked = walk_free_lists(info, memory, std::move(spans), layout.size(), result.stats.total,
                                  [&](uint64_t pfn, unsigned order) {
                                    result.stats.free += result.keep.clear_range(pfn, pfn + (uint64_t{1} << order));
                                  });
    if (!walked) result.warning = walked.error().message() + "; free pages from there on kept";
  }
  result.stats.kept = result.keep.count();
  return result;
}

}  // namespace coroner::capture
