#include "capture/writer/elf_segments.hpp"

#include <algorithm>

namespace coroner::capture {

ElfSegmentStream::ElfSegmentStream(std::span<const PhysRange> ranges, uint64_t page_size, uint64_t data_at,
                                   Emit emit)
    : ranges_(ranges), ps_(page_size), emit_(std::move(emit)), cursor_(data_at) {
  if (!ranges_.empty()) begin_range();
}

bool ElfSegmentStream::in_range(uint64_t pfn) const {
  return range_ < ranges_.size() && pfn >= ranges_[range_].start / ps_ && pfn * ps_ < ranges_[range_].end();
}

// Pfns [from, to) of the current range, counted by the bytes they hold in it.
void ElfSegmentStream::add_excluded(uint64_t from, uint64_t to) {
  const PhysRange& r = ranges_[range_];
  run_pages_ += to - from;
  run_bytes_ += std::min(r.end(), to * ps_) - std::max(r.start, from * ps_);
}

void ElfSegmentStream::begin_range() {
  const PhysRange& r = ranges_[range_];
  seg_ = ElfSegment{r.start, 0, 0, cursor_};
  // A page shared with the previous range (one ending part way into it)
  // counts in both, as makedumpfile walks each range on its own.
  next_ = r.start / ps_;
  run_pages_ = run_bytes_ = 0;
  run_unreadable_ = false;
}

Expected<void> ElfSegmentStream::emit_segment() {
  ++segments_;
  return emit_ ? emit_(seg_) : Expected<void>{};
}

Expected<void> ElfSegmentStream::skip_to(uint64_t pfn) {
  while (range_ < ranges_.size()) {
    const PhysRange& r = ranges_[range_];
    uint64_t end = (r.end() + ps_ - 1) / ps_;
    uint64_t to = std::min(pfn, end);
    if (next_ < to) add_excluded(next_, to);
    next_ = std::max(next_, to);
    if (pfn < end) return {};
    seg_.memsz += run_bytes_;
    CORONER_CHECK(emit_segment());
    if (++range_ < ranges_.size()) begin_range();
  }
  return {};
}

Expected<void> ElfSegmentStream::exclude(uint64_t pfn, bool unreadable) {
  CORONER_CHECK(skip_to(pfn));
  if (!in_range(pfn)) return {};
  add_excluded(pfn, pfn + 1);
  run_unreadable_ = run_unreadable_ || unreadable;
  next_ = pfn + 1;
  return {};
}

Expected<std::optional<ElfStore>> ElfSegmentStream::keep(uint64_t pfn) {
  CORONER_CHECK(skip_to(pfn));
  if (!in_range(pfn)) return std::optional<ElfStore>{};
  const PhysRange& r = ranges_[range_];
  uint64_t from = std::max(r.start, pfn * ps_), to = std::min(r.end(), (pfn + 1) * ps_);
  if (run_pages_ >= kElfExcludedRunPages || run_unreadable_) {
    seg_.memsz += run_bytes_;
    CORONER_CHECK(emit_segment());
    seg_ = ElfSegment{from, 0, 0, cursor_};
    run_bytes_ = 0;
  }
  ElfStore store{seg_.paddr + seg_.filesz, from, to, seg_.offset + seg_.filesz};
  seg_.memsz += run_bytes_ + (to - from);
  seg_.filesz = seg_.memsz;
  cursor_ = seg_.offset + seg_.filesz;
  run_pages_ = run_bytes_ = 0;
  run_unreadable_ = false;
  next_ = pfn + 1;
  return std::optional<ElfStore>{store};
}

}  // namespace coroner::capture
