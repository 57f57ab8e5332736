// End to end on the fixture kernels: the DWARF name index and symbol table
// caches, damaged on disk or replaced by another kernel's, are refused, the
// answers stay those of facts.json, and the caches are written again.
#include "symbols/cache_file.hpp"
#include "symbols/debug_info.hpp"
#include "symbols/elf_symbols.hpp"
#include "symbols/index_cache.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/symbols/kernels.hpp"

#include <catch2/catch.hpp>

#include <functional>

using namespace coroner;
using namespace coroner::test;
using symbols::DebugInfo;
using symbols::SymbolTable;

namespace {

// A kernel with both caches built, and their good bytes.
struct CachedKernel {
  const DumpCase* kernel = nullptr;
  std::string dir;
  std::string build_id;
  fs::path index;
  fs::path symbols;
  std::string good_index;
  std::string good_symbols;
};

uint64_t kaslr_offset(const DumpCase& c) { return hex_value(c.facts()["vmcoreinfo"]["KERNELOFFSET"]); }

// What the index answers, against facts.json's run-time addresses (the
// link-time address plus KERNELOFFSET) and the layout an uncached open reads.
void check_dwarf_answers(DebugInfo& debug, const DumpCase& c, uint64_t tasks_offset) {
  const nlohmann::json& facts = c.facts()["symbols"];
  for (const char* name : {"init_task", "init_uts_ns", "linux_banner"}) {
    INFO(name);
    auto variable = debug.find_variable(name);
    REQUIRE(variable.has_value());
    CHECK(variable->address.value_or(0) + kaslr_offset(c) == hex_value(facts[name]));
  }
  auto panic = debug.find_function("panic");
  REQUIRE(panic.has_value());
  CHECK(panic->address.value_or(0) + kaslr_offset(c) == hex_value(facts["panic"]));
  CHECK(debug.member_offset("task_struct", "tasks").value_or(0) == tasks_offset);
}

// What the symbol table answers, relocated by KERNELOFFSET.
void check_symbol_answers(const SymbolTable& table, const DumpCase& c) {
  for (const char* name : {"init_task", "jiffies", "_stext", "init_uts_ns", "panic", "linux_banner"}) {
    INFO(name);
    const symbols::Symbol* symbol = table.find(name);
    REQUIRE(symbol != nullptr);
    CHECK(symbol->address == hex_value(c.facts()["symbols"][name]));
  }
}

uint64_t uncached_tasks_offset(const DumpCase& c) {
  auto debug = DebugInfo::open(c.vmlinux(), "");
  REQUIRE(debug.has_value());
  auto offset = (*debug)->member_offset("task_struct", "tasks");
  REQUIRE(offset.has_value());
  return *offset;
}

CachedKernel build_caches(const DumpCase& c) {
  CachedKernel cached;
  cached.kernel = &c;
  cached.dir = (cache_dir() / "cache-recovery" / c.arch_dir).string();
  fs::remove_all(cached.dir);
  auto debug = DebugInfo::open(c.vmlinux(), cached.dir);
  REQUIRE(debug.has_value());
  REQUIRE((*debug)->build_index().has_value());
  REQUIRE(SymbolTable::from_elf(c.vmlinux(), cached.dir, static_cast<int64_t>(kaslr_offset(c))).has_value());
  cached.build_id = (*debug)->build_id();
  cached.index = symbols::index_cache_path(cached.dir, cached.build_id);
  cached.symbols = symbols::symbol_cache_path(cached.dir, cached.build_id);
  cached.good_index = file_contents(cached.index);
  cached.good_symbols = file_contents(cached.symbols);
  return cached;
}

// Compared here, not in CHECK: Catch would print megabytes of both sides.
bool has_contents(const fs::path& file, const std::string& bytes) { return file_contents(file) == bytes; }

// A fault applied to a cache file, given its good bytes and the same cache
// of another kernel.
struct Fault {
  std::string what;
  std::function<void(const fs::path& file, const std::string& good, const fs::path& foreign)> apply;
};

Fault flipped_at(std::string what, std::function<size_t(size_t)> offset) {
  return {std::move(what), [offset](const fs::path& file, const std::string& good, const fs::path&) {
            std::string bad = good;
            bad[offset(good.size())] ^= 0x10;
            write_file_contents(file, bad);
          }};
}

Fault truncated_to(std::string what, std::function<size_t(size_t)> size) {
  return {std::move(what), [size](const fs::path& file, const std::string& good, const fs::path&) {
            write_file_contents(file, std::string_view(good).substr(0, size(good.size())));
          }};
}

const std::vector<Fault>& faults() {
  static const std::vector<Fault> all = {
      flipped_at("a byte of the header flipped", [](size_t) { return 13; }),
      flipped_at("a byte in the middle flipped", [](size_t size) { return size / 2; }),
      // The names or symbol names: no structural check sees a changed letter.
      flipped_at("a byte near the end of the content flipped", [](size_t size) { return size - 100; }),
      flipped_at("a byte of the trailer flipped", [](size_t size) { return size - 20; }),
      truncated_to("emptied", [](size_t) { return 0; }),
      truncated_to("cut in half", [](size_t size) { return size / 2; }),
      truncated_to("its last byte cut", [](size_t size) { return size - 1; }),
      {"replaced by another kernel's cache",
       [](const fs::path& file, const std::string&, const fs::path& foreign) {
         fs::copy_file(foreign, file, fs::copy_options::overwrite_existing);
       }},
  };
  return all;
}

}  // namespace

TEST_CASE("damaged or foreign caches are rebuilt and the answers stay facts.json's", "[symbols][cache]") {
  const std::vector<const DumpCase*> kernels = one_case_per_kernel();
  REQUIRE(kernels.size() >= 2);
  // x86_64 and arm64: different build-ids, each the other's foreign cache.
  const std::vector<CachedKernel> cached = {build_caches(*kernels[0]), build_caches(*kernels[1])};
  REQUIRE(cached[0].build_id != cached[1].build_id);
  for (size_t k = 0; k < cached.size(); ++k) {
    const CachedKernel& kernel = cached[k];
    const CachedKernel& other = cached[1 - k];
    const DumpCase& c = *kernel.kernel;
    const uint64_t tasks_offset = uncached_tasks_offset(c);
    const int64_t slide = static_cast<int64_t>(kaslr_offset(c));
    for (const Fault& fault : faults()) {
      INFO(c.arch_dir << ": " << fault.what);
      {
        INFO("the name index");
        fault.apply(kernel.index, kernel.good_index, other.index);
        REQUIRE_FALSE(has_contents(kernel.index, kernel.good_index));
        auto debug = DebugInfo::open(c.vmlinux(), kernel.dir);
        REQUIRE(debug.has_value());
        CHECK_FALSE((*debug)->stats().from_cache);
        check_dwarf_answers(**debug, c, tasks_offset);
        // What the background builder does after such a session.
        REQUIRE((*debug)->build_index().has_value());
        CHECK(has_contents(kernel.index, kernel.good_index));
        auto warm = DebugInfo::open(c.vmlinux(), kernel.dir);
        REQUIRE(warm.has_value());
        CHECK((*warm)->stats().from_cache);
        check_dwarf_answers(**warm, c, tasks_offset);
      }
      {
        INFO("the symbol table");
        fault.apply(kernel.symbols, kernel.good_symbols, other.symbols);
        REQUIRE_FALSE(has_contents(kernel.symbols, kernel.good_symbols));
        // Read from the vmlinux again, and the cache written again at once.
        auto table = SymbolTable::from_elf(c.vmlinux(), kernel.dir, slide);
        REQUIRE(table.has_value());
        check_symbol_answers(*table, c);
        CHECK(has_contents(kernel.symbols, kernel.good_symbols));
        auto warm = SymbolTable::from_elf(c.vmlinux(), kernel.dir, slide);
        REQUIRE(warm.has_value());
        check_symbol_answers(*warm, c);
      }
      CHECK(symbols::read_cache_file(kernel.index.string(), kernel.build_id).has_value());
      CHECK(symbols::read_cache_file(kernel.symbols.string(), kernel.build_id).has_value());
    }
  }
}
