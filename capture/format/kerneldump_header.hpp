// FreeBSD's struct kerneldumpheader (sys/sys/kerneldump.h): the 512-byte
// block a kernel writes before (leader) and after (trailer) a dump on its
// dump device, versions 1 to 4. Integers are big-endian ("dump byte
// order") except `parity`, which makes the XOR of all 128 32-bit words 0.
#pragma once

#include "capture/format/error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace coroner::freebsd {

inline constexpr size_t kKernelDumpHeaderSize = 512;
inline constexpr uint32_t kKernelDumpVersion = 4;
// The magic savecore writes over a saved dump's trailer (the field is 20
// bytes: this and a NUL).
inline constexpr std::string_view kClearedDumpMagic = "Cleared Kernel Dump";

enum class DumpMagic { kernel_dump, text_dump, cleared };
enum class DumpCompression : uint8_t { none = 0, gzip = 1, zstd = 2 };
std::string_view compression_name(DumpCompression compression);  // "none", "gzip", "zstd"

struct KernelDumpHeader {
  DumpMagic magic = DumpMagic::kernel_dump;
  std::string architecture;  // MACHINE_ARCH: "amd64", "aarch64"
  uint32_t version = kKernelDumpVersion;
  uint32_t architecture_version = 0;
  uint64_t dump_length = 0;  // bytes of dump data (compressed size when compressed)
  uint64_t dump_time = 0;    // UTC seconds
  uint32_t key_size = 0;     // encryption key blob after the leader (v2+); 0 when not encrypted
  uint32_t block_size = 0;
  std::string hostname, version_string, panic_string;
  DumpCompression compression = DumpCompression::none;  // v3+
  uint64_t dump_extent = 0;  // bytes reserved on the device (v3+; else dump_length)
  uint32_t parity = 0;       // as stored (raw word)
};

// True when the 512 bytes start with one of the three magics.
bool looks_like_kerneldump_header(std::span<const std::byte> block);

// Decodes and checks a header: magic, version 1-4, parity, a power-of-two
// block size of 512 bytes to 64 KiB, dump_length <= dump_extent. `where`
// names the file and offset for errors.
Expected<KernelDumpHeader> decode_kerneldump_header(std::span<const std::byte, kKernelDumpHeaderSize> block,
                                                    std::string_view where);

// The 512 bytes of `header` in its `version`'s layout, parity computed.
std::array<std::byte, kKernelDumpHeaderSize> encode_kerneldump_header(const KernelDumpHeader& header);

}  // namespace coroner::freebsd
