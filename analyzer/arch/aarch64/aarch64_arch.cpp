#include "analyzer/arch/aarch64/aarch64_arch.hpp"

#include <algorithm>

namespace coroner::arch {

namespace {

constexpr uint64_t kBit55 = uint64_t{1} << 55;
constexpr uint64_t kTopByte = uint64_t{0xff} << 56;

// -(2^bits): the lowest address of a kernel range of `bits` bits.
constexpr uint64_t kernel_range_start(unsigned bits) { return ~uint64_t{0} << bits; }

// Kernel pointers may carry a tag in the top byte (KASAN tags, TBI); the
// untagged form has it all ones.
uint64_t untag_kernel(uint64_t vaddr) { return vaddr & kBit55 ? vaddr | kTopByte : vaddr; }

Expected<unsigned> va_bits_of(const VmcoreInfo& info) {
  CORONER_TRY(va_bits, info.require_number("VA_BITS"));
  if (va_bits < 36 || va_bits > 52)
    return make_error(Errc::corrupt, "VMCOREINFO NUMBER(VA_BITS)={} is not an arm64 VA size (36..52)", va_bits);
  return static_cast<unsigned>(va_bits);
}

// The kernel half's size in use: 64 - T1SZ (a 52-bit kernel may run with
// 48 bits on a CPU without LVA/LPA2). NUMBER(TCR_EL1_T1SZ) exists since 5.12.
Expected<unsigned> va_bits_actual_of(const VmcoreInfo& info, unsigned va_bits) {
  auto t1sz = info.number("TCR_EL1_T1SZ");
  if (!t1sz) return va_bits;
  if (*t1sz < 64 - static_cast<int64_t>(va_bits) || *t1sz > 28)
    return make_error(Errc::corrupt, "VMCOREINFO NUMBER(TCR_EL1_T1SZ)={:#x} does not fit NUMBER(VA_BITS)={}", *t1sz,
                      va_bits);
  return static_cast<unsigned>(64 - *t1sz);
}

Expected<Aarch64Paging> paging_of(const VmcoreInfo& info, uint64_t page_size, unsigned va_bits, unsigned actual) {
  if (page_size == 65536) {
    // 64K: bits 15:12 hold PA 51:48 when the kernel supports 52-bit PA;
    // they are RES0 otherwise, so decoding them is harmless when unsure.
    bool lpa = info.number("MAX_PHYSMEM_BITS").value_or(52) >= 52;
    return make_aarch64_paging(page_size, va_bits, lpa);
  }
  // 4K/16K 52-bit kernels (FEAT_LPA2) fold the top level and keep the old
  // descriptor format when the CPU runs them with fewer bits.
  if (va_bits == 52 && actual == 52) return make_aarch64_paging(page_size, 52, true);
  return make_aarch64_paging(page_size, va_bits == 52 ? actual : va_bits, false);
}

}  // namespace

uint64_t strip_pac(uint64_t addr, uint64_t kernel_pac_mask) {
  if (addr & kBit55) return addr | kernel_pac_mask;
  return addr & ~(kernel_pac_mask & (kBit55 - 1));
}

Translation Aarch64Arch::translate(uint64_t root, uint64_t vaddr, const EntryReader& read) const {
  if (!is_user_address(vaddr)) return walk_aarch64(paging_, kernel_root(), vaddr, read);
  if (root == kernel_root()) {
    // swapper_pg_dir shares index 0 with the linear map's start: walking a
    // user address through it would read kernel memory.
    Translation t;
    t.vaddr = vaddr;
    t.root = root;
    t.error = make_error(Errc::not_mapped,
                         "{:#x}: a user (TTBR0) address; the kernel's tables map only TTBR1 addresses, read it through a task's tables",
                         vaddr);
    return t;
  }
  return walk_aarch64(paging_, root, vaddr, read);
}

uint64_t Aarch64Arch::kernel_root() const { return layout_.swapper_pg_dir - layout_.kimage_voffset; }

bool Aarch64Arch::is_user_address(uint64_t vaddr) const { return !(vaddr & kBit55); }

std::optional<uint64_t> Aarch64Arch::direct_to_phys(uint64_t vaddr) const {
  uint64_t v = untag_kernel(vaddr);
  if (v >= layout_.linear_start && (layout_.linear_end == 0 || v < layout_.linear_end))
    return v - layout_.page_offset + layout_.phys_offset;  // modulo 2^64: PHYS_OFFSET may be "negative"
  if (v >= layout_.image_start && v < layout_.image_end) return v - layout_.kimage_voffset;
  return std::nullopt;
}

const std::vector<std::string_view>& Aarch64Registers::register_names() const {
  static const std::vector<std::string_view> names = {
      "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",  "x10", "x11",
      "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23",
      "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp",  "pc",  "pstate"};
  return names;
}

void Aarch64Arch::set_kernel_image_end(uint64_t end) {
  if (end > layout_.image_start) layout_.image_end = end;
}

Expected<std::unique_ptr<Arch>> make_aarch64_arch(const VmcoreInfo& info) {
  auto page_size = info.page_size();
  if (!page_size) return make_error(Errc::not_found, "VMCOREINFO has no PAGESIZE");
  CORONER_TRY(va_bits, va_bits_of(info));
  CORONER_TRY(actual, va_bits_actual_of(info, va_bits));
  CORONER_TRY(paging, paging_of(info, *page_size, va_bits, actual));

  Aarch64Layout l;
  l.va_bits = va_bits;
  l.va_bits_actual = actual;
  CORONER_TRY(kimage_voffset, info.require_number("kimage_voffset"));
  CORONER_TRY(phys_offset, info.require_number("PHYS_OFFSET"));
  CORONER_TRY(swapper, info.require_symbol("swapper_pg_dir"));
  l.kimage_voffset = static_cast<uint64_t>(kimage_voffset);
  l.phys_offset = static_cast<uint64_t>(phys_offset);
  l.swapper_pg_dir = swapper;
  l.kernel_pac_mask = static_cast<uint64_t>(info.number("KERNELPACMASK").value_or(0));
  if (!(swapper & kBit55))
    return make_error(Errc::corrupt, "VMCOREINFO SYMBOL(swapper_pg_dir)={:#x} is not a kernel address", swapper);

  // The kernel range splits at -(2^(VA_BITS_MIN - 1)) (VA_BITS_MIN: 48, or
  // 47 for 16K, on 52-bit kernels). Linux 5.4 swapped its halves: the image
  // moved to the upper one and the linear map to the lower. crash decides
  // by kernel version; where the image lies says the same without one,
  // backports included.
  unsigned va_min = va_bits > 48 ? (*page_size == 16384 ? 47 : 48) : va_bits;
  uint64_t middle = kernel_range_start(va_min - 1);
  uint64_t image_probe = info.symbol("_stext").value_or(swapper);
  l.linear_map_low = image_probe >= middle;
  if (l.linear_map_low) {
    l.page_offset = kernel_range_start(va_bits);  // __lm_to_phys uses the configured size
    l.linear_start = kernel_range_start(actual);
    l.linear_end = middle;
  } else {
    l.page_offset = middle;
    l.linear_start = middle;
    l.linear_end = 0;
  }

  // The image starts at KIMAGE_VADDR (= MODULES_END) plus the KASLR offset;
  // without NUMBER(MODULES_END) (before 6.0) at the first known symbol. It
  // ends at least after the page of the highest VMCOREINFO symbol in it.
  auto modules_end = info.number("MODULES_END");
  l.image_start = modules_end ? static_cast<uint64_t>(*modules_end) + info.kernel_offset().value_or(0)
                              : std::min(image_probe, swapper);
  uint64_t highest = swapper;
  for (const auto& [key, value] : info.entries()) {
    if (!key.starts_with("SYMBOL(")) continue;
    auto v = info.symbol(key.substr(7, key.size() - 8));
    bool in_linear = v && *v >= l.linear_start && (l.linear_end == 0 || *v < l.linear_end);
    if (v && !in_linear && *v >= l.image_start && *v - l.image_start < (uint64_t{1} << 30))
      highest = std::max(highest, *v);
  }
  l.image_end = (highest & ~(*page_size - 1)) + *page_size;
  if (l.image_start > swapper)
    return make_error(Errc::corrupt, "VMCOREINFO NUMBER(MODULES_END) + KERNELOFFSET = {:#x} lies above SYMBOL(swapper_pg_dir)={:#x}",
                      l.image_start, swapper);
  return std::unique_ptr<Arch>(std::make_unique<Aarch64Arch>(paging, l));
}

}  // namespace coroner::arch
