// Dumps of Debian's own kernels (with BTF, kallsyms and ORC, and their -dbg
// vmlinux): the test data of the no-vmlinux mode, made outside git by
// tests/distro/make_distro_dump.sh into $CORONER_DISTRO_CACHE (default
// ${XDG_CACHE_HOME:-~/.cache}/coroner-distro), on first run by ctest's
// setup test `distro dumps` (tests/distro/README.md).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace coroner::test {

struct DistroKernel {
  std::string name;  // "6.1-amd64", "6.12-amd64", "6.1-arm64", "5.10-amd64"
  std::filesystem::path dir;
  std::string release;  // "6.1.0-57-cloud-amd64"
  std::string vmlinux() const;  // the -dbg package's, with DWARF and .BTF
  std::string dump() const;     // vmcore.kdump-d31, as a distro's kdump service writes it
  // drgn's ground truth with the vmlinux (tests/distro/distro_facts.py).
  const nlohmann::json& facts() const;
};

// The kernels make_distro_dump.sh makes for the tests.
const std::vector<std::string>& distro_kernel_names();
// The kernel's data if it was made, else nullopt.
std::optional<DistroKernel> made_distro_kernel(const std::string& name);
// The kernel's data. When it was not made (the setup test says why), skips
// the calling test loudly: prints why and exits 77, which ctest reports as
// skipped.
DistroKernel distro_kernel(const std::string& name);

}  // namespace coroner::test
