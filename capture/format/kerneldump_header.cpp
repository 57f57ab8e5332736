#include "capture/format/kerneldump_header.hpp"

#include "capture/format/byte_order.hpp"

#include <algorithm>
#include <cstring>

namespace coroner::freebsd {
namespace {

constexpr std::string_view kKernelDumpMagic = "FreeBSD Kernel Dump";
constexpr std::string_view kTextDumpMagic = "FreeBSD Text Dump";
constexpr std::string_view kClearedMagic = kClearedDumpMagic;
constexpr size_t kMagicSize = 20, kArchitectureOffset = 20, kArchitectureSize = 12;
constexpr size_t kVersionOffset = 32, kArchitectureVersionOffset = 36, kDumpLengthOffset = 40;
constexpr size_t kParityOffset = 508;
constexpr size_t kHostnameSize = 64, kVersionStringSize = 192;
constexpr size_t kAbsent = 0;  // no field of a layout lives at offset 0 (the magic does)

// Where each version keeps its fields (netdumpd's kerneldump_compat.h for 1-3).
struct Layout {
  size_t dump_time, key_size, block_size, compression, dump_extent, hostname, version_string, panic_string,
      panic_size;
};

Layout layout_of(uint32_t version) {
  switch (version) {
    case 1: return {48, kAbsent, 56, kAbsent, kAbsent, 60, 124, 316, 192};
    case 2: return {48, 56, 60, kAbsent, kAbsent, 64, 128, 320, 188};
    case 3: return {56, 64, 68, 72, 48, 73, 137, 329, 179};
    default: return {48, 56, 60, 495, 496, 64, 128, 320, 175};
  }
}

std::string fixed_string(const std::byte* p, size_t size) {
  const char* text = reinterpret_cast<const char*>(p);
  return std::string(text, strnlen(text, size));
}

void put_string(std::byte* p, size_t size, std::string_view text) {
  std::memcpy(p, text.data(), std::min(size, text.size()));
}

uint32_t xor_words(std::span<const std::byte> block) {
  uint32_t value = 0;
  // Word order and host byte order do not matter to an XOR of all words
  // compared with zero, as long as every word is read the same way.
  for (size_t i = 0; i < block.size(); i += 4) value ^= load_le32(block.data() + i);
  return value;
}

}  // namespace

std::string_view compression_name(DumpCompression compression) {
  switch (compression) {
    case DumpCompression::none: return "none";
    case DumpCompression::gzip: return "gzip";
    case DumpCompression::zstd: return "zstd";
  }
  return "unknown";
}

bool looks_like_kerneldump_header(std::span<const std::byte> block) {
  if (block.size() < kMagicSize) return false;
  std::string magic = fixed_string(block.data(), kMagicSize);
  return magic == kKernelDumpMagic || magic == kTextDumpMagic || magic == kClearedMagic;
}

Expected<KernelDumpHeader> decode_kerneldump_header(std::span<const std::byte, kKernelDumpHeaderSize> block,
                                                    std::string_view where) {
  const std::byte* p = block.data();
  KernelDumpHeader h;
  std::string magic = fixed_string(p, kMagicSize);
  if (magic == kKernelDumpMagic) h.magic = DumpMagic::kernel_dump;
  else if (magic == kTextDumpMagic) h.magic = DumpMagic::text_dump;
  else if (magic == kClearedMagic) h.magic = DumpMagic::cleared;
  else return make_error(Errc::corrupt, "{}: no kerneldumpheader magic (\"{}\")", where, magic.substr(0, 19));
  if (uint32_t x = xor_words(block); x != 0)
    return make_error(Errc::corrupt, "{}: kerneldumpheader parity check failed (words XOR to {:#010x}, not 0)", where,
                      x);
  h.version = load_be32(p + kVersionOffset);
  if (h.version < 1 || h.version > kKernelDumpVersion)
    return make_error(Errc::unsupported, "{}: kerneldumpheader version {} (1 to {} are known)", where, h.version,
                      kKernelDumpVersion);
  Layout at = layout_of(h.version);
  h.architecture = fixed_string(p + kArchitectureOffset, kArchitectureSize);
  h.architecture_version = load_be32(p + kArchitectureVersionOffset);
  h.dump_length = load_be64(p + kDumpLengthOffset);
  h.dump_time = load_be64(p + at.dump_time);
  h.key_size = at.key_size == kAbsent ? 0 : load_be32(p + at.key_size);
  h.block_size = load_be32(p + at.block_size);
  h.hostname = fixed_string(p + at.hostname, kHostnameSize);
  h.version_string = fixed_string(p + at.version_string, kVersionStringSize);
  h.panic_string = fixed_string(p + at.panic_string, at.panic_size);
  if (at.compression != kAbsent) {
    auto raw = static_cast<uint8_t>(p[at.compression]);
    if (raw > static_cast<uint8_t>(DumpCompression::zstd))
      return make_error(Errc::unsupported, "{}: unknown dump compression {} (0 none, 1 gzip, 2 zstd)", where, raw);
    h.compression = static_cast<DumpCompression>(raw);
  }
  h.dump_extent = at.dump_extent == kAbsent ? h.dump_length : load_be64(p + at.dump_extent);
  h.parity = load_le32(p + kParityOffset);
  if (h.block_size < 512 || h.block_size > 65536 || (h.block_size & (h.block_size - 1)) != 0)
    return make_error(Errc::corrupt, "{}: kerneldumpheader block size {} is not a power of two from 512 to 65536",
                      where, h.block_size);
  if (h.dump_length > h.dump_extent)
    return make_error(Errc::corrupt, "{}: kerneldumpheader dump length {:#x} exceeds its extent {:#x}", where,
                      h.dump_length, h.dump_extent);
  return h;
}

std::array<std::byte, kKernelDumpHeaderSize> encode_kerneldump_header(const KernelDumpHeader& h) {
  std::array<std::byte, kKernelDumpHeaderSize> block{};
  std::byte* p = block.data();
  std::string_view magic = h.magic == DumpMagic::kernel_dump ? kKernelDumpMagic
                           : h.magic == DumpMagic::text_dump ? kTextDumpMagic
                                                              : kClearedMagic;
  put_string(p, kMagicSize, magic);
  put_string(p + kArchitectureOffset, kArchitectureSize, h.architecture);
  store_be32(p + kVersionOffset, h.version);
  store_be32(p + kArchitectureVersionOffset, h.architecture_version);
  store_be64(p + kDumpLengthOffset, h.dump_length);
  Layout at = layout_of(h.version);
  store_be64(p + at.dump_time, h.dump_time);
  if (at.key_size != kAbsent) store_be32(p + at.key_size, h.key_size);
  store_be32(p + at.block_size, h.block_size);
  put_string(p + at.hostname, kHostnameSize, h.hostname);
  put_string(p + at.version_string, kVersionStringSize, h.version_string);
  put_string(p + at.panic_string, at.panic_size, h.panic_string);
  if (at.compression != kAbsent) p[at.compression] = static_cast<std::byte>(h.compression);
  if (at.dump_extent != kAbsent) store_be64(p + at.dump_extent, h.dump_extent);
  store_le32(p + kParityOffset, xor_words(block));
  return block;
}

}  // namespace coroner::freebsd
