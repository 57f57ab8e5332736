#include "tests/support/freebsd_minidump_writer.hpp"

#include "capture/format/byte_order.hpp"

#include <algorithm>
#include <ctime>
#include <stdexcept>

namespace coroner::test {
namespace {

uint64_t round_up(uint64_t value, uint64_t page) { return (value + page - 1) / page * page; }

void append(std::string& out, std::span<const std::byte> bytes, uint64_t padded_size) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  out.append(padded_size - bytes.size(), '\0');
}

constexpr size_t kMsgbufStructSize = 72;
constexpr uint32_t kMsgMagic = 0x063062;
constexpr uint64_t kMetadataSize = 64 * 1024;

}  // namespace

std::string write_minidump(const MinidumpContents& c) {
  freebsd::MinidumpHeader h = c.header;
  const uint64_t page = h.page_size();
  // Bits per range: every page a range touches (vm_page_dump_pages).
  std::vector<std::pair<uint64_t, uint64_t>> ranges = c.dump_avail;
  if (!h.has_dump_avail()) {
    // Older versions index all of physical memory by page frame number.
    uint64_t top = c.pages.empty() ? page : c.pages.rbegin()->first + page;
    if (!c.dump_avail.empty()) top = std::max(top, c.dump_avail.back().second);
    ranges = {{0, top}};
  }
  std::vector<uint64_t> first_bit;
  uint64_t bits = 0;
  for (auto [start, end] : ranges) {
    first_bit.push_back(bits);
    bits += (end + page - 1) / page - start / page;
  }
  uint64_t bitmap_bytes = round_up(round_up(bits, 64) / 8, page);
  std::vector<std::byte> bitmap(bitmap_bytes);
  for (const auto& [pa, bytes] : c.pages) {
    size_t r = 0;
    while (r < ranges.size() && !(pa >= ranges[r].first && pa < ranges[r].second)) ++r;
    if (r == ranges.size()) throw std::runtime_error("write_minidump: page outside dump_avail");
    uint64_t bit = pa / page - ranges[r].first / page + first_bit[r];
    bitmap[bit / 8] |= static_cast<std::byte>(1u << (bit % 8));
  }
  std::vector<std::byte> dump_avail;
  if (h.has_dump_avail()) {
    dump_avail.resize(page);
    size_t at = 0;
    for (auto [start, end] : ranges) {
      store_le64(dump_avail.data() + at, start);
      store_le64(dump_avail.data() + at + 8, end);
      at += 16;
    }
  }
  std::vector<std::byte> pmap(c.page_table.size() * 8);
  for (size_t i = 0; i < c.page_table.size(); ++i) store_le64(pmap.data() + i * 8, c.page_table[i]);

  h.msgbuf_size = c.msg_size;
  h.bitmap_size = static_cast<uint32_t>(bitmap.size());
  h.pmap_size = static_cast<uint32_t>(pmap.size());
  h.dump_avail_size = static_cast<uint32_t>(dump_avail.size());
  std::string out;
  append(out, freebsd::encode_minidump_header(h), page);
  append(out, c.msgbuf, round_up(c.msg_size, page));
  append(out, dump_avail, dump_avail.size());
  append(out, bitmap, bitmap.size());
  append(out, pmap, round_up(pmap.size(), page));
  for (const auto& [pa, bytes] : c.pages) append(out, bytes, page);
  return out;
}

std::vector<std::byte> wrapped_msgbuf(std::string_view text, size_t area, uint32_t* ring_size) {
  std::vector<std::byte> section(area);
  const uint32_t size = static_cast<uint32_t>(area - kMsgbufStructSize);
  const uint32_t seqmod = size * 16;
  uint32_t wseq = 0;
  for (char ch : text) {
    section[wseq % size] = static_cast<std::byte>(ch);
    wseq = (wseq + 1) % seqmod;
  }
  uint32_t cksum = 0;
  for (uint32_t i = 0; i < size; ++i) cksum += static_cast<uint32_t>(section[i]);
  std::byte* msgbuf = section.data() + size;
  store_le64(msgbuf + 0, 0xfffff80000000000ULL);  // msg_ptr: any kernel address
  store_le32(msgbuf + 8, kMsgMagic);
  store_le32(msgbuf + 12, size);
  store_le32(msgbuf + 16, wseq);
  store_le32(msgbuf + 20, wseq);  // everything read
  store_le32(msgbuf + 24, cksum);
  store_le32(msgbuf + 28, seqmod);
  *ring_size = size;
  return section;
}

std::string write_dump_device(std::string_view payload, freebsd::KernelDumpHeader header) {
  header.dump_length = payload.size();
  header.dump_extent = std::max<uint64_t>(header.dump_extent, round_up(payload.size(), header.block_size));
  if (header.version < 3) header.dump_extent = round_up(payload.size(), header.block_size);
  auto block = freebsd::encode_kerneldump_header(header);
  std::string image(kMetadataSize, '\0');
  std::string header_block(header.block_size, '\0');
  std::copy(reinterpret_cast<const char*>(block.data()), reinterpret_cast<const char*>(block.data()) + block.size(),
            header_block.begin());
  image += header_block;
  image += payload;
  image.append(header.dump_extent - payload.size(), '\xaa');  // stale device contents
  image += header_block;
  return image;
}

freebsd::KernelDumpHeader test_dump_header(freebsd::MinidumpArch arch, uint32_t version) {
  freebsd::KernelDumpHeader h;
  bool amd64 = arch == freebsd::MinidumpArch::amd64;
  h.architecture = amd64 ? "amd64" : "aarch64";
  h.version = version;
  h.architecture_version = amd64 ? 2 : 1;
  h.dump_time = 1796000000;
  h.block_size = 512;
  h.hostname = "crashbox";
  h.version_string = "FreeBSD 15.0-CURRENT #0 main-n123: Thu Dec  3 2026\n    root@crashbox:/usr/obj/sys/GENERIC\n";
  h.panic_string = "page fault while in kernel mode";
  return h;
}

std::string write_info_file(const freebsd::KernelDumpHeader& h, std::string_view device) {
  char when[64];
  std::time_t t = static_cast<std::time_t>(h.dump_time);
  std::strftime(when, sizeof when, "%F %T %z", std::gmtime(&t));
  std::string magic = h.magic == freebsd::DumpMagic::kernel_dump ? "FreeBSD Kernel Dump"
                      : h.magic == freebsd::DumpMagic::text_dump ? "FreeBSD Text Dump"
                                                                 : "Cleared Kernel Dump";
  return fmt::format(
      "Dump header from device: {}\n  Architecture: {}\n  Architecture Version: {}\n  Dump Length: {}\n"
      "  Blocksize: {}\n  Compression: {}\n  Dumptime: {}\n  Hostname: {}\n  Magic: {}\n  Version String: {}"
      "  Panic String: {}\n  Dump Parity: {}\n  Bounds: 0\n  Dump Status: good\n",
      device, h.architecture, h.architecture_version, h.dump_length, h.block_size,
      freebsd::compression_name(h.compression), when, h.hostname, magic, h.version_string, h.panic_string, h.parity);
}

}  // namespace coroner::test
