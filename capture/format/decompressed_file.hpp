// Transparent use of compressed inputs (vmlinux.zst, vmcore.gz, .xz): a
// compressed file is decompressed once into a cache directory and the
// cached copy is used from then on. Detected by magic bytes, not by name.
#pragma once

#include "capture/format/error.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace coroner {

enum class Compression { none, zstd, gzip, xz };

// The compression that `head`, a stream's first bytes, announces.
Compression detect_compression(std::span<const std::byte> head);
// The compression a file's first bytes announce.
Expected<Compression> detect_file_compression(const std::string& path);

// The default cache: $CORONER_CACHE_DIR, else $XDG_CACHE_HOME/coroner, else
// ~/.cache/coroner, else /tmp/coroner-cache-$UID.
std::string default_cache_dir();

// Creates `dir` and its missing parents with mode 0700 (set, whatever the
// umask). Directories that exist are left as they are.
Expected<void> create_cache_directory(const std::string& dir);

// `path` itself when it is not compressed; otherwise the path of its
// decompressed copy under `cache_dir` (keyed by the file's absolute path,
// size and modification time), made on first use. Safe when several
// processes ask at once: each writes a private temporary, then renames.
Expected<std::string> decompressed_path(const std::string& path,
                                        const std::string& cache_dir = default_cache_dir());

// The decompressed copy of the `size` bytes at `offset` of `path`, which
// hold one stream of `kind` (a compressed FreeBSD dump inside a dump-device
// image), made and cached as decompressed_path() does. `stem` names the copy.
Expected<std::string> decompressed_range_path(const std::string& path, uint64_t offset, uint64_t size,
                                              Compression kind, const std::string& stem,
                                              const std::string& cache_dir = default_cache_dir());

}  // namespace coroner
