// Erasing secrets (makedumpfile's --config filter): `coroner erase-offsets`
// resolves a filter config from the fixture vmlinux; coroner-capture
// --config erases those bytes while it writes. The erased dump is byte for
// byte makedumpfile -x vmlinux --config's; the erased bytes read 'X' in
// coroner and in crash 8.0.2; every other byte of every page is the
// unerased dump's.
#include "tests/analyzer/frontends/erase_offsets/erase_checks.hpp"

#include <regex>
#include <set>
#include <sstream>
#include <utility>

using namespace coroner;
using namespace coroner::test;

namespace {

// The kernel virtual address an `erase LABEL sym:HEX +N... size` line of the
// offsets names (no pointers on the way), KASLR applied.
uint64_t address_of(const std::string& offsets, const std::string& label, uint64_t kaslr) {
  for (const std::string& line : lines_of(offsets)) {
    std::istringstream words(line);
    std::string keyword, name, start;
    words >> keyword >> name >> start;
    if (keyword != "erase" || name != label) continue;
    uint64_t at = std::stoull(start.substr(4), nullptr, 16) + kaslr;
    for (std::string step; words >> step && step.starts_with("+");) at += std::stoull(step.substr(1));
    return at;
  }
  FAIL("no erase line for " << label);
  return 0;
}

// `-l -d 31` dumps of `input`, with --config `offsets` (erased) and without (plain).
void capture_erased_and_plain(const std::string& input, const std::string& offsets, const std::string& erased,
                              const std::string& plain) {
  REQUIRE(run_shell(fmt::format("{} -l -d 31 --config {} {} {}", CORONER_CAPTURE_BINARY, offsets, input, erased))
              .status == 0);
  REQUIRE(run_shell(fmt::format("{} -l -d 31 {} {}", CORONER_CAPTURE_BINARY, input, plain)).status == 0);
}

// A test's files in dir: the offsets `coroner erase-offsets` resolves from
// dir/CONFIG (ARGS before the vmlinux; it must succeed), and the erased and
// plain dumps made from them.
struct ErasePaths {
  std::string offsets, erased, plain;
};

ErasePaths resolve_config(const fs::path& dir, const std::string& config, const std::string& args,
                          const std::string& vmlinux) {
  ErasePaths paths{(dir / "offsets").string(), (dir / "erased").string(), (dir / "plain").string()};
  CommandResult made = run_shell(fmt::format("{} erase-offsets --config {} -o {} {} {}", CORONER_BINARY,
                                             (dir / config).string(), paths.offsets, args, vmlinux));
  INFO(made.output);
  REQUIRE(made.status == 0);
  return paths;
}

const char* kConfig =
    "# the node name, part of the domain name and every task's comm\n"
    "[vmlinux]\n"
    "erase init_uts_ns.name.nodename\n"
    "erase init_uts_ns.name.domainname size 4\n"
    "for t in init_task.tasks.next within task_struct:tasks\n"
    "\terase t.comm\n"
    "endfor\n";

}  // namespace

TEST_CASE("erase with --config: what makedumpfile erases and nothing else", "[erase][capture][fixtures]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  const std::string vmcore = c.files().front();
  fs::path dir = erase_scratch("config");
  write_file_contents(dir / "filter.conf", kConfig);
  std::string offsets = (dir / "offsets").string(), erased = (dir / "erased").string(),
              plain = (dir / "plain").string(), reference = (dir / "makedumpfile").string();

  CommandResult made = run_shell(fmt::format("{} erase-offsets --config {}/filter.conf -o {} {}", CORONER_BINARY, dir.string(),
                             offsets, c.vmlinux()));
  INFO(made.output);
  REQUIRE(made.status == 0);
  const std::string text = file_contents(offsets);
  CHECK_THAT(text, Catch::StartsWith("coroner-erase-offsets 1\n"));
  CHECK_THAT(text, Catch::Contains("erase init_uts_ns.name.nodename sym:"));
  CHECK_THAT(text, Catch::Contains(" size 65\n"));  // char nodename[65]
  CHECK_THAT(text, Catch::Contains("  erase t.comm elem +"));

  CommandResult captured = run_shell(fmt::format("{} -c -d 31 --config {} {} {}", CORONER_CAPTURE_BINARY, offsets, vmcore, erased));
  INFO(captured.output);
  REQUIRE(captured.status == 0);
  CHECK_THAT(captured.output, Catch::Contains("Erased (--config): "));
  REQUIRE(run_shell(fmt::format("{} -c -d 31 {} {}", CORONER_CAPTURE_BINARY, vmcore, plain)).status == 0);
  run_command(fmt::format("makedumpfile -c -d 31 -x {} --config {}/filter.conf {} {}", c.vmlinux(), dir.string(),
                          vmcore, reference));
  CHECK(file_contents(erased) == file_contents(reference));
  // --split --config parts reassemble into that dump, erase info included.
  REQUIRE(run_shell(fmt::format("{0} --split -c -d 31 --config {1} {2} {3}/p1 {3}/p2 && {0} --reassemble {3}/p1 {3}/p2 "
                          "{3}/whole",
                          CORONER_CAPTURE_BINARY, offsets, vmcore, dir.string()))
              .status == 0);
  CHECK(file_contents(dir / "whole") == file_contents(reference));

  // Page by page: erased bytes are 'X', every other byte is the plain dump's.
  auto out = open_or_fail(erased), in = open_or_fail(plain);
  std::map<uint64_t, std::byte> want = erased_bytes(*in, offsets);
  const uint64_t tasks = c.facts().at("tasks").size();
  CHECK(want.size() == 65 + 4 + 16 * tasks);  // every task on init_task.tasks (facts: all but the idle tasks)
  PageComparison pages = compare_pages(*in, *out, want);
  CHECK(pages.pages > 1000);
  CHECK(pages.wrong == 0);
  CHECK(pages.erased_seen == want.size());

  // coroner and crash 8.0.2 read the erased values.
  const std::string xs(65, 'X');
  CommandResult coroner = run_shell(fmt::format("CORONER_BACKGROUND_INDEX=0 {} -s -x 'p init_uts_ns.name.nodename' -x ps {} {}",
                                CORONER_BINARY, c.vmlinux(), erased));
  INFO(coroner.output);
  REQUIRE(coroner.status == 0);
  CHECK_THAT(coroner.output, Catch::Contains("init_uts_ns.name.nodename = \"" + xs + "\""));
  CHECK_THAT(coroner.output, Catch::Contains("[XXXXXXXXXXXXXXXX]"));
  CHECK_THAT(coroner.output, !Catch::Contains(c.facts().at("nodename").get<std::string>()));
  const uint64_t kaslr = VmcoreInfo::parse(in->vmcoreinfo_text().value_or("")).kernel_offset().value_or(0);
  const uint64_t nodename = address_of(text, "init_uts_ns.name.nodename", kaslr),
                 domainname = address_of(text, "init_uts_ns.name.domainname", kaslr);
  CommandResult crash = run_shell(fmt::format("printf 'p init_uts_ns.name.nodename\\nrd -a {:#x}\\nrd -8 {:#x} 6\\nps\\nquit\\n' | "
                              "crash -s {} {}",
                              nodename, domainname, c.vmlinux(), erased));
  INFO(crash.output);
  REQUIRE(crash.status == 0);
  CHECK_THAT(crash.output, Catch::Contains("Kernel data has been erased from this dumpfile"));
  CHECK_THAT(crash.output, Catch::Contains("= \"" + xs + "\""));
  CHECK_THAT(crash.output, Catch::Contains(fmt::format("{:x}:  {}", nodename, xs.substr(0, 60))));
  // "(none)" with its first 4 bytes erased.
  CHECK_THAT(crash.output, Catch::Contains(fmt::format("{:x}:  58 58 58 58 65 29", domainname)));
  // The tasks' comm (crash shows 15 characters of a comm without a NUL; it
  // finds only the active tasks of this fixture, "not found in PID hash").
  CHECK_THAT(crash.output, Catch::Contains(" 1       0   0  " + c.facts().at("tasks")[0].at("task").get<std::string>().substr(2) +
                                           "  RU   0.0     2256       64  XXXXXXXXXXXXXXX\n"));
  CHECK_THAT(crash.output, !Catch::Contains(c.facts().at("nodename").get<std::string>()));
}

TEST_CASE("erase with --config on the arm64 fixture: erased bytes read X and every other byte is unchanged", "[erase][capture][fixtures]") {
  // Debian's makedumpfile and crash read no arm64 dumps: checked against
  // the unerased output and with coroner.
  const DumpCase& c = fixture_case("arm64/oops-kdump/vmcore");
  fs::path dir = erase_scratch("config-arm64");
  write_file_contents(dir / "filter.conf", kConfig);
  std::string offsets = (dir / "offsets").string(), erased = (dir / "erased").string(), plain = (dir / "plain").string();
  REQUIRE(run_shell(fmt::format("{} erase-offsets --config {}/filter.conf -o {} {}", CORONER_BINARY, dir.string(), offsets,
                          c.vmlinux()))
              .status == 0);
  capture_erased_and_plain(c.files().front(), offsets, erased, plain);
  auto out = open_or_fail(erased), in = open_or_fail(plain);
  std::map<uint64_t, std::byte> want = erased_bytes(*in, offsets);
  CHECK(want.size() == 65 + 4 + 16 * c.facts().at("tasks").size());
  PageComparison pages = compare_pages(*in, *out, want);
  CHECK(pages.wrong == 0);
  CHECK(pages.erased_seen == want.size());
  CommandResult coroner = run_shell(fmt::format("CORONER_BACKGROUND_INDEX=0 {} -s -x 'p init_uts_ns.name.nodename' {} {}",
                                CORONER_BINARY, c.vmlinux(), erased));
  INFO(coroner.output);
  CHECK_THAT(coroner.output, Catch::Contains("init_uts_ns.name.nodename = \"" + std::string(65, 'X') + "\""));
}

TEST_CASE("erase with --config: an ELF dump (-E) holds the same pages as makedumpfile -E's", "[erase][capture][fixtures]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  const std::string vmcore = c.files().front();
  fs::path dir = erase_scratch("config-elf");
  write_file_contents(dir / "filter.conf", kConfig);
  std::string offsets = (dir / "offsets").string(), erased = (dir / "erased").string(),
              reference = (dir / "makedumpfile").string();
  REQUIRE(run_shell(fmt::format("{} erase-offsets --config {}/filter.conf -o {} {}", CORONER_BINARY, dir.string(), offsets,
                          c.vmlinux()))
              .status == 0);
  REQUIRE(run_shell(fmt::format("{} -E -d 31 --config {} {} {}", CORONER_CAPTURE_BINARY, offsets, vmcore, erased)).status == 0);
  run_command(fmt::format("makedumpfile -E -d 31 -x {} --config {}/filter.conf {} {}", c.vmlinux(), dir.string(),
                          vmcore, reference));
  // makedumpfile lays out its ELF segments differently: compare page by page.
  auto ours = open_or_fail(erased), theirs = open_or_fail(reference);
  uint64_t page = ours->page_size() ? ours->page_size() : 4096, same = 0, differ = 0, presence = 0;
  std::vector<std::byte> a(page), b(page);
  for (const PhysRange& r : theirs->ranges())
    for (uint64_t at = (r.start + page - 1) / page * page; at + page <= r.end(); at += page) {
      bool got_ours = bool(ours->read(at, a)), got_theirs = bool(theirs->read(at, b));
      if (got_ours != got_theirs) ++presence;
      else if (got_ours) ++(a == b ? same : differ);
    }
  CHECK(same > 1000);
  CHECK(differ == 0);
  CHECK(presence == 0);
  // The erased node name is in it.
  auto info = VmcoreInfo::parse(ours->vmcoreinfo_text().value_or(""));
  uint64_t nodename = address_of(file_contents(offsets), "init_uts_ns.name.nodename", info.kernel_offset().value_or(0));
  auto arch = arch::make_arch(ours->machine(), info);
  REQUIRE(arch);
  KernelMemory memory(*ours, **arch);
  auto text = memory.read_string(nodename, 100);
  REQUIRE(text);
  // No NUL left: the release field follows.
  CHECK(*text == std::string(65, 'X') + c.facts().at("osrelease").get<std::string>());
}

TEST_CASE("erase with --config: nested loops erase each task's children's comm and the parent's", "[erase][capture][fixtures]") {
  // makedumpfile 1.7.2 stops at a nested `for` ("Invalid token 'for'") and
  // erases nothing: checked against the tasks of the facts instead.
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  fs::path dir = erase_scratch("nested");
  write_file_contents(dir / "nested.conf",
                      "for t in init_task.tasks.next within task_struct:tasks\n"
                      "\tfor c in t.children.next within task_struct:sibling\n"
                      "\t\terase c.comm size 4\n"
                      "\t\terase t.comm size 2\n"
                      "\tendfor\n"
                      "endfor\n");
  const auto [offsets, erased, plain] = resolve_config(dir, "nested.conf", "", c.vmlinux());
  const std::string text = file_contents(offsets);
  CHECK_THAT(text, Catch::Contains("\n  for c@t.children.next list elem +"));
  CHECK_THAT(text, Catch::Contains("\n    erase c.comm elem +"));
  CHECK_THAT(text, Catch::Contains("\n    erase t.comm elem1 +"));
  CHECK_THAT(text, Catch::Contains("\n  endfor\nendfor\n"));
  capture_erased_and_plain(c.files().front(), offsets, erased, plain);
  auto out = open_or_fail(erased), in = open_or_fail(plain);

  // Each task whose parent is on the task list: 4 bytes of its comm and 2
  // of its parent's (once per child).
  uint64_t comm = 0;
  for (const std::string& line : lines_of(text))
    if (line.starts_with("    erase c.comm elem +")) comm = std::stoull(line.substr(23));
  REQUIRE(comm > 0);
  std::map<int64_t, uint64_t> task_of;
  for (const auto& task : c.facts().at("tasks"))
    task_of[task.at("pid").get<int64_t>()] = std::stoull(task.at("task").get<std::string>(), nullptr, 16);
  std::multiset<std::pair<uint64_t, uint64_t>> expected, got;
  for (const auto& task : c.facts().at("tasks")) {
    auto parent = task_of.find(task.at("ppid").get<int64_t>());
    if (parent == task_of.end()) continue;  // a child of the idle task, which is not on its own list
    expected.insert({task_of.at(task.at("pid").get<int64_t>()) + comm, 4});
    expected.insert({parent->second + comm, 2});
  }
  for (const capture::EraseRange& r : erase_ranges(*in, offsets)) got.insert({r.vaddr, r.size});
  CHECK(expected.size() > 20);
  CHECK(got == expected);
  PageComparison pages = compare_pages(*in, *out, erased_bytes(*in, offsets));
  CHECK(pages.wrong == 0);
  CHECK(pages.erased_seen > 4 * 20);

  // kthreadd is a parent only, rcu_gp (its child) a child only.
  CommandResult ps = run_shell(fmt::format("CORONER_BACKGROUND_INDEX=0 {} -s -x ps {} {}", CORONER_BINARY, c.vmlinux(), erased));
  INFO(ps.output);
  CHECK_THAT(ps.output, Catch::Contains("XXhreadd"));
  CHECK_THAT(ps.output, Catch::Contains("XXXXgp"));
}

TEST_CASE("erase with --config: a module section erases the module's variables found through its kallsyms", "[erase][capture][fixtures]") {
  // makedumpfile 1.7.2 finds fx_crash.ko (in /lib/modules/RELEASE) but
  // skips the section on this kernel: checked against the module's known
  // contents (fixtures/fx_crash.c) instead.
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  fs::path dir = erase_scratch("module");
  write_file_contents(dir / "module.conf",
                      "[fx_crash]\n"
                      "for it in fx_items.next within fx_item:node\n"
                      "\terase it.name\n"
                      "endfor\n"
                      "erase fx_magic\n");
  const std::string modules = fs::path(c.module_path()).parent_path().string();
  const auto [offsets, erased, plain] = resolve_config(dir, "module.conf", "--mod-path " + modules, c.vmlinux());
  const std::string text = file_contents(offsets);
  CHECK_THAT(text, Catch::Contains("\nmodules sym:"));
  CHECK_THAT(text, Catch::Contains("\nfor it@fx_items.next list mod:fx_crash:fx_items +0 member 32\n"));
  CHECK_THAT(text, Catch::Contains("\nerase fx_magic mod:fx_crash:fx_magic size 8\n"));
  capture_erased_and_plain(c.files().front(), offsets, erased, plain);
  auto out = open_or_fail(erased), in = open_or_fail(plain);

  // The five items' names and fx_magic, as fx_crash.c set them.
  auto info = VmcoreInfo::parse(in->vmcoreinfo_text().value_or(""));
  auto arch = arch::make_arch(in->machine(), info);
  REQUIRE(arch);
  KernelMemory memory(*in, **arch);
  std::vector<std::string> names;
  std::vector<capture::EraseRange> ranges = erase_ranges(*in, offsets);
  REQUIRE(ranges.size() == 6);
  for (size_t i = 0; i < 5; ++i) {
    auto name = memory.read_string(ranges[i].vaddr, 16);
    REQUIRE(name);
    names.push_back(*name);
  }
  CHECK(names == std::vector<std::string>{"item-1", "item-2", "item-3", "item-4", "item-5"});
  auto magic = memory.read_u64(ranges[5].vaddr);
  REQUIRE(magic);
  CHECK(*magic == 0xC0FFEE11DEADBEEFULL);
  std::map<uint64_t, std::byte> want = erased_bytes(*in, offsets);
  CHECK(want.size() == 5 * 16 + 8);
  PageComparison pages = compare_pages(*in, *out, want);
  CHECK(pages.wrong == 0);
  CHECK(pages.erased_seen == want.size());
  CommandResult coroner = run_shell(fmt::format("CORONER_BACKGROUND_INDEX=0 {} -s --mod-path {} -x 'p/x fx_magic' {} {}",
                                                CORONER_BINARY, modules, c.vmlinux(), erased));
  INFO(coroner.output);
  CHECK_THAT(coroner.output, Catch::Contains("0x5858585858585858"));

  // A module whose object is nowhere: an error naming the section.
  write_file_contents(dir / "absent.conf", "[no_such_module]\nerase x\n");
  CommandResult absent = run_shell(fmt::format("{} erase-offsets --config {}/absent.conf --mod-path {} {}", CORONER_BINARY,
                                               dir.string(), modules, c.vmlinux()));
  CHECK(absent.status == 1);
  CHECK_THAT(absent.output, Catch::Contains("line 1: [no_such_module]: no no_such_module.ko or no_such_module.ko.debug"));
}

TEST_CASE("erase with --config: if ... is a module's own symbol, found in the dying kernel's module kallsyms",
          "[erase][capture][fixtures]") {
  // fx_items' first item is the one whose node.prev is &fx_items, its last
  // the one whose node.next is (fixtures/fx_crash.c: item-1 to item-5).
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  fs::path dir = erase_scratch("module-if");
  write_file_contents(dir / "module.conf",
                      "[fx_crash]\n"
                      "for it in fx_items.next within fx_item:node\n"
                      "\tfor p in it.node.prev as list_head if it.node.prev is fx_items\n"
                      "\t\terase it.name size 4\n"
                      "\tendfor\n"
                      "\tfor n in it.node.next as list_head if it.node.next is fx_crash:fx_items init_task\n"
                      "\t\terase it.name size 2\n"
                      "\tendfor\n"
                      "endfor\n");
  const std::string modules = fs::path(c.module_path()).parent_path().string();
  const auto [offsets, erased, plain] = resolve_config(dir, "module.conf", "--mod-path " + modules, c.vmlinux());
  const std::string text = file_contents(offsets);
  CHECK_THAT(text,
             Catch::Contains("\n  for p@it.node.prev one elem +32 +8 * if elem +32 +8 is mod:fx_crash:fx_items\n"));
  CHECK(std::regex_search(text, std::regex(" if elem \\+32 \\+0 is mod:fx_crash:fx_items sym:[0-9a-f]+\n")));
  capture_erased_and_plain(c.files().front(), offsets, erased, plain);
  auto out = open_or_fail(erased), in = open_or_fail(plain);
  auto info = VmcoreInfo::parse(in->vmcoreinfo_text().value_or(""));
  auto arch = arch::make_arch(in->machine(), info);
  REQUIRE(arch);
  KernelMemory memory(*in, **arch);
  std::vector<std::pair<std::string, uint64_t>> named;  // the item's name, the bytes erased
  for (const capture::EraseRange& r : erase_ranges(*in, offsets)) {
    auto name = memory.read_string(r.vaddr, 16);
    REQUIRE(name);
    named.push_back({*name, r.size});
  }
  CHECK(named == std::vector<std::pair<std::string, uint64_t>>{{"item-1", 4}, {"item-5", 2}});
  std::map<uint64_t, std::byte> want = erased_bytes(*in, offsets);
  CHECK(want.size() == 6);
  PageComparison pages = compare_pages(*in, *out, want);
  CHECK(pages.wrong == 0);
  CHECK(pages.erased_seen == want.size());
}

TEST_CASE("the random erase profile erases the CRNG key and the input pool", "[erase][capture][fixtures]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  fs::path dir = erase_scratch("random");
  std::string profile = fs::path(CORONER_SOURCE_DIR) / "capture/erase/profiles/random.conf";
  std::string offsets = (dir / "offsets").string(), erased = (dir / "erased").string();
  REQUIRE(run_shell(fmt::format("{} erase-offsets --config {} -o {} {}", CORONER_BINARY, profile, offsets, c.vmlinux())).status == 0);
  CHECK_THAT(file_contents(offsets), Catch::Contains("erase base_crng.key sym:"));
  CHECK_THAT(file_contents(offsets), Catch::Contains(" size 32\n"));  // u8 key[CHACHA_KEY_SIZE]
  CHECK_THAT(file_contents(offsets), Catch::Contains("erase input_pool.hash sym:"));
  REQUIRE(run_shell(fmt::format("{} -c -d 31 --config {} {} {}", CORONER_CAPTURE_BINARY, offsets, c.files().front(), erased))
              .status == 0);
  auto out = open_or_fail(erased);
  std::map<uint64_t, std::byte> want = erased_bytes(*out, offsets);
  CHECK(want.size() == 32 + 120);  // the key and struct blake2s_state
  for (const auto& [paddr, fill] : want) {
    std::array<std::byte, 1> got{};
    REQUIRE(out->read(paddr, got));
    CHECK(got[0] == std::byte{'X'});
  }
}

TEST_CASE("erase errors: an unknown symbol and a config given to coroner-capture and another kernel's offsets", "[erase][capture]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  fs::path dir = erase_scratch("errors");
  write_file_contents(dir / "bad.conf", "[vmlinux]\nerase init_uts_ns.name.nodename\nerase no_such_symbol\n");
  CommandResult bad = run_shell(fmt::format("{} erase-offsets --config {}/bad.conf {}", CORONER_BINARY, dir.string(), c.vmlinux()));
  CHECK(bad.status == 1);
  CHECK(bad.output == fmt::format("coroner: {}/bad.conf: line 3: no kernel variable 'no_such_symbol'\n", dir.string()));
  write_file_contents(dir / "member.conf", "erase init_uts_ns.name.no_member\n");
  CommandResult member = run_shell(fmt::format("{} erase-offsets --config {}/member.conf {}", CORONER_BINARY, dir.string(), c.vmlinux()));
  CHECK(member.status == 1);
  CHECK_THAT(member.output, Catch::Contains("line 1: struct new_utsname has no member 'no_member'"));

  // coroner's extensions, misused.
  for (auto [config, message] : std::vector<std::pair<std::string, std::string>>{
           {"for x in init_uts_ns within new_utsname:name\nendfor\n",
            "line 1: 'init_uts_ns' is not a struct list_head or rb_root"},
           {"for x in init_uts_ns.name as new_utsname\nendfor\n",
            "line 1: as: 'init_uts_ns.name' is not a pointer, an array or a union"},
           {"for x in init_task.tasks.next as no_such_module:task_struct\nendfor\n",
            "line 1: [no_such_module]: no no_such_module.ko or no_such_module.ko.debug with debug info in"},
           {"for x in init_uts_ns.name count init_task.pid\nendfor\n",
            "line 1: count: 'init_uts_ns.name' is not a pointer"},
           {"for x in init_task.tasks.next count init_task.comm\nendfor\n",
            "line 1: 'init_task.comm' is not an integer"},
           {"for x in init_task.stack count init_task.pid\nendfor\n",
            "line 1: count: 'init_task.stack' is a void pointer"},
           {"for x in init_task.parent as task_struct if init_task.parent is no_such_module:init_task\nendfor\n",
            "line 1: [no_such_module]: no no_such_module.ko"},
           {"for t in init_task.tasks.next within task_struct:tasks if t.parent is init_task\nendfor\n",
            "line 1: no kernel variable 't'"},  // `if` is tested before the loop: on the loops around it
           {"for t in init_task.tasks.next within task_struct:tasks\n"
            "for c in t.children.next within task_struct:sibling if t.comm is init_task\nendfor\nendfor\n",
            "line 2: if: 't.comm' is not a pointer"},
           {"for t in init_task.tasks.next within task_struct:tasks\n"
            "for c in t.children.next within task_struct:sibling if t.parent is no_such\nendfor\nendfor\n",
            "line 2: if: no kernel variable 'no_such'"},
           {"for t in init_task.tasks.next within task_struct:tasks\nfor c in t.children.next within task_struct:sibling\n"
            "endfor\n",
            "line 3: for without endfor at the end of the file"}}) {
    write_file_contents(dir / "extension.conf", config);
    CommandResult misused = run_shell(fmt::format("{} erase-offsets --config {}/extension.conf {}", CORONER_BINARY, dir.string(),
                                                  c.vmlinux()));
    CHECK(misused.status == 1);
    CHECK_THAT(misused.output, Catch::Contains(message));
  }

  write_file_contents(dir / "filter.conf", kConfig);
  CommandResult raw = run_shell(fmt::format("{} -c --config {}/filter.conf {} {}/x", CORONER_CAPTURE_BINARY, dir.string(),
                            c.files().front(), dir.string()));
  CHECK(raw.status == 1);
  CHECK_THAT(raw.output, Catch::Contains("not an erase offsets file"));
  CHECK_FALSE(fs::exists(dir / "x"));

  write_file_contents(dir / "other", "coroner-erase-offsets 1\nbuild-id 0123\nerase x sym:ffffffff81ccac20 size 4\n");
  CommandResult other = run_shell(fmt::format("{} -c --config {}/other {} {}/y", CORONER_CAPTURE_BINARY, dir.string(),
                              c.files().front(), dir.string()));
  CHECK(other.status == 1);
  CHECK_THAT(other.output, Catch::Contains("made for the kernel of build-id 0123"));
}
