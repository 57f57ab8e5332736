// Opening kdump-compressed files: header validation, split-part checks.
// Reading pages: kdump_dump.cpp.
#include "capture/format/kdump_compressed.hpp"

#include "capture/format/elf_notes.hpp"
#include "capture/format/flattened.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <tuple>

namespace coroner {
namespace {

using kdump::DiskDumpHeader;
using kdump::SubHeader;

constexpr int32_t kMinBlockSize = 512;
constexpr int32_t kMaxBlockSize = 1 << 20;
// VMCOREINFO is at most a page in the kernel; notes are a few KiB per CPU.
constexpr uint64_t kMaxVmcoreinfoSize = 1 << 20;
constexpr uint64_t kMaxNoteSize = uint64_t{64} << 20;
// Header versions beyond this are garbage (6 is current in 2024).
constexpr int32_t kMaxHeaderVersion = 1000;

// A region [offset, offset + size) a header field names, checked to lie in
// the file.
Expected<void> check_region(const ByteSource& source, std::string_view what, uint64_t offset, uint64_t size) {
  if (offset > source.size() || size > source.size() - offset)
    return make_error(Errc::truncated, "{}: dump is incomplete/truncated: {} ({} bytes at offset {:#x}) runs past the "
                                       "end of the file at offset {:#x}",
                      source.name(), what, size, offset, source.size());
  return {};
}

Expected<std::vector<std::byte>> read_region(const ByteSource& source, std::string_view what, uint64_t offset,
                                             uint64_t size) {
  CORONER_CHECK(check_region(source, what, offset, size));
  std::vector<std::byte> bytes(size);
  CORONER_CHECK(source.read_at(offset, bytes));
  return bytes;
}

Expected<DiskDumpHeader> read_header(const ByteSource& source) {
  const std::string& name = source.name();
  std::array<std::byte, kdump::kDiskDumpHeaderSize> raw{};
  if (source.size() < raw.size())
    return make_error(Errc::truncated, "{}: file ends at offset {:#x}, inside the {}-byte kdump header", name,
                      source.size(), raw.size());
  CORONER_CHECK(source.read_at(0, raw));
  std::string_view signature(reinterpret_cast<const char*>(raw.data()), kdump::kSignature.size());
  if (signature == kdump::kDiskdumpSignature)
    return make_error(Errc::unsupported, "{}: an old in-kernel diskdump (signature \"DISKDUMP\"), not supported",
                      name);
  if (signature != kdump::kSignature)
    return make_error(Errc::corrupt, "{}: not a kdump-compressed file (no \"KDUMP   \" signature at offset 0)", name);
  CORONER_TRY(h, kdump::decode_disk_dump_header(raw));

  if (h.header_version < 0 || h.header_version > kMaxHeaderVersion) {
    uint32_t swapped = __builtin_bswap32(static_cast<uint32_t>(h.header_version));
    if (swapped >= 1 && swapped <= 6)
      return make_error(Errc::unsupported, "{}: big-endian kdump file (header version {} byte-swapped), not supported",
                        name, swapped);
    return make_error(Errc::corrupt, "{}: header_version {} at offset 0x8 is not a kdump header version", name,
                      h.header_version);
  }
  if (h.block_size < kMinBlockSize || h.block_size > kMaxBlockSize || !std::has_single_bit(
                                                                           static_cast<uint32_t>(h.block_size)))
    return make_error(Errc::corrupt, "{}: block_size {} at offset 0x1ac is not a page size (a power of two from {} to {})",
                      name, h.block_size, kMinBlockSize, kMaxBlockSize);
  if (h.sub_hdr_size < (h.header_version >= 1 ? 1 : 0))
    return make_error(Errc::corrupt, "{}: sub_hdr_size {} at offset 0x1b0 leaves no room for the sub-header", name,
                      h.sub_hdr_size);
  if (h.bitmap_blocks == 0 || h.bitmap_blocks % 2 != 0)
    return make_error(Errc::corrupt, "{}: bitmap_blocks {} at offset 0x1b4 does not hold two equal bitmaps", name,
                      h.bitmap_blocks);
  return h;
}

// Everything of one part except its bitmap.
struct ParsedPart {
  std::shared_ptr<const ByteSource> source;
  DiskDumpHeader header;
  SubHeader sub;
  uint64_t max_mapnr = 0, start_pfn = 0, end_pfn = 0;
};

Expected<ParsedPart> parse_part(std::shared_ptr<const ByteSource> source) {
  const std::string& name = source->name();
  CORONER_TRY(header, read_header(*source));
  uint64_t block = static_cast<uint32_t>(header.block_size);
  CORONER_TRY(sub_raw, read_region(*source, "the sub-header", block, kdump::sub_header_size(header.header_version)));
  CORONER_TRY(sub, kdump::decode_sub_header(sub_raw, header.header_version));
  CORONER_CHECK(check_region(*source, "the page bitmaps", kdump::bitmap_offset(header), 2 * kdump::bitmap_size(header)));

  ParsedPart part{std::move(source), header, sub};
  part.max_mapnr = kdump::max_mapnr_of(header, sub);
  uint64_t bitmap_bits = kdump::bitmap_size(header) * 8;
  if (part.max_mapnr == 0)
    return make_error(Errc::corrupt, "{}: max_mapnr is 0: the dump describes no memory", name);
  if (part.max_mapnr > bitmap_bits)
    return make_error(Errc::corrupt, "{}: max_mapnr {:#x} needs more than the {:#x} pages the bitmaps of bitmap_blocks {} "
                                     "describe",
                      name, part.max_mapnr, bitmap_bits, header.bitmap_blocks);
  if (part.max_mapnr > std::numeric_limits<uint64_t>::max() / block)
    return make_error(Errc::corrupt, "{}: max_mapnr {:#x} overflows the physical address space", name, part.max_mapnr);
  part.start_pfn = kdump::start_pfn_of(header, sub);
  part.end_pfn = kdump::end_pfn_of(header, sub);
  if (part.start_pfn > part.end_pfn || part.end_pfn > part.max_mapnr)
    return make_error(Errc::corrupt, "{}: split range of pfns [{:#x}, {:#x}) does not fit in max_mapnr {:#x}", name,
                      part.start_pfn, part.end_pfn, part.max_mapnr);
  return part;
}

bool same_dump(const ParsedPart& a, const ParsedPart& b) {
  const DiskDumpHeader &x = a.header, &y = b.header;
  auto uts = [](const Utsname& u) {
    return std::tie(u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname);
  };
  return x.header_version == y.header_version && x.block_size == y.block_size && x.sub_hdr_size == y.sub_hdr_size &&
         x.bitmap_blocks == y.bitmap_blocks && x.timestamp_sec == y.timestamp_sec &&
         x.timestamp_usec == y.timestamp_usec && uts(x.utsname) == uts(y.utsname) && a.max_mapnr == b.max_mapnr;
}

// The parts, sorted by start_pfn, must tile [0, max_mapnr).
Expected<void> check_split(std::vector<ParsedPart>& parts) {
  const ParsedPart& first = parts.front();
  for (const ParsedPart& part : parts) {
    if (parts.size() > 1 && !part.sub.split)
      return make_error(Errc::invalid_argument, "{}: not a part of a makedumpfile --split dump, but several files were "
                                                "given",
                        part.source->name());
    if (!same_dump(first, part))
      return make_error(Errc::invalid_argument, "{} and {} are not parts of the same split dump (their headers differ)",
                        first.source->name(), part.source->name());
  }
  std::stable_sort(parts.begin(), parts.end(),
                   [](const ParsedPart& a, const ParsedPart& b) { return a.start_pfn < b.start_pfn; });
  uint64_t covered = 0;
  const ParsedPart* previous = nullptr;
  for (const ParsedPart& part : parts) {
    if (part.start_pfn < covered)
      return make_error(Errc::invalid_argument, "{} and {} both hold pfns from {:#x}: the same part given twice?",
                        previous->source->name(), part.source->name(), part.start_pfn);
    if (part.start_pfn > covered)
      return make_error(Errc::invalid_argument,
                        "{}: split dump is missing a part: no file given holds pfns [{:#x}, {:#x})",
                        part.source->name(), covered, part.start_pfn);
    covered = part.end_pfn;
    previous = &part;
  }
  if (covered < first.max_mapnr)
    return make_error(Errc::invalid_argument, "{}: split dump is missing a part: no file given holds pfns [{:#x}, {:#x})",
                      previous->source->name(), covered, first.max_mapnr);
  return {};
}

// Whether the file ends before its page descriptors, or before the data of
// one of its last pages. Writers store data in pfn order after one shared
// zero page, so the tail of the descriptor table points at the end of the
// data; a file whose last pages are all zero pages escapes this check, and
// its missing pages then fail to read with Errc::truncated.
Expected<bool> part_truncated(const KdumpDump::Part& part) {
  constexpr uint64_t kTailDescriptors = 1024;
  uint64_t count = part.dumped.rank(part.end_pfn) - part.rank_base;
  if (count == 0) return false;
  uint64_t table = kdump::page_desc_offset(part.header);
  uint64_t size = part.source->size();
  if (count > (size - std::min(size, table)) / kdump::kPageDescSize) return true;
  uint64_t tail = std::min(count, kTailDescriptors);
  std::vector<std::byte> raw(tail * kdump::kPageDescSize);
  CORONER_CHECK(part.source->read_at(table + (count - tail) * kdump::kPageDescSize, raw));
  for (uint64_t i = 0; i < tail; ++i) {
    CORONER_TRY(desc, kdump::decode_page_desc(std::span(raw).subspan(i * kdump::kPageDescSize)));
    if (desc.offset > size || desc.size > size - desc.offset) return true;
  }
  return false;
}

// Writers put the page data right after the page descriptors, one
// descriptor per page set in the dumpable bitmap. A bitmap with a bit
// flipped would hand every later page its neighbour's descriptor, so the
// count is checked against the file: the last descriptor must point past
// the descriptor table, and the bytes after the table must not be one
// more descriptor.
Expected<void> check_descriptor_count(const KdumpDump::Part& part) {
  const uint64_t count = part.dumped.rank(part.end_pfn) - part.rank_base;
  if (count == 0 || (part.header.status & kdump::kFlagIncomplete)) return {};
  const uint64_t table = kdump::page_desc_offset(part.header), data = table + count * kdump::kPageDescSize;
  const uint64_t size = part.source->size(), block = static_cast<uint32_t>(part.header.block_size);
  auto descriptor_into_data = [&](const kdump::PageDesc& d) {
    return d.offset >= data && d.offset < size && d.size > 0 && d.size <= block && d.size <= size - d.offset &&
           (d.flags & ~kdump::kCompressionFlags) == 0;
  };
  auto mismatch = [&](std::string_view what) {
    return make_error(Errc::corrupt, "{}: the dumpable-page bitmap at offset {:#x} counts {} pages, but {} (a damaged "
                      "bitmap would give pages other pages' data)", part.source->name(),
                      kdump::bitmap_offset(part.header) + kdump::bitmap_size(part.header), count, what);
  };
  std::array<std::byte, kdump::kPageDescSize> raw{};
  CORONER_CHECK(part.source->read_at(data - kdump::kPageDescSize, raw));
  CORONER_TRY(last, kdump::decode_page_desc(raw));
  if (!descriptor_into_data(last))
    return mismatch(fmt::format("descriptor {} at offset {:#x} does not point into the page data after the table", count - 1,
                                data - kdump::kPageDescSize));
  if (data + raw.size() > size) return {};
  CORONER_CHECK(part.source->read_at(data, raw));
  CORONER_TRY(next, kdump::decode_page_desc(raw));
  if (descriptor_into_data(next))
    return mismatch(fmt::format("another page descriptor follows the table at offset {:#x}", data));
  return {};
}

Expected<std::vector<ElfNote>> read_notes(const ParsedPart& part) {
  const SubHeader& sub = part.sub;
  if (sub.offset_note == 0 || sub.size_note == 0) return std::vector<ElfNote>{};
  if (sub.size_note > kMaxNoteSize)
    return make_error(Errc::corrupt, "{}: note area of {} bytes (size_note) is implausibly large", part.source->name(),
                      sub.size_note);
  CORONER_TRY(bytes, read_region(*part.source, "the ELF note area", sub.offset_note, sub.size_note));
  return parse_elf_notes(bytes, part.source->name(), sub.offset_note);
}

Expected<std::optional<std::string>> read_vmcoreinfo(const ParsedPart& part) {
  const SubHeader& sub = part.sub;
  if (sub.offset_vmcoreinfo == 0 || sub.size_vmcoreinfo == 0) return std::optional<std::string>{};
  if (sub.size_vmcoreinfo > kMaxVmcoreinfoSize)
    return make_error(Errc::corrupt, "{}: VMCOREINFO of {} bytes (size_vmcoreinfo) is implausibly large",
                      part.source->name(), sub.size_vmcoreinfo);
  CORONER_TRY(bytes, read_region(*part.source, "VMCOREINFO", sub.offset_vmcoreinfo, sub.size_vmcoreinfo));
  std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  return std::optional<std::string>(std::move(text));
}

}  // namespace

bool looks_like_kdump(std::span<const std::byte> head) {
  return head.size() >= kdump::kSignature.size() &&
         std::memcmp(head.data(), kdump::kSignature.data(), kdump::kSignature.size()) == 0;
}

Expected<std::unique_ptr<Dump>> open_kdump(std::vector<std::shared_ptr<const ByteSource>> sources) {
  if (sources.empty()) return make_error(Errc::invalid_argument, "open_kdump: no files given");
  std::vector<ParsedPart> parsed;
  bool flattened = false;
  for (auto& source : sources) {
    flattened = flattened || is_flattened(*source);
    CORONER_TRY(part, parse_part(std::move(source)));
    parsed.push_back(std::move(part));
  }
  std::vector<std::string> given_order;
  for (const ParsedPart& p : parsed) given_order.push_back(p.source->name());
  CORONER_CHECK(check_split(parsed));

  const ParsedPart& first = parsed.front();
  // The first bitmap gives the RAM ranges, never a rank.
  CORONER_TRY(in_memory,
              kdump::PageBitmap::load(first.source, kdump::bitmap_offset(first.header), first.max_mapnr, false));
  bool truncated = false;
  std::vector<KdumpDump::Part> parts;
  for (ParsedPart& p : parsed) {
    CORONER_TRY(dumped, kdump::PageBitmap::load(p.source, kdump::bitmap_offset(p.header) + kdump::bitmap_size(p.header),
                                                p.max_mapnr));
    uint64_t rank_base = dumped.rank(p.start_pfn);
    KdumpDump::Part part{p.source, p.header, p.sub, p.start_pfn, p.end_pfn, std::move(dumped), rank_base};
    CORONER_TRY(cut, part_truncated(part));
    if (!cut) CORONER_CHECK(check_descriptor_count(part));
    truncated = truncated || cut;
    parts.push_back(std::move(part));
  }
  CORONER_TRY(notes, read_notes(first));
  CORONER_TRY(vmcoreinfo, read_vmcoreinfo(first));
  return std::unique_ptr<Dump>(std::make_unique<KdumpDump>(std::move(parts), std::move(in_memory), std::move(notes),
                                                          std::move(vmcoreinfo), std::move(given_order), flattened,
                                                          truncated));
}

}  // namespace coroner
