// ps and bt of FreeBSD minidumps opened with a kernel file. The kernel is
// data/fbsd_kernel.c, compiled by Debian's clang-19 for amd64 and arm64 with
// -g and linked by ld.lld at a free address of the synthetic minidump's
// kernel map (freebsd_minidump_fixture.hpp), which then holds its
// segments: allproc, the procs and threads, dumptid/dumppcb, stoppcbs[] and
// the frame-pointer chains of their stacks. The expected rows and frames
// are what that file writes; the symbols' addresses come from the ELF.
#include "analyzer/os/os_models.hpp"
#include "commands/command.hpp"
#include "tests/analyzer/arch/freebsd_minidump_fixture.hpp"
#include "tests/analyzer/coroner_run.hpp"
#include "tests/commands/command_runner.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <iostream>

using namespace coroner;
using namespace coroner::test;

namespace {

const fs::path kSource = fs::path(CORONER_SOURCE_DIR) / "tests/analyzer/os/freebsd/data/fbsd_kernel.c";

// clang-19 and ld.lld, or a loud skip (exit 77: ctest's SKIP_RETURN_CODE).
void require_toolchain() {
  for (const char* tool : {"clang-19", "ld.lld"}) {
    if (std::system(fmt::format("command -v {} > /dev/null 2>&1", tool).c_str()) == 0) continue;
    std::cerr << "\n*** SKIPPED: no " << tool << " (Debian packages clang-19 and lld) to build the FreeBSD test "
              << "kernel " << kSource.string() << " ***\n\n";
    std::exit(77);
  }
}

struct Arch {
  std::string fixture;  // the Linux dump the minidump is made of
  uint32_t version;
  std::string target;   // clang's --target
  uint64_t return_offset;  // fbsd_kernel.c's RETURN_OFFSET
  std::string defines = "";  // -DFREEBSD13_PCB: arm64's pcb before FreeBSD 14
};

const std::vector<Arch>& arches() {
  static const std::vector<Arch> list{
      {"x86_64/oops-kdump/d31", 3, "x86_64-unknown-freebsd", 9},
      {"x86_64/oops-kdump/d31", 1, "x86_64-unknown-freebsd", 9},
      {"arm64/oops-kdump/d31", 3, "aarch64-unknown-freebsd", 12},
      {"arm64-16k/oops-kdump/d31", 3, "aarch64-unknown-freebsd", 12},
      {"arm64/oops-kdump/d31", 2, "aarch64-unknown-freebsd", 12, "-DFREEBSD13_PCB"},
  };
  return list;
}

// The kernel linked at `address` in `dir` (kernel.full; with strip_debug,
// kernel.nodebug: the symbol table without DWARF).
std::string build_kernel(const Arch& arch, uint64_t address, const fs::path& dir, bool strip_debug = false) {
  fs::create_directories(dir);
  const std::string object = (dir / "fbsd_kernel.o").string();
  const std::string kernel = (dir / (strip_debug ? "kernel.nodebug" : "kernel.full")).string();
  std::string model = arch.target.starts_with("x86_64") ? "-mcmodel=kernel -mno-red-zone" : "";
  run_command(fmt::format("clang-19 --target={} -ffreestanding -fno-pic -fno-pie -O0 -fno-omit-frame-pointer "
                          "-fno-stack-protector -fno-inline {} {} -g -c {} -o {}",
                          arch.target, model, arch.defines, kSource.string(), object));
  run_command(fmt::format("ld.lld -static -e 0 --build-id=sha1 -z norelro -z max-page-size=4096 "
                          "--image-base={:#x} {} -o {} {}",
                          address, strip_debug ? "--strip-debug" : "", kernel, object));
  return kernel;
}

struct Made {
  std::string kernel, dump;
};

// The fixture's minidump with the kernel mapped in it, written to vmcore.0
// (`name` instead when given, with `patch` applied to the image first), in
// a directory of the test case `test`'s own (ctest runs them in parallel).
Made make_dump(const std::string& test, const Arch& arch, bool strip_debug = false,
               const std::string& name = "vmcore.0", const std::function<void(KernelImage&)>& patch = {}) {
  const DumpCase& c = fixture_case(arch.fixture);
  FixtureMinidump made = fixture_minidump(c, arch.version);  // a copy to add to
  const uint64_t page = made.contents.header.page_size();
  const uint64_t address = free_kernel_address(made, 1 << 20);
  fs::path dir = cache_dir() / "freebsd-threads" / test / fmt::format("{}-v{}", c.arch_dir, arch.version);
  Made out{build_kernel(arch, address, dir, strip_debug), (dir / name).string()};
  KernelImage image = load_kernel_image(out.kernel, page);
  REQUIRE(image.start == address);
  if (patch) patch(image);
  map_kernel_image(made, image);
  write_file_contents(out.dump, write_minidump(made.contents));
  return out;
}

ProgramOptions options(const Made& made) {
  ProgramOptions o;
  o.vmlinux = made.kernel;
  o.dumps = {made.dump};
  o.cache_dir = (cache_dir() / "coroner").string();
  o.os_model = os::open_os_model;
  return o;
}

struct ExpectedThread {
  int pid, tid;
  std::string comm, name, state, wmesg;
  std::optional<int> cpu;
  bool panicked;
};

// fbsd_kernel.c's procs and threads, by PID (allproc holds them newest first).
const std::vector<ExpectedThread> kThreads{
    {0, 100000, "kernel", "swapper", "Sleep", "-", std::nullopt, false},
    {1, 100002, "init", "init", "Sleep", "wait", std::nullopt, false},
    {11, 100003, "idle", "idle: cpu0", "CanRun", "", std::nullopt, false},
    {11, 100004, "idle", "idle: cpu1", "Run", "", 1, false},
    {12, 100005, "intr", "swi4: clock", "IWait", "", std::nullopt, false},
    {42, 100042, "fxcrash", "fxcrash", "Run", "", 0, true},
    {42, 100043, "fxcrash", "fxcrash worker", "RunQ", "", std::nullopt, false},
};

uint64_t symbol(CommandRunner& run, const std::string& name) {
  const symbols::Symbol* s = run.program().symbols().find(name);
  REQUIRE(s);
  return s->address;
}

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

void check_ps(CommandRunner& run, bool with_types) {
  nlohmann::json ps = run.json("ps");
  CHECK(ps["skipped"].empty());
  CHECK(ps["dump_tid"] == 100042);
  const auto& rows = ps["threads"];
  REQUIRE(rows.size() == kThreads.size());
  for (size_t i = 0; i < kThreads.size(); ++i) {
    const ExpectedThread& e = kThreads[i];
    INFO("row " << i << ": " << rows[i].dump());
    CHECK(rows[i]["pid"] == e.pid);
    CHECK(rows[i]["tid"] == e.tid);
    CHECK(rows[i]["comm"] == e.comm);
    CHECK(rows[i]["name"] == e.name);
    CHECK(rows[i]["state"] == (with_types ? e.state : "?"));
    CHECK(rows[i]["wmesg"] == (with_types ? e.wmesg : ""));
    CHECK(rows[i]["cpu"] == (e.cpu ? nlohmann::json(*e.cpu) : nlohmann::json(nullptr)));
    CHECK(rows[i]["panicked"] == e.panicked);
  }
  // The addresses are the kernel's own objects.
  CHECK(rows[0]["thread"] == hex(symbol(run, "thread0")));
  CHECK(rows[0]["proc"] == hex(symbol(run, "proc0")));
  CHECK(rows[5]["thread"] == hex(symbol(run, "fxcrash_threads")));
  CHECK(rows[5]["proc"] == hex(symbol(run, "fxcrash_proc")));
  std::string text = run.text("ps");
  CHECK(text.find("fxcrash/fxcrash worker") != std::string::npos);
  CHECK(text.find("(panicked)") != std::string::npos);
  CHECK(run.json("ps 11")["threads"].size() == 2);
  CHECK(run.json("ps init")["threads"].size() == 1);
}

std::vector<std::string> functions(const nlohmann::json& bt) {
  std::vector<std::string> names;
  for (const auto& frame : bt["frames"]) names.push_back(frame["function"].is_null() ? "?" : frame["function"]);
  return names;
}

void check_bt(CommandRunner& run, const Arch& arch, bool with_types) {
  // The panicking thread: from dumppcb, doadump's pc and frame record, not
  // its stale td_pcb (which says mi_switch).
  nlohmann::json bt = run.json("bt");
  INFO(bt.dump());
  CHECK(bt["tid"] == 100042);
  CHECK(bt["registers_from"] == "dumppcb");
  CHECK(bt["pcb"] == hex(symbol(run, "dumppcb")));
  CHECK(bt["stopped"].is_null());
  CHECK(functions(bt) == std::vector<std::string>{"doadump", "kern_reboot", "vpanic", "panic", "trap_fatal",
                                                  "trap_pfault", "trap"});
  for (const auto& frame : bt["frames"]) CHECK(frame["found_by"] == (frame["level"] == 0 ? "pcb" : "frame pointer"));
  REQUIRE_FALSE(bt["frames"].empty());
  CHECK(bt["frames"][0]["pc"] == hex(symbol(run, "doadump") + arch.return_offset));
  CHECK(bt["frames"][0]["sp"] == hex(symbol(run, "fxcrash_stack") + 16));
  CHECK(bt["frames"][1]["pc"] == hex(symbol(run, "kern_reboot") + arch.return_offset));
  CHECK(bt["frames"][1]["offset"] == arch.return_offset);
  // A thread on another CPU: stoppcbs[1].
  nlohmann::json idle = run.json("bt 100004");
  CHECK(idle["registers_from"] == "stoppcbs[1]");
  // Without DWARF, the size the kernel exports for debuggers.
  const uint64_t pcb_size = with_types ? run.program().type_size("struct pcb").value()
                                       : run.program().memory().read_u32(symbol(run, "pcb_size")).value();
  CHECK(idle["pcb"] == hex(symbol(run, "stoppcbs") + pcb_size));
  CHECK(functions(idle) == std::vector<std::string>{"cpustop_handler", "ipi_nmi_handler", "sched_idletd", "fork_exit"});
  // A sleeping thread (named by its PID): its td_pcb.
  nlohmann::json init = run.json("bt 1");
  CHECK(init["registers_from"] == "td_pcb");
  CHECK(init["pcb"] == hex(symbol(run, "init_pcb")));
  CHECK(functions(init) == std::vector<std::string>{"mi_switch", "sleepq_switch", "sleepq_wait", "_sleep", "kern_wait6",
                                                    "sys_wait4", "syscallenter"});
  // A thread stopped at a function's first instruction: its caller by CFI
  // (amd64: the return address at sp); arm64's is in lr, which no pcb keeps.
  nlohmann::json intr = run.json("bt 100005");
  INFO(intr.dump());
  CHECK(intr["stopped"].is_null());
  if (arch.target.starts_with("x86_64") && with_types) {
    CHECK(functions(intr) == std::vector<std::string>{"ithread_loop", "fork_exit"});
    CHECK(intr["frames"][1]["found_by"] == "cfi");
  } else {
    CHECK(functions(intr) == std::vector<std::string>{"ithread_loop"});
  }
  // A thread whose pcb holds nothing says so.
  nlohmann::json worker = run.json("bt 100043");
  CHECK(worker["frames"].empty());
  CHECK(worker["stopped"].get<std::string>().find("holds no pc") != std::string::npos);
  // -a: the thread on each CPU.
  nlohmann::json all = run.json("bt -a");
  REQUIRE(all.size() == 2);
  CHECK(all[0]["tid"] == 100004);
  CHECK(all[1]["tid"] == 100042);
  std::string text = run.text("bt");
  CHECK(text.find("REGISTERS: dumppcb") != std::string::npos);
  CHECK(text.find(fmt::format("] doadump+{} at ", arch.return_offset)) != std::string::npos);
  CHECK(text.find(fmt::format("] trap+{} at ", arch.return_offset)) != std::string::npos);
  CHECK(run.failure("bt 7").find("no thread or process 7") != std::string::npos);
}

}  // namespace

TEST_CASE("FreeBSD minidumps with a kernel file: ps lists allproc's threads and bt starts at dumppcb",
          "[commands][freebsd][fixtures][threads]") {
  require_toolchain();
  for (const Arch& arch : arches()) {
    INFO(arch.fixture << " as minidump v" << arch.version << " with " << arch.target);
    const Made made = make_dump("types", arch);
    CommandRunner run(options(made), made.dump);
    check_ps(run, true);
    check_bt(run, arch, true);
    // The kernel's types and symbols through the same commands as Linux's.
    CHECK(run.json("p dumptid")["value"] == 100042);
    std::string proc = run.text("struct proc");
    CHECK(proc.find("p_threads") != std::string::npos);
    CHECK(run.text("sys").find(made.kernel) != std::string::npos);
    // No info.N: version and panic from the kernel's `version` and `panicstr`.
    nlohmann::json sys = run.json("sys");
    CHECK(sys["kernel"] == made.kernel);
    CHECK(sys["version"].get<std::string>().starts_with("FreeBSD 15.0-CURRENT #0 coroner-test"));
    CHECK(sys["release"] == "15.0-CURRENT");
    CHECK(sys["panic"] == "page fault while in kernel mode");
  }
}

TEST_CASE("FreeBSD minidumps with a kernel file without DWARF: the offsets come from proc_off_p_pid and the others",
          "[commands][freebsd][fixtures][threads]") {
  require_toolchain();
  const Arch& arch = arches().front();
  const Made made = make_dump("no-dwarf", arch, /*strip_debug=*/true);
  CommandRunner run(options(made), made.dump);
  check_ps(run, false);
  check_bt(run, arch, false);
}

TEST_CASE("coroner KERNEL vmcore.N: ps and bt of a FreeBSD minidump as JSON Lines and triage and a kernel of the other arch refused",
          "[commands][freebsd][fixtures][threads]") {
  require_toolchain();
  const Made amd64 = make_dump("executable", arches()[0]);
  Run run = run_coroner(fmt::format("-s --output json -x ps -x bt {} {}", amd64.kernel, amd64.dump), "");
  INFO(run.err);
  CHECK(run.status == 0);
  std::vector<std::string> documents = lines_of(run.out);
  REQUIRE(documents.size() == 2);
  nlohmann::json ps = nlohmann::json::parse(documents[0]);
  REQUIRE(ps["threads"].size() == kThreads.size());
  CHECK(ps["threads"][5]["comm"] == "fxcrash");
  nlohmann::json bt = nlohmann::json::parse(documents[1]);
  CHECK(bt["registers_from"] == "dumppcb");
  CHECK(functions(bt).front() == "doadump");
  // triage reads Linux kernels only, with the kernel file too.
  Run triage = run_coroner(fmt::format("triage {} {}", amd64.kernel, amd64.dump), "");
  CHECK(triage.status != 0);
  CHECK(triage.err.find("a FreeBSD minidump: triage reads Linux kernels only") != std::string::npos);
  // Commands of Linux's structures say so in one line; the batch goes on.
  Run linux_only = run_coroner(fmt::format("-s -x \"kmem -i\" -x \"foreach bt\" -x ps {} {}", amd64.kernel,
                                           amd64.dump), "");
  CHECK(linux_only.status == 1);
  CHECK(linux_only.err.find("kmem -i: reads Linux kernel structures; not available for a FreeBSD dump\n") !=
        std::string::npos);
  CHECK(linux_only.err.find("foreach bt: reads Linux kernel structures") != std::string::npos);
  CHECK(linux_only.out.find("fxcrash") != std::string::npos);
  const Made arm64 = make_dump("executable", arches()[2]);
  Run wrong = run_coroner(fmt::format("-s -x sys {} {}", arm64.kernel, amd64.dump), "");
  CHECK(wrong.status != 0);
  CHECK(wrong.err.find("is built for aarch64") != std::string::npos);
  // A kernel file whose allproc the dump does not map: ps says where it looked.
  const DumpCase& c = fixture_case(arches()[0].fixture);
  fs::path bare = cache_dir() / "freebsd-threads" / "executable" / "vmcore.without-kernel";
  write_file_contents(bare, write_minidump(fixture_minidump(c, arches()[0].version).contents));
  Run unmapped = run_coroner(fmt::format("-s -x ps {} {}", amd64.kernel, bare.string()), "");
  CHECK(unmapped.status == 1);
  CHECK(unmapped.err.starts_with("ps: allproc (0x"));
  CHECK(unmapped.err.find("is the kernel file the dump's?") != std::string::npos);
}

TEST_CASE("FreeBSD minidumps with a kernel file: a broken allproc link loses only the processes behind it",
          "[commands][freebsd][fixtures][threads]") {
  require_toolchain();
  const Arch& arch = arches().front();
  const Made whole = make_dump("broken-list", arch);
  uint64_t idle_proc = 0;
  {
    CommandRunner run(options(whole), whole.dump);
    idle_proc = symbol(run, "idle_proc");
  }
  // idle's p_list.le_next (p_list is struct proc's first member) points
  // into the kernel map where nothing is mapped.
  const uint64_t nowhere = idle_proc + (uint64_t{1} << 21) * 64;
  const Made broken = make_dump("broken-list", arch, false, "vmcore.broken", [&](KernelImage& image) {
    std::memcpy(image.bytes.data() + (idle_proc - image.start), &nowhere, sizeof nowhere);
  });
  CommandRunner run(options(broken), broken.dump);
  nlohmann::json ps = run.json("ps");
  std::vector<int> pids;
  for (const auto& row : ps["threads"]) pids.push_back(row["pid"]);
  CHECK(pids == std::vector<int>{11, 11, 12, 42, 42});
  REQUIRE(ps["skipped"].size() == 2);
  CHECK(ps["skipped"][0].get<std::string>().find(fmt::format("proc {:#x}", nowhere)) != std::string::npos);
  CHECK(ps["skipped"][1].get<std::string>().find("the processes after it are missing") != std::string::npos);
  CHECK(run.text("ps").starts_with(fmt::format("WARNING: proc {:#x}", nowhere)));
  // The panicking thread is still found and traced.
  CHECK(functions(run.json("bt")).front() == "doadump");
}
