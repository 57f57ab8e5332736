// A FreeBSD minidump (amd64 v1-3, arm64 v1-3 with 4K or 16K pages) as a
// Dump: physical memory from the sparse page bitmap, plus the sections a
// translator and the OS model read (the kernel page-table section, the
// message buffer) and what the kerneldumpheader or info.N beside the file
// says about the machine. Layout facts: docs of freebsd_minidump_header.hpp.
#pragma once

#include "capture/format/byte_source.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/freebsd_minidump_header.hpp"
#include "capture/format/kdump_bitmap.hpp"
#include "capture/format/kerneldump_header.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coroner::freebsd {

// A [start, end) range of dump_avail and the bitmap bit of its first page.
struct DumpAvailRange {
  uint64_t start = 0, end = 0;
  uint64_t first_bit = 0;
};

// Where the file came from and what its kerneldumpheader says, when known:
// the leader of a dump-device image, or savecore's info.N beside the file.
struct DumpOrigin {
  std::string container;  // "vmcore", "dump device", "zstd", "gzip", ...
  std::optional<KernelDumpHeader> header;
  std::string header_source;  // "dump device leader", "/var/crash/info.0"
};

class Minidump final : public Dump {
 public:
  // Opens the minidump that is the whole of `source`. `files` are the
  // names the user gave (for files()).
  static Expected<std::unique_ptr<Minidump>> open(std::shared_ptr<const ByteSource> source,
                                                  std::vector<std::string> files, DumpOrigin origin);

  std::string_view format_name() const override { return "freebsd-minidump"; }
  std::string description() const override;
  Machine machine() const override;
  const std::vector<std::string>& files() const override { return files_; }
  const std::vector<ElfNote>& notes() const override { return notes_; }
  uint64_t page_size() const override { return header_.page_size(); }
  bool incomplete() const override { return truncated_; }
  std::optional<Utsname> utsname() const override;

  Expected<void> read(uint64_t paddr, std::span<std::byte> out) const override;
  std::vector<PhysRange> ranges() const override;

  const MinidumpHeader& header() const { return header_; }
  const DumpOrigin& origin() const { return origin_; }
  const std::vector<DumpAvailRange>& dump_avail() const { return dump_avail_; }
  // Pages the file holds (set bits of the bitmap).
  uint64_t dumped_pages() const { return dumped_pages_; }

  // Entries of the kernel page-table section (8 bytes each): amd64 v2+ one
  // PDE per 2 MiB from kernbase, amd64 v1 one PTE per 4 KiB, arm64 one L3
  // entry per page.
  uint64_t page_table_entries() const { return header_.pmap_size / 8; }
  Expected<uint64_t> page_table_entry(uint64_t index) const;

  // The message-buffer section: the ring's bytes (msgbufsize of them) and,
  // in a panic dump, whatever follows up to the page boundary.
  Expected<std::vector<std::byte>> message_buffer_section() const;

 private:
  Minidump() = default;
  Expected<void> load_dump_avail();
  Expected<void> read_in_page(uint64_t paddr, std::span<std::byte> out) const;

  std::shared_ptr<const ByteSource> source_;
  std::vector<std::string> files_;
  std::vector<ElfNote> notes_;
  DumpOrigin origin_;
  MinidumpHeader header_;
  MinidumpLayout layout_;
  std::vector<DumpAvailRange> dump_avail_;
  kdump::PageBitmap bitmap_;
  uint64_t dumped_pages_ = 0;
  bool truncated_ = false;
};

}  // namespace coroner::freebsd
