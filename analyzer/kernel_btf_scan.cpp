#include "analyzer/kernel_btf_scan.hpp"

#include <cstring>

namespace coroner {

namespace {

constexpr uint16_t kBtfMagic = 0xeB9F;
constexpr uint32_t kBtfHeaderSize = 24;  // struct btf_header of BTF version 1
constexpr uint64_t kMaxBtfBytes = 256ull << 20;
constexpr uint64_t kMaxScanBytes = 512ull << 20;  // read-only data of any kernel

struct BtfHeader {
  uint16_t magic;
  uint8_t version, flags;
  uint32_t hdr_len, type_off, type_len, str_off, str_len;
};
static_assert(sizeof(BtfHeader) == kBtfHeaderSize);

// The blob's size when `at` starts a plausible header, else 0.
uint64_t blob_size(std::span<const std::byte> bytes, size_t at) {
  if (bytes.size() - at < sizeof(BtfHeader)) return 0;
  BtfHeader h;
  std::memcpy(&h, bytes.data() + at, sizeof(h));
  if (h.magic != kBtfMagic || h.version != 1 || h.flags != 0 || h.hdr_len < kBtfHeaderSize || h.hdr_len > 256)
    return 0;
  const uint64_t types_end = uint64_t{h.type_off} + h.type_len, strings_end = uint64_t{h.str_off} + h.str_len;
  if (h.type_len == 0 || h.str_len == 0 || h.type_off % 4 != 0) return 0;
  const uint64_t size = h.hdr_len + std::max(types_end, strings_end);
  if (size > kMaxBtfBytes || size > bytes.size() - at) return 0;
  return size;
}

}  // namespace

Expected<ScannedBtf> scan_kernel_btf(const KernelMemory& memory, const symbols::SymbolTable& table,
                                     const std::string& dump) {
  const symbols::Symbol* start = table.find("_etext");
  const symbols::Symbol* end = table.find("__init_begin");
  if (!end) end = table.find("_sinittext");
  if (!start || !end || end->address <= start->address || end->address - start->address > kMaxScanBytes)
    return make_error(Errc::not_found, "{}: the kernel's read-only data (_etext to __init_begin) is not in kallsyms",
                      dump);
  const uint64_t base = start->address, length = end->address - start->address;
  // A page the dump left out reads as zeros (no header there).
  std::vector<std::byte> image = memory.read_allowing_gaps(base, length).value_or(std::vector<std::byte>{});
  for (size_t at = 0; at + sizeof(BtfHeader) <= image.size(); at += 4) {
    if (image[at] != std::byte{0x9f} || image[at + 1] != std::byte{0xeb}) continue;
    const uint64_t size = blob_size(image, at);
    if (size == 0) continue;
    std::vector<std::byte> bytes(image.begin() + static_cast<ptrdiff_t>(at),
                                 image.begin() + static_cast<ptrdiff_t>(at + size));
    auto types = symbols::DebugInfo::open_btf(std::move(bytes), fmt::format("{}: BTF at {:#x}", dump, base + at));
    if (!types || !(*types)->type_size("struct task_struct")) continue;
    return ScannedBtf{base + at, size, std::move(*types)};
  }
  return make_error(Errc::not_found, "{}: the kernel has no BTF (no __start_BTF in kallsyms, none in {:#x}-{:#x})",
                    dump, base, end->address);
}

}  // namespace coroner
