#include "capture/format/freebsd_minidump.hpp"

#include "capture/format/byte_order.hpp"

#include <algorithm>

namespace coroner::freebsd {
namespace {

// The kernel's writer asserts dump_avail fits in one page; anything much
// larger is not a minidump's.
constexpr uint64_t kMaxDumpAvailSize = 64 * 1024;

uint64_t round_up(uint64_t value, uint64_t page) { return (value + page - 1) / page * page; }

// Bits a range takes in the bitmap: every page it touches (vm_page_dump_pages).
uint64_t bits_of(uint64_t start, uint64_t end, uint64_t page) { return (end / page + (end % page != 0)) - start / page; }

}  // namespace

Expected<std::unique_ptr<Minidump>> Minidump::open(std::shared_ptr<const ByteSource> source,
                                                   std::vector<std::string> files, DumpOrigin origin) {
  std::unique_ptr<Minidump> dump(new Minidump());
  const std::string& name = source->name();
  std::vector<std::byte> head(std::min<uint64_t>(source->size(), 128));
  CORONER_CHECK(source->read_at(0, head));
  CORONER_TRY(header, decode_minidump_header(head, name));
  CORONER_TRY(layout, minidump_layout(header, source->size(), name));
  dump->source_ = std::move(source);
  dump->files_ = std::move(files);
  dump->origin_ = std::move(origin);
  dump->header_ = header;
  dump->layout_ = layout;
  CORONER_CHECK(dump->load_dump_avail());
  const DumpAvailRange& last = dump->dump_avail_.back();
  uint64_t bits = last.first_bit + bits_of(last.start, last.end, header.page_size());
  if (bits > uint64_t{header.bitmap_size} * 8)
    return make_error(Errc::corrupt, "{}: dump_avail at offset {:#x} describes {} pages, more than the {} bits of the "
                                     "{}-byte page bitmap",
                      name, layout.dump_avail, bits, uint64_t{header.bitmap_size} * 8, header.bitmap_size);
  CORONER_TRY(bitmap, kdump::PageBitmap::load(dump->source_, layout.bitmap, bits));
  dump->bitmap_ = std::move(bitmap);
  dump->dumped_pages_ = dump->bitmap_.rank(bits);
  uint64_t room = (dump->source_->size() - layout.pages) / header.page_size();
  dump->truncated_ = dump->dumped_pages_ > room;
  return dump;
}

Expected<void> Minidump::load_dump_avail() {
  const uint64_t page = header_.page_size();
  const std::string& name = source_->name();
  if (!header_.has_dump_avail()) {
    // Older versions index the bitmap by page frame number.
    dump_avail_.push_back({0, uint64_t{header_.bitmap_size} * 8 * page, 0});
    return {};
  }
  if (header_.dump_avail_size > kMaxDumpAvailSize)
    return make_error(Errc::corrupt, "{}: minidump dump_avail size {} at offset {:#x} exceeds {} bytes", name,
                      header_.dump_avail_size, layout_.dump_avail, kMaxDumpAvailSize);
  std::vector<std::byte> raw(header_.dump_avail_size);
  CORONER_CHECK(source_->read_at(layout_.dump_avail, raw));
  uint64_t next_bit = 0;
  for (size_t i = 0; i + 16 <= raw.size(); i += 16) {
    uint64_t start = load_le64(raw.data() + i), end = load_le64(raw.data() + i + 8);
    if (end == 0) break;
    uint64_t at = layout_.dump_avail + i;
    if (start >= end)
      return make_error(Errc::corrupt, "{}: dump_avail entry at offset {:#x} is empty or reversed ([{:#x}, {:#x}))",
                        name, at, start, end);
    if (!dump_avail_.empty() && start < dump_avail_.back().end)
      return make_error(Errc::corrupt, "{}: dump_avail entry at offset {:#x} ([{:#x}, {:#x})) overlaps or precedes the "
                                       "one before it",
                        name, at, start, end);
    dump_avail_.push_back({start, end, next_bit});
    next_bit += bits_of(start, end, page);
  }
  if (dump_avail_.empty())
    return make_error(Errc::corrupt, "{}: minidump dump_avail at offset {:#x} lists no memory", name,
                      layout_.dump_avail);
  return {};
}

std::string Minidump::description() const {
  std::string text = fmt::format("FreeBSD {} minidump version {}, {}K pages", minidump_arch_name(header_.arch),
                                 header_.version, header_.page_size() / 1024);
  if (!origin_.container.empty() && origin_.container != "vmcore") text += ", " + origin_.container;
  if (truncated_) text += ", TRUNCATED (the file ends before its last pages)";
  return text;
}

Machine Minidump::machine() const {
  return header_.arch == MinidumpArch::amd64 ? Machine::x86_64 : Machine::aarch64;
}

std::optional<Utsname> Minidump::utsname() const {
  if (!origin_.header) return std::nullopt;
  const KernelDumpHeader& h = *origin_.header;
  Utsname names;
  names.sysname = "FreeBSD";
  names.nodename = h.hostname;
  names.machine = h.architecture;
  // "FreeBSD 14.1-RELEASE releng/14.1-n267679-10e31f0946d8 GENERIC amd64\n..."
  std::string_view version = h.version_string;
  names.version = std::string(version.substr(0, version.find('\n')));
  if (version.starts_with("FreeBSD ")) {
    std::string_view rest = version.substr(8);
    names.release = std::string(rest.substr(0, rest.find_first_of(" \n")));
  }
  return names;
}

std::vector<PhysRange> Minidump::ranges() const {
  std::vector<PhysRange> result;
  if (header_.has_dump_avail()) {
    for (const DumpAvailRange& range : dump_avail_) result.push_back({range.start, range.end - range.start});
    return result;
  }
  for (auto [first, end] : bitmap_.runs()) result.push_back({first * page_size(), (end - first) * page_size()});
  return result;
}

Expected<void> Minidump::read_in_page(uint64_t paddr, std::span<std::byte> out) const {
  const uint64_t page = page_size();
  const std::string& name = source_->name();
  auto after = std::upper_bound(dump_avail_.begin(), dump_avail_.end(), paddr,
                                [](uint64_t value, const DumpAvailRange& range) { return value < range.start; });
  if (after == dump_avail_.begin() || paddr >= std::prev(after)->end)
    return make_error(Errc::not_in_dump, "{}: physical address {:#x} is in no dump_avail range of the minidump", name,
                      paddr);
  const DumpAvailRange& range = *std::prev(after);
  uint64_t bit = paddr / page - range.start / page + range.first_bit;
  if (!bitmap_.test(bit))
    return make_error(Errc::excluded_by_filter,
                      "{}: physical address {:#x} is not in the minidump (its page was not dumped; minidumps keep "
                      "the kernel's pages only)",
                      name, paddr);
  uint64_t index = bitmap_.rank(bit);
  uint64_t offset = layout_.pages + index * page + paddr % page;
  if (offset > source_->size() || out.size() > source_->size() - offset)
    return make_error(Errc::truncated,
                      "{}: minidump is truncated: page {} of physical address {:#x} would be at offset {:#x}, the file "
                      "ends at {:#x}",
                      name, index, paddr, offset - paddr % page, source_->size());
  return source_->read_at(offset, out);
}

Expected<void> Minidump::read(uint64_t paddr, std::span<std::byte> out) const {
  return read_page_by_page(paddr, out, page_size(),
                           [this](uint64_t at, std::span<std::byte> part) { return read_in_page(at, part); });
}

Expected<uint64_t> Minidump::page_table_entry(uint64_t index) const {
  if (index >= page_table_entries())
    return make_error(Errc::not_mapped, "{}: page-table entry {} is beyond the minidump's {} entries", source_->name(),
                      index, page_table_entries());
  std::array<std::byte, 8> raw{};
  CORONER_CHECK(source_->read_at(layout_.pmap + index * 8, raw));
  return load_le64(raw.data());
}

Expected<std::vector<std::byte>> Minidump::message_buffer_section() const {
  std::vector<std::byte> bytes(round_up(header_.msgbuf_size, page_size()));
  CORONER_CHECK(source_->read_at(layout_.msgbuf, bytes));
  return bytes;
}

}  // namespace coroner::freebsd
