// The module list of every fixture kernel against facts.json, object files
// found by name and checked by build-id, and refused on a mismatch.
#include "analyzer/os/linux/modules.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

#include <set>

namespace coroner::test {

TEST_CASE("read_modules finds fx_crash at facts' base with its sections and build-id", "[modules][facts]") {
  std::set<std::string> seen;
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("modules") || !seen.insert(dump.arch_dir + dump.scenario).second) continue;
    SECTION(dump.id) {
      auto program = open_program(dump);
      auto modules = linux_kernel::read_modules(*program);
      REQUIRE(modules);
      CHECK(modules->skipped.empty());
      REQUIRE(modules->modules.size() == facts["modules"].size());
      KernelModule& m = *modules->modules.front();
      CHECK(m.name == facts["modules"][0]["name"].get<std::string>());
      CHECK(m.base == hex_value(facts["modules"][0]["base"]));
      CHECK(m.size % 4096 == 0);
      CHECK(m.contains(hex_value(facts["symbols"]["fx_magic"])));
      CHECK(!m.contains(m.base + m.size));
      // .text starts the module's core memory on both architectures.
      REQUIRE(m.sections.count(".text"));
      CHECK(m.sections.at(".text") == m.base);
      CHECK(m.sections.count(".data"));
      CHECK(!m.sections.count(".modinfo"));  // not loaded by the kernel
      CHECK(m.build_id == symbols::elf_build_id(dump.module_path()).value());
      CHECK(m.object_path().empty());

      // Attaching by search: the fixture directory holds fx_crash.ko.
      const std::string dir = fs::path(dump.module_path()).parent_path().string();
      CHECK(linux_kernel::attach_objects(modules->modules, {dir}) == 1);
      CHECK(m.object_path() == dump.module_path());
      CHECK(m.match() == ObjectMatch::build_id);
      REQUIRE(m.find_symbol("fx_crash_level3"));
      CHECK(m.find_symbol("fx_crash_level3")->address == hex_value(facts["symbols"]["fx_crash_level3"]));
      const symbols::Symbol* inside = m.containing(hex_value(facts["symbols"]["fx_magic"]) + 3);
      REQUIRE(inside);
      CHECK(inside->name == "fx_magic");

      // The Program reads and attaches them itself, from --mod-path.
      auto with_path = Program::open(program_options(dump, {dir}));
      REQUIRE(with_path);
      CHECK((*with_path)->symbol_address("fx_items").value() == hex_value(facts["symbols"]["fx_items"]));
      auto where = (*with_path)->describe_address(hex_value(facts["symbols"]["fx_crash_level3"]) + 1);
      REQUIRE(where);
      CHECK(where->text() == "fx_crash_level3+1 [fx_crash]");
    }
  }
}

TEST_CASE("attach_object refuses a build-id mismatch and accepts an unverifiable match by name", "[modules][facts]") {
  const DumpCase* dump = nullptr;
  for (const DumpCase& d : all_dumps())
    if (d.facts().contains("modules")) {
      dump = &d;
      break;
    }
  REQUIRE(dump);
  auto program = open_program(*dump);
  auto modules = linux_kernel::read_modules(*program);
  REQUIRE(modules);
  REQUIRE_FALSE(modules->modules.empty());
  KernelModule& m = *modules->modules.front();

  KernelModule other;
  other.name = m.name;
  other.sections = m.sections;
  other.core = m.core;
  other.build_id = std::string(m.build_id.size(), '0');
  auto refused = other.attach_object(dump->module_path());
  REQUIRE(!refused);
  CHECK(refused.error().message().find("does not match") != std::string::npos);
  CHECK(other.object_path().empty());
  CHECK(other.symbols().empty());

  // No build-id in the dump's memory: accepted by name, marked unverified.
  other.build_id.clear();
  REQUIRE(other.attach_object(dump->module_path()));
  CHECK(other.match() == ObjectMatch::name_only);

  // vmlinux is not a module.
  auto not_module = m.attach_object(dump->vmlinux());
  REQUIRE(!not_module);
  CHECK(not_module.error().message().find(dump->vmlinux()) != std::string::npos);

  // Nothing to find: the reason names the directory searched.
  const fs::path empty = cache_dir() / "modules-test-empty";
  fs::create_directories(empty);
  CHECK(linux_kernel::attach_objects(modules->modules, {empty.string()}) == 0);
  CHECK(m.problem.find("no fx_crash.ko in " + empty.string()) != std::string::npos);
  auto no_dwarf = m.debug_info();
  REQUIRE(!no_dwarf);
  CHECK(no_dwarf.error().message().find("fx_crash") != std::string::npos);
}

}  // namespace coroner::test
