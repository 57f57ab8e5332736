#include "capture/format/kdump_header.hpp"

#include <algorithm>
#include <cstring>

namespace coroner::kdump {
namespace {

// Field offsets of struct disk_dump_header on 64-bit systems: the 6 x 65
// utsname bytes end at 402 and struct timeval aligns to 8.
constexpr size_t kOffVersion = 8;
constexpr size_t kOffUtsname = 12;
constexpr size_t kOffTimestamp = 408;
constexpr size_t kOffStatus = 424;
constexpr size_t kOffBlockSize = 428;
constexpr size_t kOffSubHdrSize = 432;
constexpr size_t kOffBitmapBlocks = 436;
constexpr size_t kOffMaxMapnr = 440;
constexpr size_t kOffTotalRamBlocks = 444;
constexpr size_t kOffDeviceBlocks = 448;
constexpr size_t kOffWrittenBlocks = 452;
constexpr size_t kOffCurrentCpu = 456;
constexpr size_t kOffNrCpus = 460;

std::string utsname_field(const std::byte* p) {
  const char* chars = reinterpret_cast<const char*>(p);
  return std::string(chars, strnlen(chars, kUtsnameFieldSize));
}

void store_utsname_field(std::byte* p, const std::string& value) {
  // At most 64 characters: the 65th byte stays NUL.
  std::memcpy(p, value.data(), std::min(value.size(), kUtsnameFieldSize - 1));
}

Error short_buffer(std::string_view what, size_t have, size_t need) {
  return make_error(Errc::truncated, "{} needs {} bytes, only {} available", what, need, have);
}

}  // namespace

uint32_t flag_of_codec(PageCodec codec) {
  switch (codec) {
    case PageCodec::none: return 0;
    case PageCodec::zlib: return kFlagZlib;
    case PageCodec::lzo: return kFlagLzo;
    case PageCodec::snappy: return kFlagSnappy;
    case PageCodec::zstd: return kFlagZstd;
  }
  return 0;
}

std::optional<PageCodec> codec_of_flags(uint32_t flags) {
  switch (flags & kCompressionFlags) {
    case 0: return PageCodec::none;
    case kFlagZlib: return PageCodec::zlib;
    case kFlagLzo: return PageCodec::lzo;
    case kFlagSnappy: return PageCodec::snappy;
    case kFlagZstd: return PageCodec::zstd;
    default: return std::nullopt;
  }
}

Expected<DiskDumpHeader> decode_disk_dump_header(std::span<const std::byte> bytes) {
  if (bytes.size() < kDiskDumpHeaderSize) return short_buffer("disk_dump_header", bytes.size(), kDiskDumpHeaderSize);
  const std::byte* p = bytes.data();
  DiskDumpHeader h;
  h.header_version = static_cast<int32_t>(load_le32(p + kOffVersion));
  std::string* fields[] = {&h.utsname.sysname, &h.utsname.nodename, &h.utsname.release,
                           &h.utsname.version, &h.utsname.machine,  &h.utsname.domainname};
  for (size_t i = 0; i < 6; ++i) *fields[i] = utsname_field(p + kOffUtsname + i * kUtsnameFieldSize);
  h.timestamp_sec = static_cast<int64_t>(load_le64(p + kOffTimestamp));
  h.timestamp_usec = static_cast<int64_t>(load_le64(p + kOffTimestamp + 8));
  h.status = load_le32(p + kOffStatus);
  h.block_size = static_cast<int32_t>(load_le32(p + kOffBlockSize));
  h.sub_hdr_size = static_cast<int32_t>(load_le32(p + kOffSubHdrSize));
  h.bitmap_blocks = load_le32(p + kOffBitmapBlocks);
  h.max_mapnr = load_le32(p + kOffMaxMapnr);
  h.total_ram_blocks = load_le32(p + kOffTotalRamBlocks);
  h.device_blocks = load_le32(p + kOffDeviceBlocks);
  h.written_blocks = load_le32(p + kOffWrittenBlocks);
  h.current_cpu = load_le32(p + kOffCurrentCpu);
  h.nr_cpus = static_cast<int32_t>(load_le32(p + kOffNrCpus));
  return h;
}

std::array<std::byte, kDiskDumpHeaderSize> encode_disk_dump_header(const DiskDumpHeader& h) {
  std::array<std::byte, kDiskDumpHeaderSize> out{};
  std::byte* p = out.data();
  std::memcpy(p, kSignature.data(), kSignature.size());
  store_le32(p + kOffVersion, static_cast<uint32_t>(h.header_version));
  const std::string* fields[] = {&h.utsname.sysname, &h.utsname.nodename, &h.utsname.release,
                                 &h.utsname.version, &h.utsname.machine,  &h.utsname.domainname};
  for (size_t i = 0; i < 6; ++i) store_utsname_field(p + kOffUtsname + i * kUtsnameFieldSize, *fields[i]);
  store_le64(p + kOffTimestamp, static_cast<uint64_t>(h.timestamp_sec));
  store_le64(p + kOffTimestamp + 8, static_cast<uint64_t>(h.timestamp_usec));
  store_le32(p + kOffStatus, h.status);
  store_le32(p + kOffBlockSize, static_cast<uint32_t>(h.block_size));
  store_le32(p + kOffSubHdrSize, static_cast<uint32_t>(h.sub_hdr_size));
  store_le32(p + kOffBitmapBlocks, h.bitmap_blocks);
  store_le32(p + kOffMaxMapnr, h.max_mapnr);
  store_le32(p + kOffTotalRamBlocks, h.total_ram_blocks);
  store_le32(p + kOffDeviceBlocks, h.device_blocks);
  store_le32(p + kOffWrittenBlocks, h.written_blocks);
  store_le32(p + kOffCurrentCpu, h.current_cpu);
  store_le32(p + kOffNrCpus, static_cast<uint32_t>(h.nr_cpus));
  return out;
}

size_t sub_header_size(int32_t header_version) {
  if (header_version >= 6) return kSubHeaderSize;  // + start_pfn_64, end_pfn_64, max_mapnr_64
  if (header_version >= 5) return 80;              // + offset/size_eraseinfo
  if (header_version >= 4) return 64;              // + offset/size_note
  if (header_version >= 3) return 48;              // + offset/size_vmcoreinfo
  if (header_version >= 2) return 32;              // + split, start_pfn, end_pfn
  if (header_version >= 1) return 12;              // + dump_level
  return 8;                                        // phys_base
}

Expected<SubHeader> decode_sub_header(std::span<const std::byte> bytes, int32_t header_version) {
  size_t need = sub_header_size(header_version);
  if (bytes.size() < need) return short_buffer("kdump_sub_header", bytes.size(), need);
  const std::byte* p = bytes.data();
  SubHeader s;
  s.phys_base = load_le64(p);
  if (header_version >= 1) s.dump_level = static_cast<int32_t>(load_le32(p + 8));
  if (header_version >= 2) {
    s.split = static_cast<int32_t>(load_le32(p + 12));
    s.start_pfn = load_le64(p + 16);
    s.end_pfn = load_le64(p + 24);
  }
  if (header_version >= 3) {
    s.offset_vmcoreinfo = load_le64(p + 32);
    s.size_vmcoreinfo = load_le64(p + 40);
  }
  if (header_version >= 4) {
    s.offset_note = load_le64(p + 48);
    s.size_note = load_le64(p + 56);
  }
  if (header_version >= 5) {
    s.offset_eraseinfo = load_le64(p + 64);
    s.size_eraseinfo = load_le64(p + 72);
  }
  if (header_version >= 6) {
    s.start_pfn_64 = load_le64(p + 80);
    s.end_pfn_64 = load_le64(p + 88);
    s.max_mapnr_64 = load_le64(p + 96);
  }
  return s;
}

std::array<std::byte, kSubHeaderSize> encode_sub_header(const SubHeader& s) {
  std::array<std::byte, kSubHeaderSize> out{};
  std::byte* p = out.data();
  store_le64(p, s.phys_base);
  store_le32(p + 8, static_cast<uint32_t>(s.dump_level));
  store_le32(p + 12, static_cast<uint32_t>(s.split));
  store_le64(p + 16, s.start_pfn);
  store_le64(p + 24, s.end_pfn);
  store_le64(p + 32, s.offset_vmcoreinfo);
  store_le64(p + 40, s.size_vmcoreinfo);
  store_le64(p + 48, s.offset_note);
  store_le64(p + 56, s.size_note);
  store_le64(p + 64, s.offset_eraseinfo);
  store_le64(p + 72, s.size_eraseinfo);
  store_le64(p + 80, s.start_pfn_64);
  store_le64(p + 88, s.end_pfn_64);
  store_le64(p + 96, s.max_mapnr_64);
  return out;
}

Expected<PageDesc> decode_page_desc(std::span<const std::byte> bytes) {
  if (bytes.size() < kPageDescSize) return short_buffer("page_desc", bytes.size(), kPageDescSize);
  const std::byte* p = bytes.data();
  return PageDesc{load_le64(p), load_le32(p + 8), load_le32(p + 12), load_le64(p + 16)};
}

std::array<std::byte, kPageDescSize> encode_page_desc(const PageDesc& d) {
  std::array<std::byte, kPageDescSize> out{};
  store_le64(out.data(), d.offset);
  store_le32(out.data() + 8, d.size);
  store_le32(out.data() + 12, d.flags);
  store_le64(out.data() + 16, d.page_flags);
  return out;
}

uint64_t max_mapnr_of(const DiskDumpHeader& header, const SubHeader& sub) {
  return header.header_version >= 6 ? sub.max_mapnr_64 : header.max_mapnr;
}

uint64_t start_pfn_of(const DiskDumpHeader& header, const SubHeader& sub) {
  if (!sub.split) return 0;
  return header.header_version >= 6 ? sub.start_pfn_64 : sub.start_pfn;
}

uint64_t end_pfn_of(const DiskDumpHeader& header, const SubHeader& sub) {
  if (!sub.split) return max_mapnr_of(header, sub);
  return header.header_version >= 6 ? sub.end_pfn_64 : sub.end_pfn;
}

}  // namespace coroner::kdump
