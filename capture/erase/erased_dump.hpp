// The input dump as the writers see it once --config's erase commands have
// run: reads of physical memory come back with the erased bytes
// overwritten ('X', or zeros for a nullified pointer), everything else is
// the input's.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "capture/erase/erase_program.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <vector>

namespace coroner::capture {

// One erased stretch inside one page of physical memory.
struct PhysicalErase {
  uint64_t paddr = 0;
  uint64_t size = 0;
  std::byte fill{'X'};
};

// Translates `ranges` (virtual) page by page through `memory`'s page
// tables. A range that does not translate is an error: a secret that
// cannot be found cannot be erased.
Expected<std::vector<PhysicalErase>> physical_erases(const std::vector<EraseRange>& ranges,
                                                     const KernelMemory& memory, uint64_t page_size);

class ErasedDump final : public Dump {
 public:
  ErasedDump(const Dump& inner, std::vector<PhysicalErase> erases, std::string erase_info);

  std::string_view format_name() const override { return inner_.format_name(); }
  std::string description() const override { return inner_.description(); }
  Machine machine() const override { return inner_.machine(); }
  const std::vector<std::string>& files() const override { return inner_.files(); }
  const std::vector<ElfNote>& notes() const override { return inner_.notes(); }
  uint64_t page_size() const override { return inner_.page_size(); }
  std::optional<std::string> vmcoreinfo_text() const override { return inner_.vmcoreinfo_text(); }
  bool incomplete() const override { return inner_.incomplete(); }
  std::optional<int> dump_level() const override { return inner_.dump_level(); }
  std::optional<Utsname> utsname() const override { return inner_.utsname(); }
  std::vector<VirtualRange> virtual_ranges() const override { return inner_.virtual_ranges(); }
  std::vector<PhysRange> ranges() const override { return inner_.ranges(); }
  Expected<void> read(uint64_t paddr, std::span<std::byte> out) const override;

  // Bytes erased in all.
  uint64_t erased_bytes() const;
  // makedumpfile's erase info text (erase_info_text()).
  const std::string& erase_info() const { return erase_info_; }

 private:
  const Dump& inner_;
  std::vector<PhysicalErase> erases_;  // sorted by paddr
  std::string erase_info_;
};

// --config OFFSETS: reads the erase offsets file, checks that it was made
// for this kernel (VMCOREINFO's BUILD-ID), runs it on `memory` and returns
// `dump` with those bytes erased.
Expected<std::unique_ptr<ErasedDump>> open_erased(const Dump& dump, const KernelMemory& memory,
                                                  const VmcoreInfo& info, const std::string& offsets_path);

}  // namespace coroner::capture
