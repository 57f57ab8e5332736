// The scanner must answer exactly as the name index does (it stands in for
// the index on a cold start): every kind, names defined once or many times,
// declarations only, and names that do not exist.
#include "symbols/dwarf_index.hpp"
#include "symbols/elf_file.hpp"
#include "symbols/name_scan.hpp"
#include "tests/symbols/kernels.hpp"

#include <catch2/catch.hpp>

#include <llvm/DebugInfo/DWARF/DWARFContext.h>

#include <map>

using namespace coroner;
using namespace coroner::symbols;
using namespace coroner::test;

namespace {

struct OpenDwarf {
  llvm::object::OwningBinary<llvm::object::ObjectFile> binary;
  std::unique_ptr<llvm::DWARFContext> context;
};

OpenDwarf open_dwarf(const std::string& path) {
  auto binary = open_elf(path);
  REQUIRE(binary.has_value());
  OpenDwarf open{std::move(*binary), nullptr};
  auto fail = [](llvm::Error error) { FAIL(llvm_message(std::move(error))); };
  open.context = llvm::DWARFContext::create(*open.binary.getBinary(),
                                            llvm::DWARFContext::ProcessDebugRelocations::Ignore, nullptr, "", fail,
                                            fail, /*ThreadSafe=*/true);
  return open;
}

}  // namespace

TEST_CASE("scanning for a name finds the DIE the name index finds", "[symbols][dwarf][scan]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    // Separate contexts: the scanner must not lean on what indexing parsed.
    OpenDwarf indexed = open_dwarf(c->vmlinux());
    OpenDwarf scanned = open_dwarf(c->vmlinux());
    auto index = NameIndex::build(*indexed.context, c->vmlinux(), 2);
    REQUIRE(index.has_value());
    auto scanner = NameScanner::create(*scanned.context, *scanned.binary.getBinary(), c->vmlinux());
    REQUIRE(scanner != nullptr);

    // A spread of each kind's names (every 293rd, from the sorted index),
    // and names that matter to the analyzer.
    std::vector<std::pair<NameKind, std::string>> names;
    std::map<NameKind, size_t> seen;
    for (const NameIndex::Entry& entry : index->entries())
      if (seen[entry.kind]++ % 293 == 0) names.emplace_back(entry.kind, std::string(entry.name));
    for (const char* name : {"task_struct", "module", "list_head", "pt_regs"})
      names.emplace_back(NameKind::structure, name);
    for (const char* name : {"init_task", "jiffies", "jiffies_64", "runqueues", "init_uts_ns", "fx_magic"})
      names.emplace_back(NameKind::variable, name);
    names.emplace_back(NameKind::function, "schedule");
    names.emplace_back(NameKind::enumerator, "PIDTYPE_PID");
    names.emplace_back(NameKind::typedef_type, "u32");
    names.emplace_back(NameKind::base, "int");
    // The same names asked for as another kind, and names that are nowhere.
    const size_t sampled = names.size();
    for (size_t i = 0; i < sampled; i += 9)
      names.emplace_back(names[i].first == NameKind::function ? NameKind::variable : NameKind::function,
                         names[i].second);
    names.emplace_back(NameKind::variable, "coroner_no_such_name");
    names.emplace_back(NameKind::structure, "x");

    size_t found = 0;
    for (const auto& [kind, name] : names) {
      INFO(name << " kind " << static_cast<int>(kind));
      auto scan = scanner->find(kind, name);
      REQUIRE(scan.has_value());
      CHECK(*scan == index->find(kind, name));
      found += scan->has_value();
    }
    CHECK(found > sampled / 2);

    // A fresh scanner, so that no earlier walk helps: asking for a typedef
    // named task_struct must walk every unit that mentions the name.
    auto fresh = NameScanner::create(*scanned.context, *scanned.binary.getBinary(), c->vmlinux());
    REQUIRE(fresh != nullptr);
    auto stopped = fresh->find_within(NameKind::typedef_type, "task_struct", {UINT64_MAX, 10});
    REQUIRE(stopped.has_value());
    CHECK_FALSE(stopped->settled);
    auto settled = fresh->find_within(NameKind::typedef_type, "task_struct", {});
    REQUIRE(settled.has_value());
    CHECK(settled->settled);
    CHECK_FALSE(settled->die_offset.has_value());
    auto cheap = fresh->find_within(NameKind::structure, "task_struct", {0, 0});  // known from that walk
    REQUIRE(cheap.has_value());
    CHECK(cheap->settled);
    CHECK(cheap->die_offset == index->find(NameKind::structure, "task_struct"));
  }
}

TEST_CASE("a relocatable module's DWARF is not scanned", "[symbols][dwarf][scan]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    const std::string module = c->module_path();
    OpenDwarf open = open_dwarf(module);
    CHECK(NameScanner::create(*open.context, *open.binary.getBinary(), module) == nullptr);
  }
}
