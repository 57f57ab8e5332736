// The header page of a FreeBSD minidump (sys/amd64/include/minidump.h,
// sys/arm64/include/minidump.h), little-endian, and the section layout it
// implies: header page | msgbuf | dump_avail (amd64 v3, arm64 v2+) |
// page bitmap | kernel page-table section | dumped pages, each section
// rounded up to the page size.
#pragma once

#include "capture/format/error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace coroner::freebsd {

enum class MinidumpArch { amd64, arm64 };

inline constexpr std::string_view kMinidumpPrefix = "minidump";
inline constexpr size_t kMinidumpMagicSize = 24;
inline constexpr uint32_t kMinidumpMaxVersion = 3;

struct MinidumpHeader {
  MinidumpArch arch = MinidumpArch::amd64;
  uint32_t version = kMinidumpMaxVersion;
  uint32_t msgbuf_size = 0;
  uint32_t bitmap_size = 0;
  uint32_t pmap_size = 0;  // amd64 v1: ptesize
  uint64_t kernbase = 0;
  uint64_t dmap_phys = 0;  // arm64 only (amd64's direct map starts at PA 0)
  uint64_t dmap_base = 0, dmap_end = 0;
  uint32_t dump_avail_size = 0;  // amd64 v3, arm64 v2+
  uint32_t flags = 0;            // arm64 v3: bits 0-1 page size

  uint64_t page_size() const;
  // Whether the bitmap is indexed over dump_avail ranges (else by PFN).
  bool has_dump_avail() const;
};

// File offsets of the sections; every end lies within the file.
struct MinidumpLayout {
  uint64_t msgbuf = 0, dump_avail = 0, bitmap = 0, pmap = 0, pages = 0;
};

// True when the file starts with "minidump".
bool looks_like_minidump(std::span<const std::byte> head);

// Decodes the header from the start of a file (at least the header's own
// size; the rest of the page is padding) and checks it: magic, version,
// page-size flags. `name` names the file for errors.
Expected<MinidumpHeader> decode_minidump_header(std::span<const std::byte> head, std::string_view name);

// The header's page: magic, fields by version, zero padding.
std::vector<std::byte> encode_minidump_header(const MinidumpHeader& header);

// Section offsets for a file of `file_size` bytes: Errc::truncated naming
// the section that runs past the end, never an overflow.
Expected<MinidumpLayout> minidump_layout(const MinidumpHeader& header, uint64_t file_size, std::string_view name);

std::string_view minidump_arch_name(MinidumpArch arch);  // "amd64", "arm64"

}  // namespace coroner::freebsd
