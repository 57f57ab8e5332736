// coroner-capture's outputs of the fixture vmcores, written once per build
// of the executable into the test cache and shared by every test that
// checks them: test_capture's page-by-page and crash 8.0.2 tests and
// test_analyzer's `sys` comparison, which ctest runs as separate, parallel
// processes. Header-only: test_analyzer does not link test_capture's
// support code.
#pragma once

#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace coroner::test {

// The dump levels and compressions of the output matrix (issue 4).
inline constexpr std::array<int, 3> kMatrixLevels = {0, 1, 31};
inline constexpr std::array<const char*, 4> kMatrixCodecs = {"-c", "-l", "-p", "-z"};

// Options of one matrix output; every test asks with these, so all share
// one file per level and compression.
inline std::vector<std::string> matrix_options(int level, const std::string& codec) {
  return {codec, "-d", std::to_string(level), "--num-threads", "2"};
}

// The ELF (-E) and flattened (-F) outputs the tests share.
inline std::vector<std::string> elf_options() { return {"-E", "-d", "31", "--num-threads", "2"}; }
inline std::vector<std::string> flattened_options() { return {"-F", "-l", "-d", "31", "--num-threads", "2"}; }

// The cache folder of the outputs of this build of `executable`: a rebuilt
// dumper writes new outputs (and the folders of older builds are removed).
inline fs::path captured_outputs_dir(const std::string& executable) {
  std::error_code ec;
  auto stamp = fs::last_write_time(executable, ec);
  if (ec) FAIL("no coroner-capture executable at " << executable << ": " << ec.message());
  fs::path root = cache_dir() / "capture-outputs";
  fs::path dir = root / fmt::format("{:x}-{:x}", static_cast<uint64_t>(stamp.time_since_epoch().count()),
                                      fs::file_size(executable));
  if (!fs::exists(dir)) {
    if (fs::exists(root))
      for (const auto& old : fs::directory_iterator(root))
        if (old.path() != dir) fs::remove_all(old.path(), ec);  // another process may be making `dir`
    fs::create_directories(dir);
  }
  return dir;
}

// Makes `path` once with `make(temporary)`: concurrent test processes each
// write a private temporary and rename it, so readers see complete files.
template <typename Make>
fs::path cached_file(const fs::path& path, Make make) {
  if (!fs::exists(path)) {
    std::string temporary = fmt::format("{}.{}.tmp", path.string(), getpid());
    make(temporary);
    fs::rename(temporary, path);
  }
  return path;
}

// coroner-capture `options` of `input`'s vmcore (-F: the flattened stream
// it writes to standard output).
inline fs::path captured_output(const std::string& executable, const DumpCase& input,
                                const std::vector<std::string>& options) {
  // "linux-6.1-x86_64_-z_-d_31_--num-threads_2"
  fs::path path = captured_outputs_dir(executable) / fmt::format("{}_{}", input.arch_dir, fmt::join(options, "_"));
  return cached_file(path, [&](const std::string& temporary) {
    std::string command = fmt::format("{} {} {}", executable, fmt::join(options, " "), input.files().front());
    bool to_stdout = std::find(options.begin(), options.end(), "-F") != options.end();
    // run_command merges standard error into what it captures: keep the
    // dumper's messages out of the flattened stream.
    run_command(to_stdout ? fmt::format("{{ {} > {}; }}", command, temporary) : command + " " + temporary);
  });
}

// makedumpfile -R of the flattened output of `options` (which hold -F).
inline fs::path reassembled_output(const std::string& executable, const DumpCase& input,
                                   const std::vector<std::string>& options) {
  fs::path flat = captured_output(executable, input, options);
  return cached_file(flat.string() + "-reassembled", [&](const std::string& temporary) {
    run_command(fmt::format("makedumpfile -R {} < {}", temporary, flat.string()));
  });
}

}  // namespace coroner::test
