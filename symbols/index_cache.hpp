// The on-disk cache of a NameIndex, keyed by the ELF file's build-id, so a
// second start skips the walk over .debug_info.
//
// Layout (little-endian): a 32-byte header {magic "CORONIDX", u32 version,
// u32 entry count, u64 .debug_info size, u64 names size}, then per entry
// {u32 name offset, u32 name length, u64 kind << 56 | DIE offset}, sorted by
// (kind, name), then the names; then the trailer of cache_file.hpp, keyed
// by the build-id.
#pragma once

#include "capture/format/error.hpp"
#include "symbols/dwarf_index.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace coroner::symbols {

// <cache_dir>/<build_id>.index
std::string index_cache_path(const std::string& cache_dir, const std::string& build_id);

// The cached index, or nullopt when the file is missing, fails the checks of
// cache_file.hpp (damaged, or written for another build-id), belongs to
// another build (its .debug_info size differs) or fails any consistency
// check: a bad cache is rebuilt, never trusted.
std::optional<NameIndex> load_index(const std::string& file, std::string_view build_id, uint64_t debug_info_size);

// Writes the index atomically (temporary file, then rename), for build_id.
Expected<void> save_index(const std::string& file, std::string_view build_id, const NameIndex& index,
                          uint64_t debug_info_size);

}  // namespace coroner::symbols
