// Where the x86_64 unwinder finds unwind information for a code address:
// vmlinux's ORC tables (from the file, KASLR-shifted, or from the dump's
// memory between the __start_/__stop_orc_unwind* symbols), each module's ORC
// tables (from the dumped kernel's struct module), and, as a fallback, the
// DWARF CFI of vmlinux (file source only) or of the module's attached .ko.
// Each table is read on first use and kept with the unwinder.
#pragma once

#include "analyzer/program.hpp"
#include "analyzer/unwind/unwinder.hpp"
#include "symbols/cfi_table.hpp"
#include "symbols/orc_table.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace coroner::unwind {

class OrcSources {
 public:
  OrcSources(const Program& program, UnwindSource source) : program_(program), source_(source) {}

  struct VmlinuxOrc {
    std::optional<symbols::OrcTable> table;
    std::vector<MemoryRange> text;  // run-time ranges of the code it covers
  };
  // vmlinux's table, from the source given at construction.
  const Expected<VmlinuxOrc>& vmlinux_orc() const;

  // The ORC entry that covers pc. nullopt when pc is in no code the tables
  // describe (not vmlinux text, no module); an error when the table that
  // should cover it cannot be read.
  Expected<std::optional<symbols::OrcEntry>> find(uint64_t pc) const;

  // The CFI row for pc from vmlinux or the module holding it; nullopt when no
  // FDE covers it or no object file is at hand.
  Expected<std::optional<symbols::CfiRow>> find_cfi(uint64_t pc) const;

 private:
  using SharedOrc = std::shared_ptr<const symbols::OrcTable>;
  using SharedCfi = std::shared_ptr<const symbols::CfiTable>;

  Expected<VmlinuxOrc> load_vmlinux_orc() const;  // from the file
  Expected<VmlinuxOrc> read_vmlinux_orc() const;  // from the dump
  Expected<SharedOrc> module_orc(const KernelModule& module) const;
  Expected<SharedOrc> load_module_orc(const KernelModule& module) const;
  const Expected<symbols::OrcFormat>& format() const;
  Expected<SharedCfi> cfi_table(const std::string& path, int64_t bias, const symbols::SectionAddresses* sections) const;
  // The loaded module whose core memory holds pc, if any.
  Expected<const KernelModule*> module_at(uint64_t pc) const;

  const Program& program_;
  const UnwindSource source_;
  mutable std::once_flag format_once_;
  mutable std::optional<Expected<symbols::OrcFormat>> format_;
  mutable std::once_flag vmlinux_once_;
  mutable std::optional<Expected<VmlinuxOrc>> vmlinux_;
  mutable std::mutex mutex_;  // guards the maps below
  mutable std::map<uint64_t, Expected<SharedOrc>> modules_;       // by struct module address
  mutable std::map<std::string, Expected<SharedCfi>> cfi_tables_;  // by object path
};

}  // namespace coroner::unwind
