// makedumpfile -E's PT_LOAD segments, decided as the pages of a pass go by
// in ascending pfn order, so that neither a bitmap of the whole machine nor
// a list of the segments is held. Within a RAM range, a run of fewer than
// kElfExcludedRunPages excluded pages stays in the segment with its
// contents; a longer run, or one holding an unreadable page, ends the
// segment (memsz covers it, filesz does not) and the next kept page starts
// a new one. A run is decided when it ends, whatever window it began in.
#pragma once

#include "capture/format/physical_memory.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>

namespace coroner::capture {

inline constexpr uint64_t kElfExcludedRunPages = 256;

struct ElfSegment {
  uint64_t paddr = 0, memsz = 0, filesz = 0;
  uint64_t offset = 0;  // of its data in the file
};

// Where a kept page goes: physical bytes [from, to) at file offset `at`,
// the page's own from `page_from` on; bytes before it are the excluded
// pages its segment stores.
struct ElfStore {
  uint64_t from = 0, page_from = 0, to = 0, at = 0;
};

class ElfSegmentStream {
 public:
  using Emit = std::function<Expected<void>(const ElfSegment&)>;
  // Segment data is placed from file offset `data_at` on; `emit` gets each
  // segment once it is decided, in order.
  ElfSegmentStream(std::span<const PhysRange> ranges, uint64_t page_size, uint64_t data_at, Emit emit = {});

  // The pages not yet seen below `pfn` are excluded.
  Expected<void> skip_to(uint64_t pfn);
  // Page `pfn` is excluded (`unreadable`: its read failed).
  Expected<void> exclude(uint64_t pfn, bool unreadable);
  // Page `pfn` is kept: where its segment stores it (nothing outside RAM).
  Expected<std::optional<ElfStore>> keep(uint64_t pfn);
  // Ends the pass: every page not seen is excluded.
  Expected<void> finish() { return skip_to(UINT64_MAX); }

  uint64_t segments() const { return segments_; }

 private:
  bool in_range(uint64_t pfn) const;
  void add_excluded(uint64_t from, uint64_t to);
  void begin_range();
  Expected<void> emit_segment();

  std::span<const PhysRange> ranges_;
  uint64_t ps_;
  Emit emit_;
  size_t range_ = 0;     // the range being walked
  uint64_t next_ = 0;    // its first pfn not yet seen
  uint64_t cursor_ = 0;  // file offset of the next stored byte
  ElfSegment seg_;
  uint64_t run_pages_ = 0, run_bytes_ = 0;  // excluded since the last kept page
  bool run_unreadable_ = false;
  uint64_t segments_ = 0;
};

}  // namespace coroner::capture
