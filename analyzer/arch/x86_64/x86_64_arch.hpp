// x86_64: 4- and 5-level paging, KASLR from VMCOREINFO, user_regs_struct.
#pragma once

#include "analyzer/arch/arch.hpp"

namespace coroner::arch {

// What every x86_64 address space shares: 4 KiB pages and the register set
// of NT_PRSTATUS (user_regs_struct). Linux's paging and FreeBSD minidumps'
// build on it.
class X86_64Registers : public Arch {
 public:
  Machine machine() const override { return Machine::x86_64; }
  std::string_view name() const override { return "x86_64"; }
  uint64_t page_size() const override { return 4096; }
  const std::vector<std::string_view>& register_names() const override;
  size_t pc_register() const override { return 16; }  // rip
  size_t sp_register() const override { return 19; }  // rsp
  size_t fp_register() const override { return 4; }   // rbp
  std::optional<size_t> lr_register() const override { return std::nullopt; }
  std::optional<size_t> dwarf_register(unsigned number) const override;
  uint64_t strip_pointer_auth(uint64_t address) const override { return address; }
};

Expected<std::unique_ptr<Arch>> make_x86_64_arch(const VmcoreInfo& info);

}  // namespace coroner::arch
