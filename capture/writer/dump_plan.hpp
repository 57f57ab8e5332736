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
#include <string>
#include <vector>

namespace coroner::capture {

// Page frames [first, end).
struct PfnRun {
  uint64_t first = 0, end = 0;
};

struct DumpPlan {
  const Dump* dump = nullptr;
  Machine machine = Machine::unknown;
  uint64_t page_size = 0;
  uint64_t max_pfn = 0;             // one past the highest page frame of RAM
  std::vector<PhysRange> ranges;    // the input's RAM, sorted
  std::vector<PfnRun> ram;          // pages wholly in RAM (kdump's 1st bitmap), ascending
  PfnBitmap keep;                   // pages to write (2nd bitmap); writers clear pages the input lacks
  unsigned dump_level = 0;
  FilterStats stats;                // from the filter; writers add zero pages
  uint64_t missing_in_input = 0;    // kept by the filter, but the input dump excluded them
  std::vector<uint64_t> unreadable; // pfns whose read failed (EIO), ascending: no ELF segment stores them
  Utsname utsname;
  int64_t timestamp = 0;            // seconds since the epoch: the crash (CRASHTIME), else now
  uint64_t phys_base = 0;           // kdump sub-header: x86_64 phys_base, arm64 PHYS_OFFSET
  int nr_cpus = 0;                  // NT_PRSTATUS notes
  std::vector<std::byte> note_area; // the input's notes, encoded as an ELF note segment
  uint64_t vmcoreinfo_offset = 0;   // the VMCOREINFO descriptor within note_area
  uint64_t vmcoreinfo_size = 0;     // 0: no VMCOREINFO note
  std::string erase_info;           // --config: makedumpfile's erase info text, after the page data
};

// Builds the plan from an opened input, its VMCOREINFO, kernel memory (for
// utsname) and the filter's verdict. Pages a kdump-compressed input did not
// dump are removed from `keep` (counted in missing_in_input).
Expected<DumpPlan> make_dump_plan(const Dump& dump, const VmcoreInfo& info, const KernelMemory& memory,
                                  FilterResult filter, unsigned dump_level);

// Encodes notes as an ELF note segment (Elf64_Nhdr, name and descriptor
// each padded to 4 bytes), in the given order.
std::vector<std::byte> encode_elf_notes(const std::vector<ElfNote>& notes);


}  // namespace coroner::capture
