#include "capture/format/freebsd_minidump_header.hpp"

#include "capture/format/byte_order.hpp"

#include <cstring>

namespace coroner::freebsd {
namespace {

constexpr std::string_view kAmd64Magic = "minidump FreeBSD/amd64";
constexpr std::string_view kArm64Magic = "minidump FreeBSD/arm64";
constexpr uint64_t kAmd64PageSize = 4096;
// Bytes of the header structure itself (the rest of its page is padding).
constexpr size_t kAmd64HeaderSize = 72, kArm64HeaderSize = 80;
constexpr uint32_t kArm64PageSizeMask = 3;

// The offsets of amd64's v3 and arm64's v3 struct minidumphdr.
constexpr size_t kVersion = 24, kMsgbufSize = 28, kBitmapSize = 32, kPmapSize = 36, kKernbase = 40;
constexpr size_t kAmd64DmapBase = 48, kAmd64DmapEnd = 56, kAmd64DumpAvailSize = 64;
constexpr size_t kArm64DmapPhys = 48, kArm64DmapBase = 56, kArm64DmapEnd = 64, kArm64DumpAvailSize = 72,
                 kArm64Flags = 76;

uint64_t round_up(uint64_t value, uint64_t page) { return (value + page - 1) / page * page; }

}  // namespace

std::string_view minidump_arch_name(MinidumpArch arch) { return arch == MinidumpArch::amd64 ? "amd64" : "arm64"; }

uint64_t MinidumpHeader::page_size() const {
  if (arch == MinidumpArch::amd64) return kAmd64PageSize;
  return (flags & kArm64PageSizeMask) == 1 ? 16384 : 4096;
}

bool MinidumpHeader::has_dump_avail() const { return arch == MinidumpArch::amd64 ? version >= 3 : version >= 2; }

bool looks_like_minidump(std::span<const std::byte> head) {
  return head.size() >= kMinidumpPrefix.size() && std::memcmp(head.data(), kMinidumpPrefix.data(), kMinidumpPrefix.size()) == 0;
}

Expected<MinidumpHeader> decode_minidump_header(std::span<const std::byte> head, std::string_view name) {
  if (head.size() < kMinidumpMagicSize)
    return make_error(Errc::truncated, "{}: file ends at offset {:#x}, inside the minidump magic", name, head.size());
  const char* text = reinterpret_cast<const char*>(head.data());
  std::string_view magic(text, strnlen(text, kMinidumpMagicSize));
  MinidumpHeader h;
  if (magic == kAmd64Magic) h.arch = MinidumpArch::amd64;
  else if (magic == kArm64Magic) h.arch = MinidumpArch::arm64;
  else
    return make_error(Errc::unsupported, "{}: minidump of \"{}\": only amd64 and arm64 minidumps are supported", name,
                      magic);
  size_t needed = h.arch == MinidumpArch::amd64 ? kAmd64HeaderSize : kArm64HeaderSize;
  if (head.size() < needed)
    return make_error(Errc::truncated, "{}: file ends at offset {:#x}, inside the {}-byte minidump header", name,
                      head.size(), needed);
  const std::byte* p = head.data();
  h.version = load_le32(p + kVersion);
  if (h.version < 1 || h.version > kMinidumpMaxVersion)
    return make_error(Errc::unsupported, "{}: {} minidump version {} at offset {:#x} (1 to {} are known)", name,
                      minidump_arch_name(h.arch), h.version, kVersion, kMinidumpMaxVersion);
  h.msgbuf_size = load_le32(p + kMsgbufSize);
  h.bitmap_size = load_le32(p + kBitmapSize);
  h.pmap_size = load_le32(p + kPmapSize);
  h.kernbase = load_le64(p + kKernbase);
  if (h.arch == MinidumpArch::amd64) {
    h.dmap_base = load_le64(p + kAmd64DmapBase);
    h.dmap_end = load_le64(p + kAmd64DmapEnd);
    if (h.version >= 3) h.dump_avail_size = load_le32(p + kAmd64DumpAvailSize);
  } else {
    h.dmap_phys = load_le64(p + kArm64DmapPhys);
    h.dmap_base = load_le64(p + kArm64DmapBase);
    h.dmap_end = load_le64(p + kArm64DmapEnd);
    if (h.version >= 2) h.dump_avail_size = load_le32(p + kArm64DumpAvailSize);
    if (h.version >= 3) h.flags = load_le32(p + kArm64Flags);
    uint32_t size_code = h.flags & kArm64PageSizeMask;
    if (size_code > 1)
      return make_error(Errc::unsupported, "{}: arm64 minidump flags {:#x} at offset {:#x} ask for {} pages (4K and "
                                           "16K are supported)",
                        name, h.flags, kArm64Flags, size_code == 2 ? "64K" : "unknown");
  }
  if (h.dmap_end < h.dmap_base)
    return make_error(Errc::corrupt, "{}: minidump direct map ends at {:#x}, below its start {:#x}", name, h.dmap_end,
                      h.dmap_base);
  return h;
}

std::vector<std::byte> encode_minidump_header(const MinidumpHeader& h) {
  std::vector<std::byte> page(h.page_size());
  std::byte* p = page.data();
  std::string_view magic = h.arch == MinidumpArch::amd64 ? kAmd64Magic : kArm64Magic;
  std::memcpy(p, magic.data(), magic.size());
  store_le32(p + kVersion, h.version);
  store_le32(p + kMsgbufSize, h.msgbuf_size);
  store_le32(p + kBitmapSize, h.bitmap_size);
  store_le32(p + kPmapSize, h.pmap_size);
  store_le64(p + kKernbase, h.kernbase);
  if (h.arch == MinidumpArch::amd64) {
    store_le64(p + kAmd64DmapBase, h.dmap_base);
    store_le64(p + kAmd64DmapEnd, h.dmap_end);
    if (h.version >= 3) store_le32(p + kAmd64DumpAvailSize, h.dump_avail_size);
  } else {
    store_le64(p + kArm64DmapPhys, h.dmap_phys);
    store_le64(p + kArm64DmapBase, h.dmap_base);
    store_le64(p + kArm64DmapEnd, h.dmap_end);
    if (h.version >= 2) store_le32(p + kArm64DumpAvailSize, h.dump_avail_size);
    if (h.version >= 3) store_le32(p + kArm64Flags, h.flags);
  }
  return page;
}

Expected<MinidumpLayout> minidump_layout(const MinidumpHeader& h, uint64_t file_size, std::string_view name) {
  const uint64_t page = h.page_size();
  MinidumpLayout layout;
  uint64_t at = page;  // the header page
  // Every size is a u32, so the running offset stays far below 2^64.
  auto section = [&](uint64_t& offset, uint64_t size, std::string_view what) -> Expected<void> {
    offset = at;
    at += round_up(size, page);
    if (at > file_size)
      return make_error(Errc::truncated, "{}: minidump {} section ({} bytes at offset {:#x}) runs past the end of the "
                                         "file at {:#x}",
                        name, what, size, offset, file_size);
    return {};
  };
  if (page > file_size)
    return make_error(Errc::truncated, "{}: file of {} bytes is shorter than the minidump header page of {}", name,
                      file_size, page);
  CORONER_CHECK(section(layout.msgbuf, h.msgbuf_size, "message buffer"));
  CORONER_CHECK(section(layout.dump_avail, h.dump_avail_size, "dump_avail"));
  CORONER_CHECK(section(layout.bitmap, h.bitmap_size, "page bitmap"));
  CORONER_CHECK(section(layout.pmap, h.pmap_size, "page-table"));
  layout.pages = at;
  return layout;
}

}  // namespace coroner::freebsd
