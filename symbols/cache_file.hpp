// Files of the on-disk caches (DWARF name index, symbol tables): read whole,
// written atomically so a reader never sees half a file.
#pragma once

#include "capture/format/error.hpp"

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::symbols {

// The whole file, or nullopt when it is missing or unreadable (a cache miss).
std::optional<std::vector<char>> read_cache_file(const std::string& file);

// Writes the parts one after another to a temporary file beside `file`,
// then renames it over `file`.
Expected<void> write_cache_file(const std::string& file, std::initializer_list<std::string_view> parts);

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
