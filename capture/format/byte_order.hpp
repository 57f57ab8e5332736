// Fixed-endian integer fields in byte buffers (no packed structs, no
// host-layout dependence): little-endian for ELF, kdump and minidump
// headers, big-endian for FreeBSD's kerneldumpheader ("dump byte order").
#pragma once

#include <cstddef>
#include <cstdint>

namespace coroner {

inline uint32_t load_le32(const std::byte* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
inline uint64_t load_le64(const std::byte* p) {
  return static_cast<uint64_t>(load_le32(p)) | static_cast<uint64_t>(load_le32(p + 4)) << 32;
}
inline void store_le32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
inline void store_le64(std::byte* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}

inline uint32_t load_be32(const std::byte* p) {
  return static_cast<uint32_t>(p[3]) | static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[0]) << 24;
}
inline uint64_t load_be64(const std::byte* p) {
  return static_cast<uint64_t>(load_be32(p)) << 32 | static_cast<uint64_t>(load_be32(p + 4));
}
inline void store_be32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (8 * (3 - i)));
}
inline void store_be64(std::byte* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>(v >> (8 * (7 - i)));
}

}  // namespace coroner
