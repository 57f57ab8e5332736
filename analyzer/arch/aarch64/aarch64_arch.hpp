// arm64: 4K/16K/64K granules, 2 to 5 levels, VA_BITS 36..52, kimage_voffset
// and PHYS_OFFSET from VMCOREINFO, user_pt_regs, pointer authentication.
#pragma once

#include "analyzer/arch/aarch64/aarch64_paging.hpp"
#include "analyzer/arch/arch.hpp"

namespace coroner::arch {

// Removes a pointer-authentication code from a return address or pointer:
// kernel addresses (bit 55 set) get the PAC bits set, user addresses
// cleared. `kernel_pac_mask` is VMCOREINFO's NUMBER(KERNELPACMASK), the
// bits above the VA size; the user mask is the same below bit 55.
uint64_t strip_pac(uint64_t addr, uint64_t kernel_pac_mask);

// Where the kernel's virtual regions map physical memory, from VMCOREINFO.
struct Aarch64Layout {
  unsigned va_bits = 48;         // NUMBER(VA_BITS): the kernel's configured size
  unsigned va_bits_actual = 48;  // 64 - NUMBER(TCR_EL1_T1SZ) (52-bit kernels on 48-bit CPUs)
  uint64_t kimage_voffset = 0;   // kernel image virtual - physical
  uint64_t phys_offset = 0;      // NUMBER(PHYS_OFFSET): physical address of PAGE_OFFSET
  uint64_t page_offset = 0;      // start of the linear map's address arithmetic
  uint64_t linear_start = 0, linear_end = 0;  // linear map [start, end); end 0 = 2^64
  uint64_t image_start = 0, image_end = 0;    // kernel image [_text, end known so far)
  // Linux 5.4+: the linear map is the lower half of the kernel range and
  // the image the upper; before, the reverse.
  bool linear_map_low = true;
  uint64_t swapper_pg_dir = 0;   // SYMBOL(swapper_pg_dir), virtual
  uint64_t kernel_pac_mask = 0;  // NUMBER(KERNELPACMASK), 0 without PAC
};

// What every arm64 address space shares: the register set of NT_PRSTATUS
// (user_pt_regs). Linux's paging and FreeBSD minidumps' build on it.
class Aarch64Registers : public Arch {
 public:
  Machine machine() const override { return Machine::aarch64; }
  std::string_view name() const override { return "arm64"; }
  // x0..x30, sp, pc, pstate (user_pt_regs, as gdb names them).
  const std::vector<std::string_view>& register_names() const override;
  size_t pc_register() const override { return 32; }
  size_t sp_register() const override { return 31; }
  size_t fp_register() const override { return 29; }
  std::optional<size_t> lr_register() const override { return 30; }
  // DWARF numbers x0..x30 as 0..30 and sp as 31, as NT_PRSTATUS orders them.
  std::optional<size_t> dwarf_register(unsigned number) const override {
    if (number <= 31) return number;
    return std::nullopt;
  }
};

class Aarch64Arch final : public Aarch64Registers {
 public:
  Aarch64Arch(Aarch64Paging paging, Aarch64Layout layout) : paging_(paging), layout_(layout) {}

  uint64_t page_size() const override { return paging_.page_size(); }
  // As the MMU does: kernel addresses (TTBR1) always walk swapper_pg_dir,
  // whatever `root`; user addresses (TTBR0) walk `root`, a task's pgd, and
  // fail with the kernel's root (which would map them to kernel memory).
  Translation translate(uint64_t root, uint64_t vaddr, const EntryReader& read) const override;
  uint64_t kernel_root() const override;
  bool is_user_address(uint64_t vaddr) const override;
  std::optional<uint64_t> direct_to_phys(uint64_t vaddr) const override;

  uint64_t strip_pointer_auth(uint64_t address) const override {
    return arch::strip_pac(address, layout_.kernel_pac_mask);
  }
  std::optional<uint64_t> linear_map_base() const override { return layout_.page_offset - layout_.phys_offset; }
  const Aarch64Paging& paging() const { return paging_; }
  const Aarch64Layout& layout() const { return layout_; }

  // VMCOREINFO does not give the image's end (_end), only symbols inside
  // it; whoever knows _end (the symbol table) can widen direct_to_phys's
  // image range. Call before sharing the object between threads.
  void set_kernel_image_end(uint64_t end);

 private:
  Aarch64Paging paging_;
  Aarch64Layout layout_;
};

// Errors name the missing or inconsistent VMCOREINFO key.
Expected<std::unique_ptr<Arch>> make_aarch64_arch(const VmcoreInfo& info);

}  // namespace coroner::arch
