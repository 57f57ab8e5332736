#include "analyzer/frontends/gdbstub/library_list.hpp"

#include "analyzer/frontends/markup/markup_escape.hpp"
#include "symbols/elf_file.hpp"

#include <fmt/format.h>

namespace coroner::gdbstub {

namespace {

constexpr uint64_t kUnplacedSections = 0xffffffffffff0000;

// One address per allocated section of the object, in section order; a
// section the kernel did not keep (.modinfo, __versions, empty ones) at the
// top of the address space, where nothing lives on x86_64 or arm64 (at 0,
// gdb would name a user-space or NULL address after them).
std::optional<std::vector<uint64_t>> section_bases(const KernelModule& module) {
  auto object = symbols::open_elf(module.object_path());
  if (!object) return std::nullopt;
  std::vector<uint64_t> bases;
  const auto& elf = symbols::as_elf(*object->getBinary());
  for (const llvm::object::ELFSectionRef section : elf.sections()) {
    if (!(section.getFlags() & llvm::ELF::SHF_ALLOC)) continue;
    auto name = section.getName();
    if (!name) return std::nullopt;
    auto placed = module.sections.find(name->str());
    bases.push_back(placed == module.sections.end() ? kUnplacedSections : placed->second);
  }
  return bases;
}

}  // namespace

std::string module_library_list(const Program& program) {
  std::string xml = "<library-list>\n";
  if (auto modules = program.modules()) {
    for (const auto& module : **modules) {
      if (module->object_path().empty()) continue;
      auto bases = section_bases(*module);
      if (!bases) continue;
      xml += fmt::format("  <library name=\"{}\">\n", frontends::markup_escaped(module->object_path()));
      for (uint64_t base : *bases) xml += fmt::format("    <section address=\"{:#x}\"/>\n", base);
      xml += "  </library>\n";
    }
  }
  xml += "</library-list>\n";
  return xml;
}

}  // namespace coroner::gdbstub
