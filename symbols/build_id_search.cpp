#include "symbols/build_id_search.hpp"

#include "symbols/elf_symbols.hpp"
#include "symbols/shared_library.hpp"

#include <elfutils/debuginfod.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

namespace coroner::symbols {

namespace fs = std::filesystem;

namespace {

bool is_hex_id(const std::string& id) {
  return id.size() >= 2 && id.size() <= 128 &&
         id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool is_elf_file(const fs::path& path) {
  std::error_code ignored;
  if (!fs::is_regular_file(path, ignored)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, sizeof magic) && std::string_view(magic, 4) == "\x7f" "ELF";
}

bool has_build_id(const fs::path& path, const std::string& build_id) {
  if (!is_elf_file(path)) return false;
  auto id = elf_build_id(path.string());
  return id && id->starts_with(build_id);
}

// DIR/.build-id/xx/rest.debug, the layout of Debian's -dbg packages.
std::optional<fs::path> in_build_id_tree(const fs::path& dir, const std::string& build_id) {
  fs::path candidate = dir / ".build-id" / build_id.substr(0, 2) / (build_id.substr(2) + ".debug");
  if (has_build_id(candidate, build_id)) return candidate;
  return std::nullopt;
}

// The ELF files directly in dir (sorted, so the answer does not depend on
// the directory's order) whose names start with prefix.
std::optional<fs::path> in_plain_files(const fs::path& dir, const std::string& prefix, const std::string& build_id) {
  std::error_code error;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error))
    if (it->path().filename().string().starts_with(prefix)) files.push_back(it->path());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files)
    if (has_build_id(file, build_id)) return file;
  return std::nullopt;
}

// The path debuginfod gave, nullopt when it has no such file; an error when
// libdebuginfod cannot be loaded.
Expected<std::optional<std::string>> from_debuginfod(const std::string& build_id) {
  // libdebuginfod (and the curl and TLS stack under it) is loaded only here.
  const char* soname = CORONER_DEBUGINFOD_SONAME;
  CORONER_TRY(begin, library_function<decltype(debuginfod_begin)>(soname, "debuginfod_begin"));
  CORONER_TRY(end, library_function<decltype(debuginfod_end)>(soname, "debuginfod_end"));
  CORONER_TRY(find, library_function<decltype(debuginfod_find_debuginfo)>(soname, "debuginfod_find_debuginfo"));
  std::unique_ptr<debuginfod_client, decltype(end)> client(begin(), end);
  if (!client) return std::optional<std::string>();
  char* path = nullptr;
  // A length of 0: build_id is the hex string.
  const int fd = find(client.get(), reinterpret_cast<const unsigned char*>(build_id.c_str()), 0, &path);
  if (fd < 0) return std::optional<std::string>();
  close(fd);
  std::string found = path ? path : "";
  std::free(path);
  if (found.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(found));
}

}  // namespace

Expected<FoundVmlinux> find_vmlinux_by_build_id(const std::string& build_id, const BuildIdSearch& search) {
  if (!is_hex_id(build_id))
    return make_error(Errc::invalid_argument, "cannot look for the vmlinux: build-id '{}' is not hex", build_id);
  std::vector<std::string> looked;
  for (const std::string& dir : search.debuginfo_dirs) {
    if (auto found = in_build_id_tree(dir, build_id)) return FoundVmlinux{found->string(), "--debuginfo-dir " + dir};
    if (auto found = in_plain_files(dir, "", build_id)) return FoundVmlinux{found->string(), "--debuginfo-dir " + dir};
    looked.push_back(dir + " (.build-id/ and its files)");
  }
  const fs::path system = search.system_debug_dir;
  if (auto found = in_build_id_tree(system, build_id)) return FoundVmlinux{found->string(), system.string() + "/.build-id"};
  looked.push_back((system / ".build-id" / build_id.substr(0, 2) / (build_id.substr(2) + ".debug")).string());
  if (auto found = in_plain_files(system / "boot", "vmlinux-", build_id))
    return FoundVmlinux{found->string(), (system / "boot").string()};
  looked.push_back((system / "boot/vmlinux-*").string());
  const char* urls = std::getenv("DEBUGINFOD_URLS");
  if (!search.use_debuginfod) {
    looked.push_back("not debuginfod (turned off)");
  } else if (!urls || !*urls) {
    looked.push_back("not debuginfod (DEBUGINFOD_URLS is not set)");
  } else {
    auto found = from_debuginfod(build_id);
    if (found && *found) return FoundVmlinux{**found, fmt::format("debuginfod ({})", urls)};
    looked.push_back(found ? fmt::format("debuginfod ({})", urls)
                           : fmt::format("not debuginfod ({})", found.error().message()));
  }
  return make_error(Errc::not_found, "no vmlinux with build-id {} found; looked in: {}", build_id,
                    fmt::join(looked, ", "));
}

}  // namespace coroner::symbols
