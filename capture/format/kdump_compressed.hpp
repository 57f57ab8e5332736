// Reader of kdump-compressed dumps (makedumpfile's default output, QEMU's
// dump-guest-memory kdump-* formats, the files of makedumpfile --split),
// from any ByteSource: a mapped file or a reassembled flattened stream.
// Layout and field meanings: kdump_header.hpp.
#pragma once

#include "capture/format/byte_source.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/kdump_bitmap.hpp"
#include "capture/format/kdump_header.hpp"
#include "capture/format/page_codec.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace coroner {

// True when `head` starts with the "KDUMP   " signature.
bool looks_like_kdump(std::span<const std::byte> head);

// Opens a kdump-compressed dump. One part is a normal dump; several are the
// files of one makedumpfile --split dump, in any order: they must share
// their headers and cover [0, max_mapnr) with disjoint pfn ranges.
Expected<std::unique_ptr<Dump>> open_kdump(std::vector<std::shared_ptr<const ByteSource>> parts);

class KdumpPageCache;

class KdumpDump final : public Dump {
 public:
  // One file of the dump (several for --split), ordered by start_pfn.
  struct Part {
    std::shared_ptr<const ByteSource> source;
    kdump::DiskDumpHeader header;
    kdump::SubHeader sub;
    uint64_t start_pfn = 0;  // pages [start_pfn, end_pfn) have descriptors here
    uint64_t end_pfn = 0;
    kdump::PageBitmap dumped;  // this file's 2nd bitmap
    uint64_t rank_base = 0;    // dumped.rank(start_pfn): descriptor 0's pfn rank
  };

  // Made by open_kdump from validated parts; `files` in the order given.
  KdumpDump(std::vector<Part> parts, kdump::PageBitmap in_memory, std::vector<ElfNote> notes,
            std::optional<std::string> vmcoreinfo, std::vector<std::string> files, bool flattened, bool truncated);
  ~KdumpDump() override;

  // --- Dump ---
  std::string_view format_name() const override;  // "kdump", "flattened" or "split"
  // "kdump-compressed (zlib), dump level 31" (+ ", flattened", ", split into N
  // files", ", INCOMPLETE", ", TRUNCATED").
  std::string description() const override;
  Machine machine() const override;
  const std::vector<std::string>& files() const override { return files_; }
  const std::vector<ElfNote>& notes() const override { return notes_; }
  uint64_t page_size() const override { return block_size_; }  // the header's block_size
  std::optional<std::string> vmcoreinfo_text() const override;
  // Marked incomplete by the writer, or the file ends before its page
  // descriptors or page data do.
  bool incomplete() const override;
  std::optional<int> dump_level() const override;
  std::optional<Utsname> utsname() const override { return header().utsname; }
  Expected<void> read(uint64_t paddr, std::span<std::byte> out) const override;
  std::vector<PhysRange> ranges() const override { return ranges_; }

  // --- kdump specifics, for tests and the capture side ---
  const kdump::DiskDumpHeader& header() const { return parts_.front().header; }
  const kdump::SubHeader& sub_header() const { return parts_.front().sub; }
  const std::vector<Part>& parts() const { return parts_; }
  uint32_t header_version() const { return static_cast<uint32_t>(header().header_version); }
  uint64_t max_mapnr() const { return max_mapnr_; }
  uint32_t status() const { return header().status; }
  // The compression the header's status announces (pages may still be raw).
  PageCodec codec() const;
  bool marked_incomplete() const { return (status() & kdump::kFlagIncomplete) != 0; }
  bool excluded_vmemmap() const { return (status() & kdump::kFlagExcludedVmemmap) != 0; }
  // The file ends before the descriptors or data of some pages.
  bool truncated() const { return truncated_; }

  bool page_in_memory(uint64_t pfn) const { return pfn < max_mapnr_ && in_memory_.test(pfn); }  // 1st bitmap
  bool page_dumped(uint64_t pfn) const;                                                          // 2nd bitmap
  // The descriptor of a dumped page; the errors of read() otherwise.
  Expected<kdump::PageDesc> page_descriptor(uint64_t pfn) const;
  // How a dumped page is stored; PageCodec::none also when the page has no
  // readable descriptor (page_descriptor() says why).
  PageCodec codec_of_page(uint64_t pfn) const;

 private:
  const Part* part_of(uint64_t pfn) const;
  // The descriptor of the page holding `paddr`, checked against the file;
  // errors name `paddr`.
  Expected<kdump::PageDesc> locate(uint64_t paddr, const Part** part) const;
  // Reads bytes from `paddr` up to at most the end of its page.
  Expected<void> read_in_page(uint64_t paddr, std::span<std::byte> out) const;

  std::vector<Part> parts_;
  kdump::PageBitmap in_memory_;
  std::vector<ElfNote> notes_;
  std::optional<std::string> vmcoreinfo_;
  std::vector<std::string> files_;
  std::vector<PhysRange> ranges_;
  uint64_t block_size_ = 0;
  uint64_t max_mapnr_ = 0;
  bool flattened_ = false;
  bool truncated_ = false;
  std::unique_ptr<KdumpPageCache> cache_;
};

}  // namespace coroner
