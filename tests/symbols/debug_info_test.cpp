#include "symbols/debug_info.hpp"
#include "symbols/elf_symbols.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/symbols/kernels.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>

using namespace coroner;
using namespace coroner::test;
using coroner::symbols::DebugInfo;

namespace {

struct PaholeMember {
  std::string name;
  uint64_t offset = 0;
  std::optional<uint64_t> bit;  // bitfields: "offset:bit"
  uint64_t size = 0;
};

struct PaholeLayout {
  std::vector<PaholeMember> members;
  uint64_t size = 0;
};

// pahole -C NAME FILE: every member line "type name; /* offset size */"
// (nested lines are members of anonymous structs/unions, which DebugInfo
// finds by name too), and the "size:" comment.
PaholeLayout pahole(const std::string& type, const std::string& file) {
  const std::string text = run_command("pahole -C " + type + " " + file);
  static const std::regex member(R"(^\s+([^/]*?);\s+/\*\s+(\d+)(?::\s*(\d+))?\s+(\d+)\s+\*/)");
  static const std::regex size(R"(/\* size: (\d+),)");
  static const std::regex attribute(R"(\s*__attribute__\(\(.*\)\))");
  PaholeLayout layout;
  std::istringstream lines(text);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, size) && line.find("sum") == std::string::npos) layout.size = std::stoull(m[1]);
    if (!std::regex_search(line, m, member)) continue;
    std::string declaration = std::regex_replace(m[1].str(), attribute, "");
    if (declaration.find('(') != std::string::npos || declaration.find('}') != std::string::npos) continue;
    declaration = declaration.substr(0, declaration.find('['));
    const size_t colon = declaration.find(':');
    declaration = declaration.substr(0, colon);
    const size_t start = declaration.find_last_of(" *");
    PaholeMember entry{declaration.substr(start + 1), std::stoull(m[2]), std::nullopt, std::stoull(m[4])};
    if (m[3].matched) entry.bit = std::stoull(m[3]);
    if (!entry.name.empty()) layout.members.push_back(entry);
  }
  return layout;
}

std::string fresh_cache_dir(const std::string& name) {
  const auto dir = cache_dir() / "symbols-index" / name;
  std::filesystem::remove_all(dir);
  return dir.string();
}

void check_against_pahole(DebugInfo& info, const std::string& type, const std::string& file, size_t minimum) {
  INFO(type);
  const PaholeLayout layout = pahole(type, file);
  REQUIRE(layout.members.size() >= minimum);
  for (const PaholeMember& member : layout.members) {
    INFO(member.name);
    auto location = info.find_member(type, member.name);
    REQUIRE(location.has_value());
    if (member.bit) {
      // pahole numbers a bitfield's bits from its storage unit's start.
      CHECK(location->bit_offset == member.offset * 8 + *member.bit);
    } else {
      CHECK(location->bit_offset == member.offset * 8);
      CHECK(info.member_offset(type, member.name).value_or(~0ull) == member.offset);
      auto size = location->type.type->size();
      REQUIRE(size.has_value());
      CHECK(*size == member.size);
    }
  }
  auto size = info.type_size(type);
  REQUIRE(size.has_value());
  CHECK(*size == layout.size);
}

}  // namespace

TEST_CASE("DWARF member offsets and sizes equal pahole's", "[symbols][dwarf]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    auto info = DebugInfo::open(c->vmlinux(), fresh_cache_dir(c->arch_dir + "-pahole"));
    REQUIRE(info.has_value());
    DebugInfo& debug = **info;
    check_against_pahole(debug, "task_struct", c->vmlinux(), 100);
    check_against_pahole(debug, "mm_struct", c->vmlinux(), 20);
    check_against_pahole(debug, "list_head", c->vmlinux(), 2);
    CHECK(debug.member_offset("mm_struct", "pgd").value_or(~0ull) ==
          debug.member_offset("struct mm_struct", "pgd").value_or(~1ull));
    CHECK(debug.member_offset("list_head", "next").value_or(~0ull) == 0);
    CHECK(debug.member_offset("list_head", "prev").value_or(~0ull) == 8);

    // Paths through members, arrays and typedefs.
    auto thread = debug.member_offset("task_struct", "thread");
    REQUIRE(thread.has_value());
    const bool x86 = c->arch_dir.find("x86_64") != std::string::npos;
    auto sp = debug.member_offset("task_struct", x86 ? "thread.sp" : "thread.cpu_context.sp");
    REQUIRE(sp.has_value());
    CHECK(*sp == *thread + *debug.member_offset("thread_struct", x86 ? "sp" : "cpu_context.sp"));
    auto comm = debug.find_member("task_struct", "comm");
    REQUIRE(comm.has_value());
    CHECK(comm->type.type->spelling() == "char [16]");
    CHECK(debug.member_offset("task_struct", "comm[3]").value_or(0) == *debug.member_offset("task_struct", "comm") + 3);
    CHECK(debug.member_offset("task_struct", "pid_links[1]").value_or(0) ==
          *debug.member_offset("task_struct", "pid_links") + 16);

    // Renamed fields across kernel versions: 6.1 has __state.
    CHECK(debug.has_member("task_struct", "__state").value_or(false));
    CHECK_FALSE(debug.has_member("task_struct", "state").value_or(true));
    CHECK_FALSE(debug.has_member("no_such_type", "x").has_value());

    CHECK(debug.type_size("int").value_or(0) == 4);
    CHECK(debug.type_size("unsigned long").value_or(0) == 8);
    CHECK(debug.type_size("long unsigned int").value_or(0) == 8);
    CHECK(debug.type_size("u64").value_or(0) == 8);
    CHECK(debug.type_size("struct task_struct *").value_or(0) == 8);
    CHECK(debug.type_size("pid_t").value_or(0) == 4);
    CHECK(debug.find_type("no_such_type_at_all").error().code() == Errc::not_found);
  }
}

TEST_CASE("DWARF variables: link-time addresses, types, per-CPU", "[symbols][dwarf]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    const uint64_t kaslr = std::stoull(c->facts()["vmcoreinfo"]["KERNELOFFSET"].get<std::string>(), nullptr, 16);
    auto info = DebugInfo::open(c->vmlinux(), fresh_cache_dir(c->arch_dir + "-variables"));
    REQUIRE(info.has_value());
    DebugInfo& debug = **info;
    for (const char* name : {"init_task", "init_uts_ns", "linux_banner"}) {
      INFO(name);
      auto variable = debug.find_variable(name);
      REQUIRE(variable.has_value());
      REQUIRE(variable->address.has_value());
      CHECK(*variable->address + kaslr == hex_value(c->facts()["symbols"][name]));
      CHECK_FALSE(variable->per_cpu);
    }
    CHECK(debug.find_variable("init_task")->type.type->spelling() == "struct task_struct");
    // jiffies is a linker-script alias of jiffies_64: DWARF only declares it
    // (the address comes from the symbol table); jiffies_64 is defined.
    auto jiffies = debug.find_variable("jiffies");
    REQUIRE(jiffies.has_value());
    CHECK_FALSE(jiffies->address.has_value());
    CHECK(jiffies->type.qualifiers == symbols::qualifier_volatile);
    CHECK(jiffies->type.type->size().value_or(0) == 8);
    auto jiffies_64 = debug.find_variable("jiffies_64");
    REQUIRE(jiffies_64.has_value());
    CHECK(jiffies_64->address.value_or(0) + kaslr == hex_value(c->facts()["symbols"]["jiffies"]));
    auto banner = debug.find_variable("linux_banner");
    CHECK(banner->type.type->kind() == symbols::TypeKind::array);

    // runqueues is per-CPU: its address is an offset into .data..percpu.
    auto runqueues = debug.find_variable("runqueues");
    REQUIRE(runqueues.has_value());
    CHECK(runqueues->per_cpu);
    CHECK(runqueues->type.type->spelling() == "struct rq");
    auto current = debug.find_variable("current_task");
    if (c->arch_dir.find("x86_64") != std::string::npos) {
      REQUIRE(current.has_value());
      CHECK(current->per_cpu);
    }

    auto panic = debug.find_function("panic");
    REQUIRE(panic.has_value());
    REQUIRE(panic->address.has_value());
    CHECK(*panic->address + kaslr == hex_value(c->facts()["symbols"]["panic"]));
    CHECK(panic->type.type->kind() == symbols::TypeKind::function);
    CHECK(panic->type.type->is_variadic());

    CHECK(debug.find_enumerator("PIDTYPE_PID").value_or(-1) == 0);
    CHECK(debug.find_enumerator("PIDTYPE_TGID").value_or(-1) == 1);
    CHECK(debug.find_variable("no_such_variable").error().code() == Errc::not_found);
  }
}

TEST_CASE("module DWARF: struct fx_item from fx_crash.ko", "[symbols][dwarf]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    auto info = DebugInfo::open(c->module_path(), "");
    REQUIRE(info.has_value());
    check_against_pahole(**info, "fx_item", c->module_path(), 4);
    auto magic = (*info)->find_variable("fx_magic");
    REQUIRE(magic.has_value());
    CHECK(magic->type.type->size().value_or(0) == 8);

    // With the module's section addresses, variables come out at run time
    // addresses: place .data where facts.json says fx_magic is.
    auto table = symbols::SymbolTable::from_elf(c->module_path());
    const symbols::Symbol* magic_symbol = table->find("fx_magic");
    REQUIRE(magic_symbol != nullptr);
    const uint64_t section_base = hex_value(c->facts()["symbols"]["fx_magic"]) - magic_symbol->address;
    symbols::SectionAddresses sections{{magic_symbol->section, section_base}};
    auto placed = DebugInfo::open(c->module_path(), "", &sections);
    REQUIRE(placed.has_value());
    auto placed_magic = (*placed)->find_variable("fx_magic");
    REQUIRE(placed_magic.has_value());
    CHECK(placed_magic->address.value_or(0) == hex_value(c->facts()["symbols"]["fx_magic"]));
    auto items = (*placed)->find_variable("fx_items");
    REQUIRE(items.has_value());
    CHECK(items->address.value_or(0) == hex_value(c->facts()["symbols"]["fx_items"]));
  }
}

TEST_CASE("the second open reads the index from the cache", "[symbols][dwarf][cache]") {
  for (const DumpCase* c : one_case_per_kernel()) {
    INFO(c->arch_dir);
    const std::string dir = fresh_cache_dir(c->arch_dir + "-cache");
    auto time_first_answer = [&](std::unique_ptr<DebugInfo>& out) {
      const auto start = std::chrono::steady_clock::now();
      auto info = DebugInfo::open(c->vmlinux(), dir);
      REQUIRE(info.has_value());
      auto offset = (*info)->member_offset("struct task_struct", "tasks");
      REQUIRE(offset.has_value());
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      out = std::move(*info);
      return std::make_pair(*offset, seconds);
    };
    std::unique_ptr<DebugInfo> cold, warm;
    auto [cold_offset, cold_seconds] = time_first_answer(cold);
    CHECK_FALSE(cold->stats().from_cache);
    // The cold start answered by scanning; the index is built on request
    // (or when scanning would cost more: a bare "task_struct" must first be
    // shown to be no typedef, which walks most units).
    CHECK_FALSE(cold->indexed());
    const std::string cache_file = dir + "/" + cold->build_id() + ".index";
    CHECK_FALSE(std::filesystem::exists(cache_file));
    const auto build_start = std::chrono::steady_clock::now();
    REQUIRE(cold->build_index().has_value());
    const double build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - build_start).count();
    CHECK(cold->indexed());
    CHECK(std::filesystem::exists(cache_file));
    auto [warm_offset, warm_seconds] = time_first_answer(warm);
    CHECK(warm->stats().from_cache);
    CHECK(warm_offset == cold_offset);
    CHECK(warm->stats().index_entries == cold->stats().index_entries);
    fmt::print(stderr, "{}: member_offset(task_struct, tasks) = {}: cold {:.3f} s (then the index {:.3f} s, {} names), warm {:.4f} s\n",
               c->arch_dir, cold_offset, cold_seconds, build_seconds, cold->stats().index_entries, warm_seconds);
    for (const char* name : {"init_task", "jiffies", "runqueues"})
      CHECK(warm->find_variable(name)->address == cold->find_variable(name)->address);
    CHECK(warm->type_size("task_struct").value_or(0) == cold->type_size("task_struct").value_or(1));

    // A damaged cache is rebuilt, not trusted.
    std::filesystem::resize_file(cache_file, std::filesystem::file_size(cache_file) / 2);
    auto rebuilt = DebugInfo::open(c->vmlinux(), dir);
    REQUIRE(rebuilt.has_value());
    CHECK_FALSE((*rebuilt)->stats().from_cache);
    CHECK((*rebuilt)->member_offset("task_struct", "tasks").value_or(0) == cold_offset);
    CHECK((*rebuilt)->indexed());
  }
}
