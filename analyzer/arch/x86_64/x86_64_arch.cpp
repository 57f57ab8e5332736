#include "analyzer/arch/x86_64/x86_64_arch.hpp"

#include "analyzer/arch/x86_64/x86_64_paging.hpp"

#include <iterator>
#include <utility>
#include <vector>

namespace coroner::arch {
namespace {

// __START_KERNEL_map: where the kernel image is mapped, KASLR-shifted
// inside [map, map + KERNEL_IMAGE_SIZE); the same on every x86_64 kernel.
constexpr uint64_t kStartKernelMap = 0xffffffff80000000ULL;
// KERNEL_IMAGE_SIZE without KASLR; kernels since 4.x also export it. The
// smaller value is the safe default: modules start right above it.
constexpr uint64_t kDefaultKernelImageSize = 512ULL << 20;
constexpr uint64_t kMaxKernelImageSize = 1ULL << 30;
constexpr uint64_t kMaxPhysicalAddress = 1ULL << 52;
constexpr uint64_t kPageSize = 4096;

class X86_64Arch final : public X86_64Registers {
 public:
  X86_64Arch(X86_64Paging paging, uint64_t phys_base, uint64_t kernel_image_size, uint64_t kernel_root)
      : paging_(paging), phys_base_(phys_base), kernel_image_size_(kernel_image_size), kernel_root_(kernel_root) {}

  Translation translate(uint64_t root, uint64_t vaddr, const EntryReader& read) const override {
    return walk_x86_64(paging_, root, vaddr, read);
  }

  uint64_t kernel_root() const override { return kernel_root_; }

  bool is_user_address(uint64_t vaddr) const override { return vaddr < paging_.user_limit(); }

  // Only the kernel image: the direct map's base (page_offset_base, KASLR-
  // randomized) is not in VMCOREINFO on any kernel from 4.18 to 6.x, so
  // direct-map addresses go through the page tables.
  std::optional<uint64_t> direct_to_phys(uint64_t vaddr) const override {
    if (vaddr < kStartKernelMap || vaddr - kStartKernelMap >= kernel_image_size_) return std::nullopt;
    return vaddr - kStartKernelMap + phys_base_;
  }

  std::optional<uint64_t> linear_map_base() const override { return std::nullopt; }

 private:
  X86_64Paging paging_;
  uint64_t phys_base_;
  uint64_t kernel_image_size_;
  uint64_t kernel_root_;
};

// NUMBER(name) if present; an error if present but not a number.
Expected<std::optional<int64_t>> optional_number(const VmcoreInfo& info, std::string_view name) {
  std::string key = fmt::format("NUMBER({})", name);
  auto text = info.get(key);
  if (!text) return std::optional<int64_t>{};
  auto value = info.number(name);
  if (!value) return make_error(Errc::corrupt, "VMCOREINFO {}={}: not a number", key, *text);
  return value;
}

// The kernel's top-level table: swapper_pg_dir since 4.14 (an alias of
// init_top_pgt, which 4.13..4.18 also export), init_level4_pgt before.
Expected<std::pair<std::string_view, uint64_t>> root_table_symbol(const VmcoreInfo& info) {
  for (std::string_view name : {"swapper_pg_dir", "init_top_pgt", "init_level4_pgt"}) {
    if (auto address = info.symbol(name)) return std::pair{name, *address};
  }
  return make_error(Errc::not_found,
                    "VMCOREINFO has no SYMBOL(swapper_pg_dir) (nor SYMBOL(init_top_pgt) or SYMBOL(init_level4_pgt)): "
                    "cannot find the kernel page tables");
}

}  // namespace

const std::vector<std::string_view>& X86_64Registers::register_names() const {
  // user_regs_struct (NT_PRSTATUS's elf_gregset_t), as crash and gdb name them.
  static const std::vector<std::string_view> names{
      "r15", "r14", "r13", "r12", "rbp",     "rbx",     "r11", "r10", "r9",
      "r8",  "rax", "rcx", "rdx", "rsi",     "rdi",     "orig_rax", "rip", "cs",
      "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
  return names;
}

std::optional<size_t> X86_64Registers::dwarf_register(unsigned number) const {
  // DWARF: rax rdx rcx rbx rsi rdi rbp rsp r8..r15, 16 = return address (rip).
  static constexpr size_t kFromDwarf[] = {10, 12, 11, 5, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0, 16};
  if (number < std::size(kFromDwarf)) return kFromDwarf[number];
  return std::nullopt;
}

Expected<std::unique_ptr<Arch>> make_x86_64_arch(const VmcoreInfo& info) {
  if (auto page = info.page_size(); page && *page != kPageSize)
    return make_error(Errc::corrupt, "VMCOREINFO PAGESIZE={}: x86_64 pages are {} bytes", *page, kPageSize);

  X86_64Paging paging;
  CORONER_TRY(l5, optional_number(info, "pgtable_l5_enabled"));
  if (l5 && *l5 != 0 && *l5 != 1)
    return make_error(Errc::corrupt, "VMCOREINFO NUMBER(pgtable_l5_enabled)={}: expected 0 or 1", *l5);
  paging.levels = l5.value_or(0) == 1 ? 5 : 4;

  CORONER_TRY(sme, optional_number(info, "sme_mask"));
  paging.sme_mask = static_cast<uint64_t>(sme.value_or(0));
  if (paging.sme_mask & ~(kMaxPhysicalAddress - 1) || paging.sme_mask & (kPageSize - 1))
    return make_error(Errc::corrupt, "VMCOREINFO NUMBER(sme_mask)={:#x}: not within physical address bits 51:12",
                      paging.sme_mask);

  CORONER_TRY(image, optional_number(info, "KERNEL_IMAGE_SIZE"));
  uint64_t image_size = static_cast<uint64_t>(image.value_or(kDefaultKernelImageSize));
  if (image_size == 0 || image_size > kMaxKernelImageSize)
    return make_error(Errc::corrupt, "VMCOREINFO NUMBER(KERNEL_IMAGE_SIZE)={:#x}: expected at most 1 GiB", image_size);

  // phys_base is unsigned long in the kernel but printed with %ld: a
  // kernel loaded below its link address shows a negative value.
  CORONER_TRY(phys_base_signed, info.require_number("phys_base"));
  uint64_t phys_base = static_cast<uint64_t>(phys_base_signed);

  CORONER_TRY(root_symbol, root_table_symbol(info));
  auto [root_name, root_vaddr] = root_symbol;
  if (root_vaddr < kStartKernelMap || root_vaddr - kStartKernelMap >= image_size || root_vaddr % kPageSize != 0)
    return make_error(Errc::corrupt, "VMCOREINFO SYMBOL({})={:x}: not a page-aligned address of the kernel image", root_name,
                      root_vaddr);
  uint64_t root = root_vaddr - kStartKernelMap + phys_base;
  if (root >= kMaxPhysicalAddress)
    return make_error(Errc::corrupt, "VMCOREINFO SYMBOL({})={:x} with NUMBER(phys_base)={}: physical address {:#x} beyond 52 bits",
                      root_name, root_vaddr, phys_base_signed, root);

  return std::unique_ptr<Arch>(std::make_unique<X86_64Arch>(paging, phys_base, image_size, root));
}

}  // namespace coroner::arch
