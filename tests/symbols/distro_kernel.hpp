// The BTF tests' kernel: Debian's 6.1 distro kernel (tests/distro), whose
// -dbg vmlinux has full DWARF and the .BTF section the running kernel
// carries, so the tests compare the two. Without it a test skips loudly
// (exit 77, ctest's skip).
#pragma once

#include "symbols/elf_file.hpp"
#include "tests/support/distro_dumps.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace coroner::test {

inline const DistroKernel& btf_test_kernel() {
  static const DistroKernel kernel = distro_kernel("6.1-amd64");
  return kernel;
}

// A file of the kernel's packages, unpacked under its folder ("vmlinux",
// "root/lib/modules/RELEASE/...").
inline std::string distro_file(const std::string& relative) { return (btf_test_kernel().dir / relative).string(); }

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
