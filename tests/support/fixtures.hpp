// Finds the real dumps of ../shared/fixtures for tests: every dump with its
// vmlinux, module and facts.json, decompressed on first use, plus the
// variants Debian's makedumpfile makes at test time (-l, -E, -F, --split,
// -d 0, -d 1). A test that needs them and cannot find them skips loudly
// (exit code 77, reported by ctest as skipped).
#pragma once

#include "capture/format/decompressed_file.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::test {

namespace fs = std::filesystem;

// $CORONER_FIXTURES, else <source>/../shared/fixtures. Skips the calling
// test (prints why, exits 77) when the folder is missing.
const fs::path& fixtures_root();

// Scratch space under the build directory for decompressed fixtures and
// generated variants.
const fs::path& cache_dir();

struct DumpCase {
  std::string id;                 // "x86_64/oops-kdump/d31"
  std::string arch_dir;           // "linux-6.1-x86_64"
  std::string scenario;           // "oops-kdump"
  std::string variant;            // "vmcore", "d31", "elf", "kdump-zlib", "lzo", ...
  bool keeps_user_pages = false;  // unfiltered (or -d 0/1): user memory readable
  bool filtered = false;          // made with -d 31: some pages excluded

  // The dump's files (two for --split), decompressed and made on demand.
  std::vector<std::string> files() const;
  std::string vmlinux() const;     // decompressed vmlinux of the kernel
  std::string module_path() const; // fx_crash.ko
  const nlohmann::json& facts() const;
};

// Every dump of the fixtures, including the makedumpfile-made variants
// (which need Debian's makedumpfile; missing it fails the test).
const std::vector<DumpCase>& all_dumps();
// The dump with this id ("x86_64/oops-kdump/d31"); fails the test without one.
const DumpCase& fixture_case(const std::string& id);

// Decompresses a fixture file into cache_dir() once.
std::string decompressed_fixture(const fs::path& path);

// `data` as one complete zstd, gzip or xz stream, what `zstd`, `gzip` or
// `xz` writes for a file (with its checksum: zstd's content checksum,
// gzip's CRC-32, xz's CRC-64). Made with libzstd, zlib and liblzma, so the
// tests need none of the tools (a minimal Debian has no xz). Fails the test
// when the library refuses.
std::string compressed_stream(Compression kind, std::string_view data);

// The whole contents of a file; fails the test when it cannot be read.
std::string file_contents(const fs::path& path);
// Makes `bytes` the whole contents of a file; fails the test when it cannot.
void write_file_contents(const fs::path& path, std::string_view bytes);

// Lower-case hex SHA-256 of `data` (memory_samples of facts.json).
std::string sha256_hex(const void* data, size_t size);
// Lower-case hex of raw bytes.
std::string hex(const void* data, size_t size);

// Parses "0x..." strings of facts.json.
uint64_t hex_value(const nlohmann::json& value);

// The lines of a command's output, without their newlines.
std::vector<std::string> lines_of(const std::string& text);

// Runs a shell command; fails the test with its output when it exits non-zero.
std::string run_command(const std::string& command);
// `command` through the shell, its standard output and error together, for
// tests that check a failure: the exit status (or 128 + signal) and output.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run_shell(const std::string& command);

}  // namespace coroner::test
