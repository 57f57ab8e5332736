#include "capture/filter/page_filter.hpp"

#include "capture/filter/free_lists.hpp"
#include "analyzer/os/linux/mem_map.hpp"
#include "capture/filter/page_flags.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <optional>

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
  start = std::max(start, first_pfn_);
  end = std::min(end, max_pfn_);
  if (start >= end) return;
  for_each_word(start - first_pfn_, end - first_pfn_, [&](uint64_t w, uint64_t mask) { bits_[w] |= mask; });
}

uint64_t PfnBitmap::clear_range(uint64_t start, uint64_t end) {
  start = std::max(start, first_pfn_);
  end = std::min(end, max_pfn_);
  if (start >= end) return 0;
  uint64_t cleared = 0;
  for_each_word(start - first_pfn_, end - first_pfn_, [&](uint64_t w, uint64_t mask) {
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
  Classifier(const KernelMemory& memory, const StructPageLayout& layout, unsigned level)
      : memory_(memory), layout_(layout), level_(level) {}

  // A new pass from pfn 0: no span walked yet, nothing carried.
  void restart() {
    span_start_ = std::numeric_limits<uint64_t>::max();
    next_ = 0;
    carried_.clear();
  }

  // Starts the window of `result.keep`: first the parts of earlier blocks
  // that reach into it, in the order they were excluded.
  void begin(FilterResult& result) {
    result_ = &result;
    for (const Carried& c : carried_) count(c.kind, result.keep.clear_range(result.keep.first_pfn(), c.end));
    std::erase_if(carried_, [&](const Carried& c) { return c.end <= result.keep.max_pfn(); });
  }

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
          ++result_->unreadable;
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
        count(verdict.kind, result_->keep.clear_range(pfn, end));
        if (end > result_->keep.max_pfn()) carried_.push_back({end, verdict.kind});
        pfn = end;
      }
    }
    next_ = std::max(next_, pfn);
  }

  void count(PageKind kind, uint64_t pages) {
    FilterStats& s = result_->stats;
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

 private:
  // The end of a block excluded in an earlier window, and why.
  struct Carried {
    uint64_t end;
    PageKind kind;
  };

  const KernelMemory& memory_;
  const StructPageLayout& layout_;
  unsigned level_;
  FilterResult* result_ = nullptr;
  uint64_t span_start_ = std::numeric_limits<uint64_t>::max();
  uint64_t next_ = 0;
  std::vector<Carried> carried_;
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

struct PageSelector::State {
  const VmcoreInfo* info = nullptr;
  const KernelMemory* memory = nullptr;
  unsigned level = 0;
  uint64_t max_pfn = 0;
  uint64_t total_pages = 0;           // of RAM, bounding a free-list walk
  std::vector<PfnRange> pfns;         // RAM
  std::optional<StructPageLayout> layout;   // none: the level reads no struct page
  std::optional<MemMapLocator> locator;
  std::string unusable;               // why no mem_map can be read (every page kept)
  std::vector<MemMapSpan> ram_spans;  // for free lists (kernels before 2.6.38)
  std::optional<Classifier> classifier;

  bool walks_free_lists() const { return (level & kExcludeFree) && layout && !layout->knows_buddy(); }

  // Calls on_span(span, from, to) for the parts of RAM in [start, end) with
  // a mem_map and on_gap(from, to) for those without.
  template <typename OnSpan, typename OnGap>
  void for_each_span(uint64_t start, uint64_t end, OnSpan on_span, OnGap on_gap) const {
    for (const PfnRange& range : pfns) {
      uint64_t pfn = std::max(range.start, start), stop = std::min(range.end, end);
      while (pfn < stop) {
        auto span = locator->span_of(pfn);
        if (!span) {
          // No struct page here: up to the next section.
          uint64_t step = locator->span_pages() - pfn % locator->span_pages();
          uint64_t to = pfn + std::min(step, stop - pfn);
          on_gap(pfn, to);
          pfn = to;
          continue;
        }
        uint64_t to = std::min(stop, span->pfn_end);
        on_span(*span, pfn, to);
        pfn = to;
      }
    }
  }
};

PageSelector::PageSelector(std::unique_ptr<State> state) : state_(std::move(state)) {}
PageSelector::PageSelector(PageSelector&&) noexcept = default;
PageSelector& PageSelector::operator=(PageSelector&&) noexcept = default;
PageSelector::~PageSelector() = default;

uint64_t PageSelector::max_pfn() const { return state_->max_pfn; }

Expected<PageSelector> PageSelector::create(const Dump& dump, const VmcoreInfo& info, const KernelMemory& memory,
                                            unsigned dump_level) {
  if (dump_level > 31) return make_error(Errc::invalid_argument, "dump level {} is not in 0..31", dump_level);
  uint64_t page_size = dump.page_size();
  if (page_size == 0) page_size = info.page_size().value_or(memory.arch().page_size());
  if (page_size < 1024 || !std::has_single_bit(page_size))
    return make_error(Errc::corrupt, "page size {} is not a power of two of at least 1 KiB", page_size);

  auto state = std::make_unique<State>();
  state->info = &info;
  state->memory = &memory;
  state->level = dump_level;
  std::vector<PhysRange> ranges = dump.ranges();
  std::sort(ranges.begin(), ranges.end(), [](const PhysRange& a, const PhysRange& b) { return a.start < b.start; });
  state->pfns = ram_pfns(ranges, page_size);
  state->max_pfn = state->pfns.empty() ? 0 : state->pfns.back().end;
  if (state->max_pfn > kMaxPfns)
    return make_error(Errc::corrupt, "{}: RAM range ends at physical {:#x}, beyond any supported machine",
                      dump.files().empty() ? std::string("dump") : dump.files().front(), state->max_pfn * page_size);
  for (const PfnRange& p : state->pfns) state->total_pages += p.end - p.start;
  if ((dump_level & (kExcludeCache | kExcludeCachePrivate | kExcludeUser | kExcludeFree)) == 0)
    return PageSelector(std::move(state));

  CORONER_TRY(layout, StructPageLayout::from_vmcoreinfo(info, dump_level));
  CORONER_TRY(locator, MemMapLocator::create(info, memory, page_size, layout.size()));
  state->layout = std::move(layout);
  if (auto attached = locator.attach(ranges, page_size); !attached) {
    state->unusable = attached.error().message();
    return PageSelector(std::move(state));
  }
  state->locator = std::move(locator);
  state->classifier.emplace(memory, *state->layout, dump_level);
  if (state->walks_free_lists())
    state->for_each_span(
        0, state->max_pfn,
        [&](const MemMapSpan& span, uint64_t, uint64_t) {
          if (state->ram_spans.empty() || state->ram_spans.back().pfn_start != span.pfn_start)
            state->ram_spans.push_back(span);
        },
        [](uint64_t, uint64_t) {});
  return PageSelector(std::move(state));
}

Expected<FilterResult> PageSelector::window(uint64_t start, uint64_t end) {
  State& s = *state_;
  end = std::min(end, s.max_pfn);
  start = std::min(start, end) & ~uint64_t{63};
  FilterResult result;
  result.keep = PfnBitmap(start, end);
  for (const PfnRange& p : s.pfns) result.keep.set_range(p.start, p.end);
  result.stats.total = result.keep.count();
  result.stats.kept = result.stats.total;
  if (!s.layout) return result;
  if (!s.unusable.empty()) {
    result.warning = s.unusable + "; keeping every page";
    result.unreadable = result.stats.total;
    return result;
  }
  result.memory_model = std::string(s.locator->model_name());

  Classifier& classifier = *s.classifier;
  if (start == 0) classifier.restart();
  classifier.begin(result);
  s.for_each_span(
      start, end, [&](const MemMapSpan& span, uint64_t from, uint64_t to) { classifier.walk(span, from, to); },
      [&](uint64_t from, uint64_t to) { result.unreadable += to - from; });
  if (s.walks_free_lists()) {
    // Before 2.6.38 free pages are known only from the zones' free lists.
    auto walked = walk_free_lists(*s.info, *s.memory, s.ram_spans, s.layout->size(), s.total_pages,
                                  [&](uint64_t pfn, unsigned order) {
                                    result.stats.free += result.keep.clear_range(pfn, pfn + (uint64_t{1} << order));
                                  });
    if (!walked) result.warning = walked.error().message() + "; free pages from there on kept";
  }
  result.stats.kept = result.keep.count();
  return result;
}

Expected<FilterResult> classify_pages(const Dump& dump, const VmcoreInfo& info, const KernelMemory& memory,
                                      unsigned dump_level) {
  CORONER_TRY(selector, PageSelector::create(dump, info, memory, dump_level));
  return selector.window(0, selector.max_pfn());
}

}  // namespace coroner::capture
