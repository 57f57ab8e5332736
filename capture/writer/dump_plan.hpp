// Everything a dump writer needs to know before it writes: the input, its
// RAM and the pages to keep, and what the headers of a kdump-compressed or
// ELF dump carry (notes, VMCOREINFO, utsname, phys_base, CPU count).
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "capture/filter/page_filter.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace coroner::capture {

class MappedInputTrimmer;

// Page frames [first, end).
struct PfnRun {
  uint64_t first = 0, end = 0;
};

struct DumpPlan {
  const Dump* dump = nullptr;       // what the writers read pages from (the input, or an erasing view of it)
  const Dump* input = nullptr;      // the input itself
  Machine machine = Machine::unknown;
  uint64_t page_size = 0;
  uint64_t max_pfn = 0;             // one past the highest page frame of RAM
  std::vector<PhysRange> ranges;    // the input's RAM, sorted
  std::vector<PfnRun> ram;          // pages wholly in RAM (kdump's 1st bitmap), ascending
  // The pages to write (2nd bitmap) are decided a window of this many pfns
  // at a time (makedumpfile's cyclic mode); max_pfn or more: one window,
  // decided when the plan is made. Writers clear pages the input lacks.
  uint64_t window_pfns = 0;
  PfnBitmap keep;                   // pages to write of the current window
  unsigned dump_level = 0;
  FilterStats stats;                // from the filter (every window once); writers add zero pages
  uint64_t missing_in_input = 0;    // kept by the filter, but the input dump excluded them
  Utsname utsname;
  int64_t timestamp = 0;            // seconds since the epoch: the crash (CRASHTIME), else now
  uint64_t phys_base = 0;           // kdump sub-header: x86_64 phys_base, arm64 PHYS_OFFSET
  int nr_cpus = 0;                  // NT_PRSTATUS notes
  std::vector<std::byte> note_area; // the input's notes, encoded as an ELF note segment
  uint64_t vmcoreinfo_offset = 0;   // the VMCOREINFO descriptor within note_area
  uint64_t vmcoreinfo_size = 0;     // 0: no VMCOREINFO note
  std::string erase_info;           // --config: makedumpfile's erase info text, after the page data
  MappedInputTrimmer* trimmer = nullptr;  // trimmed after each window's struct pages are read
  // Kept pages a writer found the input lacks or cannot read, ascending: a
  // window decided again (a later --split part) leaves them out as well.
  std::vector<PfnRun> dropped;

  // Sets `keep` to the window of pfns starting at `start` (a multiple of
  // window_pfns), the first time a window is asked for adding its counts
  // to `stats`. A pass goes through the windows in order from pfn 0; with
  // one window this does nothing.
  Expected<void> select_window(uint64_t start);
  bool one_window() const { return window_pfns >= max_pfn; }
  // Takes pfn, found missing or unreadable while writing, out of `keep` and
  // out of every window decided after (pfns come in ascending order).
  void drop(uint64_t pfn);

  std::shared_ptr<PageSelector> selector;
  uint64_t counted_end = 0;         // windows below have their counts in `stats`
};

// The window of makedumpfile's cyclic mode when none is asked for: a
// bitmap of 16 MiB, 2^27 pfns (512 GiB of 4 KiB pages); machines up to
// that size are filtered in one window.
inline constexpr uint64_t kDefaultWindowPfns = uint64_t{1} << 27;

// Builds the plan from an opened input, its VMCOREINFO, kernel memory (for
// utsname) and the page filter, filtering in windows of `window_pfns`
// (rounded up to a multiple of 4096; 0: kDefaultWindowPfns). Pages a
// kdump-compressed input did not dump are removed from `keep` (counted in
// missing_in_input).
Expected<DumpPlan> make_dump_plan(const Dump& dump, const VmcoreInfo& info, const KernelMemory& memory,
                                  PageSelector selector, unsigned dump_level, uint64_t window_pfns = 0,
                                  MappedInputTrimmer* trimmer = nullptr);

// Encodes notes as an ELF note segment (Elf64_Nhdr, name and descriptor
// each padded to 4 bytes), in the given order.
std::vector<std::byte> encode_elf_notes(const std::vector<ElfNote>& notes);


}  // namespace coroner::capture
