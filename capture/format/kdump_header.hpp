// The on-disk structures of the kdump-compressed format (makedumpfile's
// default output, QEMU's dump-guest-memory kdump-* formats), shared by the
// reader (kdump_compressed.cpp) and the capture writer. Structures are plain
// values; encode_*/decode_* convert them from and to the little-endian
// 64-bit layout x86_64 and aarch64 writers produce (no packed structs, no
// host-layout dependence).
//
// File layout, in blocks of header.block_size bytes (the page size):
//
//   block 0                      disk_dump_header (464 bytes, rest unused)
//   block 1 .. sub_hdr_size      kdump_sub_header (104 bytes at version 6),
//                                then the ELF note area and VMCOREINFO text
//                                the sub-header points to
//   bitmap_blocks blocks         1st bitmap: pages the system had (RAM)
//                                2nd bitmap: pages written to this file
//   page descriptors             one PageDesc per set bit of the 2nd bitmap
//                                (within [start_pfn, end_pfn) of a split part)
//   page data                    raw or compressed pages, at PageDesc.offset
//
// Bitmaps: pfn N is bit (N % 8) of byte (N / 8). Each bitmap is half of
// bitmap_blocks. makedumpfile --split writes several files, each with the
// full bitmaps and the descriptors of its own [start_pfn, end_pfn).
#pragma once

#include "capture/format/byte_order.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/error.hpp"
#include "capture/format/page_codec.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace coroner::kdump {

// --- little-endian field access -------------------------------------------

using coroner::load_le32;
using coroner::load_le64;
using coroner::store_le32;
using coroner::store_le64;

// --- constants --------------------------------------------------------------

inline constexpr std::string_view kSignature = "KDUMP   ";
// The older in-kernel diskdump format shares the layout but not the
// semantics of the sub-header; it is recognized only to be refused clearly.
inline constexpr std::string_view kDiskdumpSignature = "DISKDUMP";
// The newest header version, which writers should produce (64-bit pfns).
inline constexpr int32_t kCurrentHeaderVersion = 6;

inline constexpr size_t kDiskDumpHeaderSize = 464;  // sizeof(struct disk_dump_header), 64-bit
inline constexpr size_t kSubHeaderSize = 104;       // sizeof(struct kdump_sub_header), version 6
inline constexpr size_t kPageDescSize = 24;         // sizeof(struct page_desc)
inline constexpr size_t kUtsnameFieldSize = 65;     // each field of struct new_utsname

// disk_dump_header.status and PageDesc.flags share these bits. In the
// status the compression bit says how the writer was asked to compress; in
// a descriptor it says how that page is stored (no bit: raw).
inline constexpr uint32_t kFlagZlib = 0x1;
inline constexpr uint32_t kFlagLzo = 0x2;
inline constexpr uint32_t kFlagSnappy = 0x4;
inline constexpr uint32_t kFlagIncomplete = 0x8;       // status only: the writer ran out of space
inline constexpr uint32_t kFlagExcludedVmemmap = 0x10;  // status only: unused vmemmap pages excluded
inline constexpr uint32_t kFlagZstd = 0x20;
inline constexpr uint32_t kCompressionFlags = kFlagZlib | kFlagLzo | kFlagSnappy | kFlagZstd;

// The compression bit of `codec` (0 for none), and back: nullopt when more
// than one compression bit is set.
uint32_t flag_of_codec(PageCodec codec);
std::optional<PageCodec> codec_of_flags(uint32_t flags);

// --- structures -------------------------------------------------------------

// struct disk_dump_header.
struct DiskDumpHeader {
  int32_t header_version = kCurrentHeaderVersion;
  Utsname utsname;            // each field at most 64 characters on disk
  int64_t timestamp_sec = 0;  // struct timeval
  int64_t timestamp_usec = 0;
  uint32_t status = 0;         // kFlag* bits
  int32_t block_size = 0;      // page size of the dumped system
  int32_t sub_hdr_size = 0;    // blocks of sub-header (and note area)
  uint32_t bitmap_blocks = 0;  // blocks of both bitmaps together
  uint32_t max_mapnr = 0;      // 32-bit; version 6 has the full value in the sub-header
  uint32_t total_ram_blocks = 0;
  uint32_t device_blocks = 0;
  uint32_t written_blocks = 0;
  uint32_t current_cpu = 0;
  int32_t nr_cpus = 0;
};

// struct kdump_sub_header. Fields newer than a file's header_version read
// as zero.
struct SubHeader {
  uint64_t phys_base = 0;
  int32_t dump_level = 0;      // version 1+
  int32_t split = 0;           // version 2+: nonzero in each file of --split
  uint64_t start_pfn = 0;      // version 2+, 32-bit values only
  uint64_t end_pfn = 0;        // version 2+, 32-bit values only
  uint64_t offset_vmcoreinfo = 0;  // version 3+: the VMCOREINFO text
  uint64_t size_vmcoreinfo = 0;
  uint64_t offset_note = 0;        // version 4+: the ELF note area
  uint64_t size_note = 0;
  uint64_t offset_eraseinfo = 0;   // version 5+: makedumpfile --config erase records
  uint64_t size_eraseinfo = 0;
  uint64_t start_pfn_64 = 0;       // version 6+
  uint64_t end_pfn_64 = 0;
  uint64_t max_mapnr_64 = 0;
};

// struct page_desc.
struct PageDesc {
  uint64_t offset = 0;  // file offset of the page data; 0 in a page an incomplete dump never wrote
  uint32_t size = 0;    // bytes stored (the page size when raw)
  uint32_t flags = 0;   // one compression bit, or none
  uint64_t page_flags = 0;
};

// Decoding fails (Errc::truncated) only when `bytes` is shorter than the
// structure; values are not validated here (the reader does that).
Expected<DiskDumpHeader> decode_disk_dump_header(std::span<const std::byte> bytes);
std::array<std::byte, kDiskDumpHeaderSize> encode_disk_dump_header(const DiskDumpHeader& header);

// Bytes of the sub-header a file of `header_version` carries.
size_t sub_header_size(int32_t header_version);
Expected<SubHeader> decode_sub_header(std::span<const std::byte> bytes, int32_t header_version);
// Always the full version-6 layout.
std::array<std::byte, kSubHeaderSize> encode_sub_header(const SubHeader& sub);

Expected<PageDesc> decode_page_desc(std::span<const std::byte> bytes);
std::array<std::byte, kPageDescSize> encode_page_desc(const PageDesc& desc);

// --- derived values ---------------------------------------------------------

// The number of page frames, the pfn range of a split part ([0, max_mapnr)
// when not split), per header version.
uint64_t max_mapnr_of(const DiskDumpHeader& header, const SubHeader& sub);
uint64_t start_pfn_of(const DiskDumpHeader& header, const SubHeader& sub);
uint64_t end_pfn_of(const DiskDumpHeader& header, const SubHeader& sub);

// File offsets of the regions, for a header whose block_size and sizes are
// non-negative (64-bit arithmetic cannot overflow from 32-bit fields).
inline uint64_t bitmap_offset(const DiskDumpHeader& h) {
  return (1 + static_cast<uint64_t>(static_cast<uint32_t>(h.sub_hdr_size))) * static_cast<uint32_t>(h.block_size);
}
// Bytes of ONE bitmap (half of bitmap_blocks).
inline uint64_t bitmap_size(const DiskDumpHeader& h) {
  return static_cast<uint64_t>(h.bitmap_blocks) * static_cast<uint32_t>(h.block_size) / 2;
}
inline uint64_t page_desc_offset(const DiskDumpHeader& h) { return bitmap_offset(h) + 2 * bitmap_size(h); }

// bitmap_blocks a writer needs for `max_mapnr` pages (both bitmaps, each
// rounded up to whole blocks).
inline uint32_t bitmap_blocks_for(uint64_t max_mapnr, uint32_t block_size) {
  uint64_t bytes = (max_mapnr + 7) / 8;
  return static_cast<uint32_t>(2 * ((bytes + block_size - 1) / block_size));
}

}  // namespace coroner::kdump
