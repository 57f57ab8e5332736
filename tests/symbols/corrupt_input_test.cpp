#include "symbols/debug_info.hpp"
#include "symbols/elf_symbols.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/symbols/kernels.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

using namespace coroner;
using namespace coroner::test;

namespace {

std::string scratch(const std::string& name) {
  const auto dir = cache_dir() / "symbols-corrupt";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string copy_prefix(const std::string& from, const std::string& name, uint64_t length) {
  const std::string to = scratch(name);
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(to, length);
  return to;
}

// Every entry point fails with an error that names the file; none crashes.
void check_all_fail_naming(const std::string& path) {
  INFO(path);
  auto table = symbols::SymbolTable::from_elf(path);
  if (!table) CHECK(table.error().message().find(path) != std::string::npos);
  auto info = symbols::DebugInfo::open(path, "");
  REQUIRE_FALSE(info.has_value());
  CHECK(info.error().message().find(path) != std::string::npos);
}

}  // namespace

TEST_CASE("garbage, empty and missing files give errors naming the file", "[symbols][corrupt]") {
  const std::string garbage = scratch("garbage.elf");
  {
    std::ofstream out(garbage, std::ios::binary);
    std::mt19937 random(7);
    for (int i = 0; i < 100000; ++i) out.put(static_cast<char>(random()));
  }
  check_all_fail_naming(garbage);
  CHECK_FALSE(symbols::elf_build_id(garbage).has_value());
  CHECK_FALSE(symbols::elf_machine(garbage).has_value());
  CHECK_FALSE(symbols::SymbolTable::from_elf(garbage).has_value());

  const std::string empty = scratch("empty.elf");
  std::ofstream(empty).close();
  check_all_fail_naming(empty);

  const std::string missing = scratch("does-not-exist.elf");
  auto error = symbols::SymbolTable::from_elf(missing);
  REQUIRE_FALSE(error.has_value());
  CHECK(error.error().code() == Errc::io);
  CHECK(error.error().message().find(missing) != std::string::npos);
}

TEST_CASE("truncated modules and vmlinux give errors, not crashes", "[symbols][corrupt]") {
  const DumpCase& c = *one_case_per_kernel().front();
  const std::string module = c.module_path();
  const uint64_t size = std::filesystem::file_size(module);
  for (uint64_t length : {uint64_t{16}, uint64_t{64}, uint64_t{1000}, size / 4, size / 2, size - 1000, size - 1}) {
    INFO(length);
    check_all_fail_naming(copy_prefix(module, "fx_crash-truncated.ko", length));
  }
  // vmlinux cut inside .debug_info: the section table (at the end) is gone.
  check_all_fail_naming(copy_prefix(c.vmlinux(), "vmlinux-truncated", std::filesystem::file_size(c.vmlinux()) / 3));
}

TEST_CASE("corrupted DWARF bytes give errors or answers, never crashes", "[symbols][corrupt]") {
  const DumpCase& c = *one_case_per_kernel().front();
  const std::string module = c.module_path();
  const std::string damaged = scratch("fx_crash-damaged.ko");
  // Locate .debug_info and .debug_abbrev through readelf, then scribble on them.
  const std::string sections = run_command("readelf -SW " + module);
  auto section_range = [&](const std::string& name) {
    const size_t at = sections.find(" " + name + " ");
    REQUIRE(at != std::string::npos);
    std::istringstream fields(sections.substr(at + name.size() + 2));
    std::string type, address, offset, length;
    fields >> type >> address >> offset >> length;
    return std::make_pair(std::stoull(offset, nullptr, 16), std::stoull(length, nullptr, 16));
  };
  std::mt19937 random(11);
  for (const char* name : {".debug_info", ".debug_abbrev"}) {
    const auto [offset, length] = section_range(name);
    for (int round = 0; round < 20; ++round) {
      std::filesystem::copy_file(module, damaged, std::filesystem::copy_options::overwrite_existing);
      std::fstream file(damaged, std::ios::in | std::ios::out | std::ios::binary);
      for (int i = 0; i < 8; ++i) {
        file.seekp(static_cast<std::streamoff>(offset + random() % length));
        file.put(static_cast<char>(random()));
      }
      file.close();
      INFO(name << " round " << round);
      auto info = symbols::DebugInfo::open(damaged, "");
      if (!info) {
        CHECK(info.error().message().find(damaged) != std::string::npos);
        continue;
      }
      // Whatever opened must answer or fail cleanly.
      auto size = (*info)->type_size("fx_item");
      if (!size) CHECK_FALSE(size.error().message().empty());
      (void)(*info)->find_variable("fx_magic");
    }
  }
}
