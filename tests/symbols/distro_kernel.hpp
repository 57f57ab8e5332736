// The Debian distro kernel bench/symbols/make_dump.sh unpacks: its -dbg
// vmlinux has full DWARF and the .BTF section the running kernel carries, so
// the BTF tests compare the two. Found in $CORONER_DISTRO_CACHE, by default
// ${XDG_CACHE_HOME:-$HOME/.cache}/coroner-bench-symbols; without it a test
// skips loudly (exit 77, ctest's skip).
#pragma once

#include "symbols/elf_file.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace coroner::test {

inline std::filesystem::path distro_cache() {
  if (const char* dir = std::getenv("CORONER_DISTRO_CACHE"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "coroner-bench-symbols";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : "/root") / ".cache" / "coroner-bench-symbols";
}

// A file of the distro cache ("vmlinux", "root/lib/modules/..."), or a skip.
inline std::string distro_file(const std::string& relative) {
  const std::filesystem::path path = distro_cache() / relative;
  if (!std::filesystem::exists(path)) {
    std::cerr << "\n*** SKIPPED: no Debian distro kernel at " << path.string()
              << " (run bench/symbols/make_dump.sh " << distro_cache().string()
              << " or set CORONER_DISTRO_CACHE) ***\n\n";
    std::exit(77);
  }
  return path.string();
}

// The bytes of an ELF section (a .BTF), as the dump would hold them.
inline std::vector<std::byte> section_bytes(const std::string& path, std::string_view name) {
  auto binary = symbols::open_elf(path);
  REQUIRE(binary.has_value());
  auto section = symbols::find_section(*binary->getBinary(), name);
  REQUIRE(section.has_value());
  auto contents = section->getContents();
  REQUIRE(static_cast<bool>(contents));
  const auto* data = reinterpret_cast<const std::byte*>(contents->data());
  return {data, data + contents->size()};
}

}  // namespace coroner::test
