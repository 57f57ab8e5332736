// Debian's gdb against `coroner gdbserver --stdio` on every shipped fixture
// dump (issue 20's "must show"): the threads are facts.json's tasks, the
// crashing task's backtrace runs through fx_crash's functions with source
// lines (module symbols and the KASLR slide found without typing), module
// and vmlinux variables print, memory matches facts and a filtered page is
// "Cannot access memory"; every task's backtrace names the functions
// coroner's `foreach bt` names.
#include "tests/analyzer/frontends/gdbstub/gdb_session.hpp"
#include "tests/commands/command_runner.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>

namespace coroner::test {

namespace {

struct GdbThread {
  int number = 0;  // gdb's thread number
  int64_t pid = 0;
  std::string comm;
};

// `info threads`: "* 1    Thread 1 (1 init [RU] cpu 0)  fx_crash_level3 (...)".
std::vector<GdbThread> parse_info_threads(const std::string& output) {
  static const std::regex line(R"(^\*?\s+(\d+)\s+Thread [0-9]+ \((\d+) (.*?) \[[A-Z]+\] cpu \d+\))");
  std::vector<GdbThread> threads;
  for (const std::string& text : lines_of(output)) {
    std::smatch m;
    if (std::regex_search(text, m, line)) threads.push_back({std::stoi(m[1]), std::stoll(m[2]), m[3]});
  }
  return threads;
}

// The function of a backtrace line: "#3  0x... in fx_write (f=..." or
// "#5  proc_reg_write (file=...".
std::optional<std::string> frame_function(const std::string& line) {
  static const std::regex frame(R"(^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \()");
  std::smatch m;
  if (!std::regex_search(line, m, frame)) return std::nullopt;
  return m[1].str();
}

// `thread apply all bt`: each thread's functions, by "PID COMM".
std::map<std::string, std::vector<std::string>> parse_all_backtraces(const std::string& output) {
  static const std::regex header(R"(^Thread \d+ \(Thread [0-9]+ \((\d+ .*?) \[[A-Z]+\] cpu \d+\)\):)");
  std::map<std::string, std::vector<std::string>> traces;
  std::vector<std::string>* current = nullptr;
  for (const std::string& text : lines_of(output)) {
    std::smatch m;
    if (std::regex_search(text, m, header)) current = &traces[m[1].str()];
    else if (auto function = frame_function(text); current && function) current->push_back(*function);
  }
  return traces;
}

// The eight bytes `x/8xb ADDRESS` printed, as hex ("5531c048...").
std::optional<std::string> examined_bytes(const std::string& output, uint64_t address) {
  const std::string prefix = fmt::format("{:#x}", address);
  for (const std::string& text : lines_of(output)) {
    if (!text.starts_with(prefix + ":") && !text.starts_with(prefix + " <")) continue;
    std::istringstream words(text.substr(text.find(':') + 1));
    std::string word, bytes;
    while (words >> word)
      if (word.starts_with("0x") && word.size() == 4) bytes += word.substr(2);
    return bytes;
  }
  return std::nullopt;
}

// A direct-map address of the first page the dump's filter excluded.
std::optional<uint64_t> excluded_address(const Program& program) {
  std::vector<std::byte> buf(8);
  std::optional<uint64_t> physical;
  for (const PhysRange& r : program.dump().ranges()) {
    for (uint64_t a = r.start; a < r.end() && !physical; a += program.arch().page_size())
      if (auto got = program.dump().read(a, buf); !got && got.error().code() == Errc::excluded_by_filter) physical = a;
    if (physical) break;
  }
  if (!physical) return std::nullopt;
  std::optional<uint64_t> base = program.arch().linear_map_base();
  if (!base) {  // x86_64: page_offset_base, randomized by KASLR
    auto symbol = program.symbol_address("page_offset_base");
    REQUIRE(symbol);
    auto value = program.read_pointer(*symbol);
    REQUIRE(value);
    base = *value;
  }
  return *base + *physical;
}

// gdb's backtrace (`shown`) names coroner's frames (`expected`) in order.
// Where gdb's own unwinder (DWARF CFI only) sees less than coroner's (ORC,
// pt_regs, arm64's exception frames), what gdb shows must still be a
// prefix of coroner's trace, with these differences of the unwinders, not
// of the registers or memory the stub serves:
// - gdb goes past the end of the kernel stack into what it cannot unwind
//   (user mode, after the entry code) or stops early (arm64's IRQ stack
//   switch, the boot CPU's start_kernel): compared as far as both go, up to
//   gdb's first unnamed frame;
// - an assembly label inside a function: coroner names the label
//   (entry_SYSCALL_64_after_hwframe), gdb the function (entry_SYSCALL_64);
// - x86_64's do_idle tail-calls schedule_idle, so it has no frame (crash
//   8.0.2 and coroner agree); gdb's CFI unwind still shows one;
// - a CPU stopped in arm64's exception vectors (QEMU froze it taking an
//   interrupt): gdb cannot unwind them (no CFI; ELR_EL1 is not in the dump),
//   so the stub starts gdb at the first frame it can unwind from, a few
//   frames up coroner's trace.
bool same_functions(std::vector<std::string> shown, std::vector<std::string> expected) {
  if (auto unnamed = std::find(shown.begin(), shown.end(), "??"); unnamed != shown.end()) shown.erase(unnamed, shown.end());
  for (size_t i = 1; i + 1 < shown.size() && i < expected.size(); ++i)
    if (shown[i] == "do_idle" && shown[i - 1] == "schedule_idle" && expected[i] != "do_idle")
      shown.erase(shown.begin() + static_cast<long>(i));
  if (!expected.empty() && expected[0] == "vectors" && !shown.empty()) {
    auto start = std::find(expected.begin(), expected.end(), shown[0]);
    if (start == expected.end() || start - expected.begin() > 3) return false;
    expected.erase(expected.begin(), start);
  }
  if (shown.empty() && !expected.empty()) return false;
  for (size_t i = 0; i < std::min(shown.size(), expected.size()); ++i) {
    bool label_of = expected[i].starts_with(shown[i] + "_");
    if (shown[i] != expected[i] && !label_of) {
      UNSCOPED_INFO("frame " << i << ": gdb " << shown[i] << ", coroner " << expected[i]);
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("gdbserver: gdb sees every task, the crash, module and kernel symbols and memory", "[gdbstub][gdb]") {
  for (const DumpCase* dump : shipped_dumps()) {
    INFO(dump->id);
    const nlohmann::json& facts = dump->facts();
    CommandRunner runner(*dump, {fs::path(dump->module_path()).parent_path().string()});
    std::vector<std::string> commands = {"info threads", "p/x fx_magic", "p init_uts_ns.name.release"};
    std::vector<std::pair<uint64_t, std::string>> samples;
    if (facts.contains("memory_samples"))
      for (const auto& sample : facts["memory_samples"]) {
        samples.emplace_back(hex_value(sample["vaddr"]), sample["first8"].get<std::string>());
        commands.push_back(fmt::format("x/8xb {:#x}", samples.back().first));
      }
    // Where gdb places symbols of vmlinux (moved by the KASLR slide) and of
    // the module (its sections): facts' run-time addresses, as $3, $4, ...
    std::vector<std::string> symbol_addresses;
    if (facts.contains("symbols"))
      for (const auto& [name, address] : facts["symbols"].items()) {
        commands.push_back(fmt::format("p/x (unsigned long)&{}", name));
        symbol_addresses.push_back(fmt::format("${} = {}", symbol_addresses.size() + 3, address.get<std::string>()));
      }
    if (facts.contains("values")) commands.push_back("x/s linux_banner");
    std::optional<uint64_t> excluded = dump->filtered ? excluded_address(runner.program()) : std::nullopt;
    if (dump->filtered) {
      REQUIRE(excluded);
      commands.push_back(fmt::format("x/8xb {:#x}", *excluded));
    }
    const std::string output = run_gdb(*dump, commands);
    INFO(output.substr(0, 4000));

    CHECK_THAT(output, Catch::Contains("= 0xc0ffee11deadbeef"));
    // arm64's panic-qemu facts hold no utsname (drgn could not open those
    // dumps): VMCOREINFO's OSRELEASE is the same string.
    const std::string release = facts.contains("osrelease") ? facts["osrelease"].get<std::string>()
                                                            : runner.program().vmcoreinfo().osrelease();
    CHECK_THAT(output, Catch::Contains(fmt::format("= \"{}\"", release)));
    for (const auto& [address, first8] : samples) CHECK(examined_bytes(output, address) == first8);
    for (const std::string& line : symbol_addresses) CHECK_THAT(output, Catch::Contains(line + "\n"));
    if (facts.contains("values"))  // in .rodata: placed by the slide like .text
      CHECK_THAT(output, Catch::Contains(facts["values"]["linux_banner"].get<std::string>().substr(0, 40)));
    if (excluded) CHECK_THAT(output, Catch::Contains(fmt::format("Cannot access memory at address {:#x}", *excluded)));

    const std::vector<GdbThread> threads = parse_info_threads(output);
    std::optional<int> crashing_thread;
    if (facts.contains("tasks")) {
      // drgn's task list has one idle task (PID 0); the stub lists each CPU's.
      auto not_idle = [](int64_t pid) { return pid != 0; };
      CHECK(std::count_if(threads.begin(), threads.end(), [&](const GdbThread& t) { return not_idle(t.pid); }) ==
            std::count_if(facts["tasks"].begin(), facts["tasks"].end(),
                          [&](const nlohmann::json& t) { return not_idle(t["pid"].get<int64_t>()); }));
      for (const auto& task : facts["tasks"]) {
        int64_t pid = task["pid"];
        std::string comm = task["comm"];
        INFO("task " << pid << " " << comm);
        CHECK(std::any_of(threads.begin(), threads.end(), [&](const GdbThread& t) { return t.pid == pid && t.comm == comm; }));
      }
    } else {
      CHECK(threads.size() > 2);
    }
    // The crashing task (the console's oops or panic line names it).
    const int64_t crashed_pid = facts["console_crash"]["pid"];
    for (const GdbThread& t : threads)
      if (t.pid == crashed_pid && t.comm == facts["console_crash"]["comm"]) crashing_thread = t.number;
    REQUIRE(crashing_thread);
    const std::string bt = run_gdb(*dump, {fmt::format("thread {}", *crashing_thread), "bt"});
    INFO(bt);
    // (arm64's panic-qemu CPUs stopped in the exception vectors: gdb starts
    // at the first frame it can unwind from, so the crash path shows too.)
    CHECK(bt.find("#0  vectors ()") == std::string::npos);
    size_t level3 = bt.find(" fx_crash_level3 ("), level2 = bt.find(" fx_crash_level2 ("),
           level1 = bt.find(" fx_crash_level1 (");
    CHECK(level3 != std::string::npos);
    CHECK(level2 > level3);
    CHECK(level1 > level2);
    CHECK(level1 != std::string::npos);
    CHECK(std::regex_search(bt, std::regex(R"(fx_crash_level2 \(.*\) at \S*fx_crash\.c:\d+)")));
  }
}

TEST_CASE("gdbserver: thread apply all bt names the functions of coroner's foreach bt", "[gdbstub][gdb]") {
  for (const DumpCase* dump : shipped_dumps()) {
    INFO(dump->id);
    CommandRunner runner(*dump, {fs::path(dump->module_path()).parent_path().string()});
    const nlohmann::json coroner_traces = runner.json("foreach bt");
    const auto gdb_traces = parse_all_backtraces(run_gdb(*dump, {"thread apply all bt"}));
    CHECK(gdb_traces.size() == coroner_traces.size());
    for (const auto& trace : coroner_traces) {
      std::string key = fmt::format("{} {}", trace["pid"].get<int64_t>(), trace["command"].get<std::string>());
      std::vector<std::string> expected;
      for (const auto& frame : trace["frames"])
        if (!frame["user"].get<bool>()) expected.push_back(frame["function"]);
      INFO(key);
      auto found = gdb_traces.find(key);
      REQUIRE(found != gdb_traces.end());
      CHECK(same_functions(found->second, expected));
    }
  }
}

}  // namespace coroner::test
