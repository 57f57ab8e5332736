// Files of the on-disk caches (DWARF name index, symbol tables): written
// atomically so a reader never sees half a file, and checked before use so
// a damaged or foreign file is never trusted.
//
// A file is the content, then a trailer: the key the content was built for
// (the vmlinux build-id), {u64 content size, u32 key size, u32 CRC-32 (zlib)
// of everything before it, magic "CORONCK1"}.
#pragma once

#include "capture/format/error.hpp"

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::symbols {

// The content of a cache file, mapped read-only: its pages come from the
// page cache as they are, where reading them into a new buffer cost a page
// fault per 4 KiB of buffer (8-12 us each in a VM; 20 ms for a distro
// kernel's two caches). The files are replaced by rename, never rewritten
// in place, so a mapping keeps the content it was checked with.
class CacheBytes {
 public:
  CacheBytes() = default;
  CacheBytes(CacheBytes&& other) noexcept { *this = std::move(other); }
  CacheBytes& operator=(CacheBytes&& other) noexcept;
  CacheBytes(const CacheBytes&) = delete;
  CacheBytes& operator=(const CacheBytes&) = delete;
  ~CacheBytes();

  const char* data() const { return static_cast<const char*>(mapping_); }
  size_t size() const { return size_; }

 private:
  friend std::optional<CacheBytes> read_cache_file(const std::string& file, std::string_view key);
  void* mapping_ = nullptr;
  size_t mapped_ = 0;  // the whole file
  size_t size_ = 0;    // the content
};

// The content of a cache file, or nullopt (a cache miss) when the file is
// missing or unreadable, not a regular file owned by this user, writable by
// others, or fails a check of its trailer: truncated, any byte changed, or
// written for another key.
std::optional<CacheBytes> read_cache_file(const std::string& file, std::string_view key);

// Writes the parts one after another and the trailer for `key` to a
// temporary file (mode 0600) beside `file`, then renames it over `file`.
// Missing directories are created with mode 0700.
Expected<void> write_cache_file(const std::string& file, std::string_view key,
                                std::initializer_list<std::string_view> parts);

// Little-endian scalars of the cache layouts (the caches never leave the
// machine that wrote them, so host order is little-endian order here).
template <typename T>
T load_scalar(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}
template <typename T>
void store_scalar(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

}  // namespace coroner::symbols
