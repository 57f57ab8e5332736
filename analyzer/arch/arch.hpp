// The common interface of the architectures (after libdrgn's arch_info):
// paging, the kernel's page-table root, and the register set of NT_PRSTATUS.
// One implementation per folder: x86_64/, aarch64/.
#pragma once

#include "analyzer/arch/translation.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <memory>
#include <string_view>
#include <vector>

namespace coroner::arch {

class Arch {
 public:
  virtual ~Arch() = default;

  virtual Machine machine() const = 0;
  virtual std::string_view name() const = 0;  // "x86_64", "arm64"
  virtual uint64_t page_size() const = 0;

  // Walks the tables rooted at physical address `root` for `vaddr`. Always
  // returns the steps taken; `paddr` is empty and `error` set (naming the
  // level, entry and address) when the address is not mapped.
  virtual Translation translate(uint64_t root, uint64_t vaddr, const EntryReader& read) const = 0;

  // Physical address of the kernel's top-level table (swapper_pg_dir).
  virtual uint64_t kernel_root() const = 0;

  // True for addresses that belong to user space (translated through a
  // task's own tables rather than the kernel's).
  virtual bool is_user_address(uint64_t vaddr) const = 0;

  // Physical address of a kernel virtual address computed without a walk
  // (kernel image and linear map), if the layout allows it. Page tables
  // remain the authority; this serves page tables' own addresses (a
  // pgd pointer read from mm_struct) and fast paths.
  virtual std::optional<uint64_t> direct_to_phys(uint64_t vaddr) const = 0;

  // Register names in NT_PRSTATUS gregset order.
  virtual const std::vector<std::string_view>& register_names() const = 0;
  // Indexes of the program counter and stack pointer within that set.
  virtual size_t pc_register() const = 0;
  virtual size_t sp_register() const = 0;
  // The frame pointer (rbp, x29) and, where the ISA has one, the link
  // register (x30); nullopt on x86_64.
  virtual size_t fp_register() const = 0;
  virtual std::optional<size_t> lr_register() const = 0;
  // The index in that set of DWARF register `number` (CFI rules name
  // registers by DWARF number); nullopt for registers not in NT_PRSTATUS.
  virtual std::optional<size_t> dwarf_register(unsigned number) const = 0;

  // A code address as saved in a register or on a stack, without what the
  // architecture adds to it: arm64's pointer-authentication code of a
  // signed return address. Unchanged on x86_64.
  virtual uint64_t strip_pointer_auth(uint64_t address) const = 0;
  // The virtual address of physical address 0 in the linear (direct) map
  // when the layout alone gives it (arm64: PAGE_OFFSET - PHYS_OFFSET);
  // nullopt when only the dumped kernel knows it (x86_64's
  // page_offset_base, randomized by KASLR).
  virtual std::optional<uint64_t> linear_map_base() const = 0;
};

// Builds the architecture of `machine` from VMCOREINFO (KASLR offset,
// phys_base, page size, VA_BITS, kimage_voffset, PHYS_OFFSET, 5-level
// paging). Errors name the missing or inconsistent key.
Expected<std::unique_ptr<Arch>> make_arch(Machine machine, const VmcoreInfo& info);

}  // namespace coroner::arch
