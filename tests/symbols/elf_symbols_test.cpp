#include "symbols/elf_file.hpp"
#include "symbols/elf_symbols.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/symbols/kernels.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <tuple>
#include <map>
#include <sstream>

using namespace coroner;
using namespace coroner::test;
using coroner::symbols::SymbolTable;

namespace {

// Symbols of facts.json that live in vmlinux (fx_* are the module's).
const char* const kVmlinuxSymbols[] = {"init_task", "jiffies", "_stext", "_text", "init_uts_ns", "panic", "linux_banner"};

SymbolTable relocated_table(const DumpCase& c) {
  auto table = SymbolTable::from_elf(c.vmlinux());
  REQUIRE(table.has_value());
  const std::string offset = c.facts()["vmcoreinfo"]["KERNELOFFSET"].get<std::string>();
  table->relocate(static_cast<int64_t>(std::stoull(offset, nullptr, 16)));
  return std::move(*table);
}

int rank(const symbols::Symbol& s) {
  return (symbols::is_text_or_data(s.type) ? 0 : 4) + (std::islower(s.type) ? 2 : 0) +
         (s.is_function || s.is_object ? 0 : 1);
}

// The table as a plain reading of LLVM's symbol API gives it: each symbol
// nm lists, with nm's letter from its binding and section flags, sorted by
// address, then preference (global, then text/data, then function or
// object), then name, ties in file order.
std::vector<symbols::Symbol> reference_table(const std::string& path) {
  using llvm::object::SymbolRef;
  auto binary = symbols::open_elf(path);
  REQUIRE(binary);
  const auto& elf = symbols::as_elf(*binary->getBinary());
  std::vector<symbols::Symbol> table;
  for (const llvm::object::ELFSymbolRef symbol : elf.symbols()) {
    const uint32_t flags = llvm::cantFail(symbol.getFlags());
    const uint8_t type = symbol.getELFType();
    if (type == llvm::ELF::STT_FILE || type == llvm::ELF::STT_SECTION || flags & SymbolRef::SF_Undefined) continue;
    const auto section = llvm::cantFail(symbol.getSection());
    symbols::Symbol entry;
    entry.name = llvm::cantFail(symbol.getName()).str();
    if (entry.name.empty()) continue;
    entry.address = llvm::cantFail(symbol.getAddress());
    entry.size = symbol.getSize();
    entry.is_function = type == llvm::ELF::STT_FUNC;
    entry.is_object = type == llvm::ELF::STT_OBJECT;
    char letter = 'A';
    if (section != elf.section_end()) {
      entry.section = llvm::cantFail(section->getName()).str();
      // x86_64's __per_cpu_load and __init_begin: at their kernel address in
      // .data..percpu linked at 0, so the table gives them no section (KASLR moves them).
      if (entry.section == ".data..percpu" && section->getAddress() == 0 &&
          static_cast<int64_t>(entry.address) < 0)
        entry.section.clear();
      const uint64_t section_flags = llvm::object::ELFSectionRef(*section).getFlags();
      letter = !(section_flags & llvm::ELF::SHF_ALLOC)      ? 'N'
               : section_flags & llvm::ELF::SHF_EXECINSTR   ? 'T'
               : section->isBSS()                           ? 'B'
               : section_flags & llvm::ELF::SHF_WRITE       ? 'D'
                                                            : 'R';
    }
    if (flags & SymbolRef::SF_Absolute) letter = 'A';
    if (symbol.getBinding() == llvm::ELF::STB_LOCAL) letter = static_cast<char>(std::tolower(letter));
    if (flags & SymbolRef::SF_Common) letter = 'C';
    if (symbol.getBinding() == llvm::ELF::STB_WEAK) letter = entry.is_object ? 'V' : 'W';
    entry.type = letter;
    table.push_back(std::move(entry));
  }
  std::stable_sort(table.begin(), table.end(), [&](const symbols::Symbol& a, const symbols::Symbol& b) {
    return std::make_tuple(a.address, rank(a), a.name) < std::make_tuple(b.address, rank(b), b.name);
  });
  return table;
}

void require_same_symbols(const SymbolTable& table, const std::vector<symbols::Symbol>& expected) {
  REQUIRE(table.by_address().size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const symbols::Symbol& a = table.by_address()[i];
    const symbols::Symbol& b = expected[i];
    INFO("symbol " << i << ": " << a.name << " (expected " << b.name << ")");
    REQUIRE(std::tie(a.name, a.address, a.size, a.type, a.section, a.is_function, a.is_object) ==
            std::tie(b.name, b.address, b.size, b.type, b.section, b.is_function, b.is_object));
  }
}

}  // namespace

TEST_CASE("from_elf reads every symbol, in the order and with the fields of LLVM's symbol API", "[symbols][elf]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    for (const std::string& path : {c->vmlinux(), c->module_path()}) {
      INFO(path);
      const std::vector<symbols::Symbol> expected = reference_table(path);
      REQUIRE(expected.size() > 10);
      auto table = SymbolTable::from_elf(path);
      REQUIRE(table);
      require_same_symbols(*table, expected);
      // find() gives each name's most preferred symbol, the first in
      // address order among equals.
      std::map<std::string, const symbols::Symbol*> best;
      for (const symbols::Symbol& symbol : table->by_address()) {
        auto [it, added] = best.emplace(symbol.name, &symbol);
        if (!added && rank(symbol) < rank(*it->second)) it->second = &symbol;
      }
      for (const auto& [name, symbol] : best) {
        INFO(name);
        REQUIRE(table->find(name) == symbol);
      }
      CHECK(table->find("") == nullptr);
    }
  }
}

TEST_CASE("from_elf with a slide equals from_elf then relocate", "[symbols][elf]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    const int64_t slide = static_cast<int64_t>(hex_value(c->facts()["vmcoreinfo"]["KERNELOFFSET"]));
    auto slid = SymbolTable::from_elf(c->vmlinux(), "", slide);
    auto relocated = SymbolTable::from_elf(c->vmlinux());
    REQUIRE(slid);
    REQUIRE(relocated);
    relocated->relocate(slide);
    CHECK(slid->slide() == slide);
    require_same_symbols(*slid, relocated->by_address());
    for (const char* name : kVmlinuxSymbols)
      CHECK(slid->find(name) - slid->by_address().data() == relocated->find(name) - relocated->by_address().data());
  }
}

TEST_CASE("vmlinux symbols relocated by KERNELOFFSET give facts.json's run-time addresses", "[symbols][elf]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    SymbolTable table = relocated_table(*c);
    const auto& facts = c->facts()["symbols"];
    int checked = 0;
    for (const char* name : kVmlinuxSymbols) {
      if (!facts.contains(name)) continue;
      INFO(name);
      const symbols::Symbol* symbol = table.find(name);
      REQUIRE(symbol != nullptr);
      CHECK(symbol->address == hex_value(facts[name]));
      ++checked;
    }
    CHECK(checked >= 6);

    const uint64_t panic = hex_value(facts["panic"]);
    const symbols::Symbol* around = table.containing(panic + 0x10);
    REQUIRE(around != nullptr);
    CHECK(around->name == "panic");
    CHECK(panic + 0x10 - around->address == 0x10);
    CHECK(table.containing(0x1000) == nullptr);

    auto found = table.search("init_uts_n");
    REQUIRE(!found.empty());
    CHECK(std::any_of(found.begin(), found.end(), [](auto* s) { return s->name == "init_uts_ns"; }));
    CHECK(table.find("no_such_symbol_anywhere") == nullptr);
  }
}

TEST_CASE("vmlinux symbol types and addresses match nm", "[symbols][elf]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    auto table = SymbolTable::from_elf(c->vmlinux());
    REQUIRE(table.has_value());
    // nm's view of every defined symbol: name -> (address, letter); names
    // that nm lists more than once are skipped.
    std::istringstream nm(run_command("nm " + c->vmlinux()));
    std::map<std::string, std::pair<uint64_t, char>> expected;
    std::set<std::string> duplicates;
    std::string line;
    while (std::getline(nm, line)) {
      std::istringstream fields(line);
      std::string address, letter, name;
      if (!(fields >> address >> letter >> name) || letter.size() != 1) continue;
      if (!expected.emplace(name, std::make_pair(std::stoull(address, nullptr, 16), letter[0])).second)
        duplicates.insert(name);
    }
    REQUIRE(expected.size() > 10000);
    size_t compared = 0;
    for (const symbols::Symbol& symbol : table->by_address()) {
      auto it = expected.find(symbol.name);
      if (it == expected.end() || duplicates.count(symbol.name) || it->second.second == '?') continue;
      INFO(symbol.name);
      CHECK(symbol.address == it->second.first);
      CHECK(symbol.type == it->second.second);
      ++compared;
    }
    CHECK(compared + duplicates.size() >= expected.size() * 9 / 10);
    CHECK(std::is_sorted(table->by_address().begin(), table->by_address().end(),
                         [](const auto& a, const auto& b) { return a.address < b.address; }));
  }
}

TEST_CASE("build-id and machine of each vmlinux", "[symbols][elf]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    auto id = symbols::elf_build_id(c->vmlinux());
    REQUIRE(id.has_value());
    CHECK(*id == c->facts()["vmcoreinfo"]["BUILD-ID"].get<std::string>());
    auto machine = symbols::elf_machine(c->vmlinux());
    REQUIRE(machine.has_value());
    CHECK(*machine == (c->arch_dir.find("x86_64") != std::string::npos ? "x86_64" : "aarch64"));
    auto module_machine = symbols::elf_machine(c->module_path());
    REQUIRE(module_machine.has_value());
    CHECK(*module_machine == *machine);
    // The module's build-id is its own, and readelf agrees.
    auto module_id = symbols::elf_build_id(c->module_path());
    REQUIRE(module_id.has_value());
    CHECK(run_command("readelf -n " + c->module_path()).find(*module_id) != std::string::npos);
  }
}

TEST_CASE("module symbols of fx_crash.ko", "[symbols][elf]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    auto table = SymbolTable::from_elf(c->module_path());
    REQUIRE(table.has_value());
    CHECK(table->is_relocatable());
    const symbols::Symbol* level3 = table->find("fx_crash_level3");
    REQUIRE(level3 != nullptr);
    CHECK((level3->type == 'T' || level3->type == 't'));
    CHECK(level3->section.rfind(".text", 0) == 0);  // .text or .text.unlikely
    const symbols::Symbol* magic = table->find("fx_magic");
    REQUIRE(magic != nullptr);
    CHECK(magic->size == 8);
    const symbols::Symbol* items = table->find("fx_items");
    REQUIRE(items != nullptr);
    CHECK(symbols::is_text_or_data(items->type));
    // The offsets within the module's sections agree with the run-time
    // addresses: fx_items - fx_magic is the same in the dump.
    const auto& facts = c->facts()["symbols"];
    if (magic->section == items->section)
      CHECK(items->address - magic->address == hex_value(facts["fx_items"]) - hex_value(facts["fx_magic"]));
  }
}

TEST_CASE("a cached symbol table equals a freshly read one, and a damaged cache is rebuilt", "[symbols][elf][cache]") {
  const DumpCase& c = *one_case_per_kernel().front();
  const fs::path dir = cache_dir() / "symbol-cache-test";
  fs::remove_all(dir);
  auto fresh = SymbolTable::from_elf(c.vmlinux());
  REQUIRE(fresh);
  auto same = [&](const SymbolTable& table) {
    REQUIRE(table.by_address().size() == fresh->by_address().size());
    for (size_t i = 0; i < table.by_address().size(); ++i) {
      const symbols::Symbol& a = table.by_address()[i];
      const symbols::Symbol& b = fresh->by_address()[i];
      REQUIRE(std::tie(a.name, a.address, a.size, a.type, a.section, a.is_function, a.is_object) ==
              std::tie(b.name, b.address, b.size, b.type, b.section, b.is_function, b.is_object));
    }
    for (const char* name : kVmlinuxSymbols) CHECK(table.find(name) == &table.by_address()[fresh->find(name) - &fresh->by_address()[0]]);
  };
  auto written = SymbolTable::from_elf(c.vmlinux(), dir.string());  // parses, then writes the cache
  REQUIRE(written);
  same(*written);
  auto id = symbols::elf_build_id(c.vmlinux());
  REQUIRE(id);
  const fs::path file = symbols::symbol_cache_path(dir.string(), *id);
  REQUIRE(fs::exists(file));
  auto cached = SymbolTable::from_elf(c.vmlinux(), dir.string());
  REQUIRE(cached);
  same(*cached);
  // A table cached at one slide serves another.
  auto moved = SymbolTable::from_elf(c.vmlinux(), dir.string(), 0x200000);
  REQUIRE(moved);
  CHECK(moved->slide() == 0x200000);
  CHECK(moved->find("init_task")->address == fresh->find("init_task")->address + 0x200000);
  // Truncated, or with a section name's length damaged: refused, and the
  // table read again.
  const auto size = fs::file_size(file);
  for (uint64_t cut : {uint64_t{0}, uint64_t{20}, size / 2, size - 1}) {
    INFO("cut at " << cut);
    fs::resize_file(file, cut);
    auto rebuilt = SymbolTable::from_elf(c.vmlinux(), dir.string());
    REQUIRE(rebuilt);
    same(*rebuilt);
    CHECK(fs::file_size(file) == size);  // written again
  }
  {
    std::fstream damage(file, std::ios::in | std::ios::out | std::ios::binary);
    damage.seekp(48 + 28 * static_cast<std::streamoff>(fresh->by_address().size()));  // the first section's length
    const uint32_t bogus = 0xfffffff0;
    damage.write(reinterpret_cast<const char*>(&bogus), sizeof bogus);
  }
  auto rebuilt = SymbolTable::from_elf(c.vmlinux(), dir.string());
  REQUIRE(rebuilt);
  same(*rebuilt);
}
