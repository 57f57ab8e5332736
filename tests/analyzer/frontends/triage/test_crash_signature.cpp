// Crash signatures: the normalization rules on made-up stacks and logs, and
// on the fixtures: one signature for every form of the same crash (each
// dump format, compression and filtering level the fixtures and
// coroner-capture make of the x86_64 oops, and the same oops under 5-level
// paging), another for the panic.
#include "analyzer/frontends/triage/crash_signature.hpp"
#include "tests/analyzer/frontends/triage/triage_fixtures.hpp"
#include "tests/capture/captured_outputs.hpp"

namespace coroner::test {

namespace {

using frontends::triage::CrashSignature;
using frontends::triage::SignatureFrame;

std::vector<std::string> names(const CrashSignature& signature) {
  std::vector<std::string> out;
  for (const SignatureFrame& f : signature.frames) out.push_back(f.inlined ? "(inlined) " + f.function : f.function);
  return out;
}

std::vector<linux_kernel::LogRecord> records(const std::vector<std::string>& lines) {
  std::vector<linux_kernel::LogRecord> log;
  for (const std::string& line : lines) log.push_back({.seq = log.size(), .text = line});
  return log;
}

}  // namespace

TEST_CASE("signature drops the panic plumbing, offsets and clone suffixes and keeps five frames", "[triage][signature]") {
  const std::vector<SignatureFrame> stack = {
      {"delay_tsc", "", false},        {"panic", "", false},           {"fx_crash_level3.cold", "fx_crash", false},
      {"fx_crash_level2", "fx_crash", false}, {"fx_crash_level1", "fx_crash", false}, {"fx_write", "fx_crash", false},
      {"pde_write", "", true},         {"proc_reg_write", "", false},  {"vfs_write", "", false}};
  const CrashSignature signature = frontends::triage::make_signature(
      "panic", "Kernel panic - not syncing: fx_crash: deliberate panic (magic c0ffee11deadbeef)", stack, "stack");
  CHECK(names(signature) == std::vector<std::string>{"fx_crash_level3", "fx_crash_level2", "fx_crash_level1",
                                                     "fx_write", "(inlined) pde_write", "proc_reg_write"});
  CHECK(signature.module == "fx_crash");
  CHECK(signature.title == "kernel panic: fx_crash: deliberate panic (magic c0ffee11deadbeef) in fx_crash_level3");
  CHECK(signature.hash.size() == 16);
  // Inline frames are shown, not hashed; the kind is hashed.
  std::vector<SignatureFrame> without_inline = stack;
  without_inline.erase(without_inline.begin() + 6);
  CHECK(frontends::triage::make_signature("panic", "", without_inline, "console").hash == signature.hash);
  CHECK(frontends::triage::make_signature("oops", "", stack, "stack").hash != signature.hash);
  // An oops through the page-fault path (kdump: __crash_kexec above it).
  const CrashSignature oops = frontends::triage::make_signature(
      "oops", "BUG: kernel NULL pointer dereference, address: 0000000000000008",
      {{"__crash_kexec", "", false}, {"oops_end", "", false}, {"page_fault_oops", "", false},
       {"exc_page_fault", "", false}, {"asm_exc_page_fault", "", false}, {"ext4_writepage.isra.0", "", false},
       {"write_cache_pages", "", false}},
      "stack");
  CHECK(names(oops) == std::vector<std::string>{"ext4_writepage", "write_cache_pages"});
  CHECK(oops.module.empty());
  CHECK(oops.title == "BUG: kernel NULL pointer dereference in ext4_writepage");
}

TEST_CASE("crash kinds from the panic line and the log", "[triage][signature]") {
  using frontends::triage::crash_kind;
  CHECK(crash_kind("BUG: kernel NULL pointer dereference, address: 0000000000000000", {}) == "oops");
  CHECK(crash_kind("Unable to handle kernel paging request at virtual address dead000000000100", {}) == "oops");
  CHECK(crash_kind("kernel BUG at mm/slub.c:435!", {}) == "bug");
  CHECK(crash_kind("Kernel panic - not syncing: hung_task: blocked tasks", {}) == "hung_task");
  CHECK(crash_kind("Kernel panic - not syncing: softlockup: hung tasks", {}) == "soft_lockup");
  CHECK(crash_kind("Kernel panic - not syncing: Hard LOCKUP", {}) == "hard_lockup");
  CHECK(crash_kind("Kernel panic - not syncing: System is deadlocked on memory", {}) == "oom");
  CHECK(crash_kind("Kernel panic - not syncing: RCU Stall", {}) == "rcu_stall");
  CHECK(crash_kind("Kernel panic - not syncing: panic_on_warn set ...", {}) == "warning");
  CHECK(crash_kind("Kernel panic - not syncing: sysrq triggered crash", records({"sysrq: Trigger a crash"})) == "sysrq");
  CHECK(crash_kind("Kernel panic - not syncing: fx_crash: deliberate panic", {}) == "panic");
  CHECK(crash_kind("", {}) == "unknown");
}

TEST_CASE("the console's call trace: the faulting function, then the reliable frames", "[triage][signature]") {
  const std::vector<std::string> log = {
      "BUG: kernel NULL pointer dereference, address: 0000000000000000",
      "CPU: 0 PID: 1 Comm: init Kdump: loaded Tainted: G           O       6.1.192 #2 ",
      "RIP: 0010:fx_crash_level3+0x41/0x60 [fx_crash]",
      "RSP: 0018:ffffaff380013e30 EFLAGS: 00000202",
      "Call Trace:",
      " <TASK>",
      " fx_crash_level2+0x5/0x10 [fx_crash]",
      " ? stale_function+0x10/0x20",
      " proc_reg_write+0x4a/0x90",
      "RIP: 0033:0x47b7a0",
      "RAX: ffffffffffffffda RBX: 0000000000000001 RCX: 000000000047b7a0",
      " </TASK>",
      "Modules linked in: fx_crash(O)",
      " not_a_frame+0x1/0x2"};
  const auto frames = frontends::triage::console_trace(records(log), log.front());
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].function == "fx_crash_level3");
  CHECK(frames[0].module == "fx_crash");
  CHECK(frames[1].function == "fx_crash_level2");
  CHECK(frames[2].function == "proc_reg_write");
  CHECK(frames[2].module.empty());
  const auto crash = frontends::triage::console_crash(records(log), log.front());
  REQUIRE(crash);
  CHECK(crash->cpu == 0);
  CHECK(crash->pid == 1);
  CHECK(crash->comm == "init");
  CHECK(frontends::triage::fault_address(log.front()) == 0);
  CHECK(frontends::triage::fault_address("Unable to handle kernel paging request at virtual address ffff00000000dead") ==
        0xffff00000000deadULL);
}

TEST_CASE("one signature for every form of the x86_64 oops, another for the panic", "[triage][signature][capture]") {
  const DumpCase& vmcore = fixture_case("x86_64/oops-kdump/vmcore");
  // Every form of the oops: the fixtures' and makedumpfile's ...
  std::vector<std::pair<std::string, ProgramOptions>> forms;
  for (const DumpCase& dump : all_dumps())
    if (dump.arch_dir == "linux-6.1-x86_64" && dump.scenario.starts_with("oops-kdump"))
      forms.emplace_back(dump.id, program_options(dump));
  // ... and coroner-capture's: each compression and dump level, ELF,
  // flattened and flattened reassembled by makedumpfile -R.
  auto captured = [&](const std::string& what, const fs::path& path) {
    ProgramOptions options = program_options(vmcore);
    options.dumps = {path.string()};
    forms.emplace_back("coroner-capture " + what, options);
  };
  for (int level : kMatrixLevels)
    for (const char* codec : kMatrixCodecs)
      captured(fmt::format("{} -d {}", codec, level),
               captured_output(CORONER_CAPTURE_BINARY, vmcore, matrix_options(level, codec)));
  captured("-E", captured_output(CORONER_CAPTURE_BINARY, vmcore, elf_options()));
  captured("-F", captured_output(CORONER_CAPTURE_BINARY, vmcore, flattened_options()));
  captured("-F | makedumpfile -R", reassembled_output(CORONER_CAPTURE_BINARY, vmcore, flattened_options()));
  REQUIRE(forms.size() == 11 + 15);

  const CrashSignature expected = triage_report(vmcore).signature;
  CHECK(names(expected) == std::vector<std::string>{"fx_crash_level3", "fx_crash_level2", "fx_crash_level1",
                                                    "fx_write", "(inlined) pde_write", "proc_reg_write"});
  CHECK(expected.kind == "oops");
  CHECK(expected.module == "fx_crash");
  CHECK(expected.title == "BUG: kernel NULL pointer dereference in fx_crash_level3");
  for (const auto& [what, options] : forms) {
    INFO(what);
    const CrashSignature signature = triage_report(options, what).signature;
    CHECK(signature.hash == expected.hash);
    CHECK(names(signature) == names(expected));
  }
  // The panic differs (kind and title; the same frames), on both machines;
  // arm64's oops has the x86_64 oops's signature.
  const CrashSignature panic = triage_report(fixture_case("x86_64/panic-qemu/kdump-zlib")).signature;
  CHECK(panic.hash != expected.hash);
  CHECK(panic.kind == "panic");
  CHECK(triage_report(fixture_case("arm64/panic-qemu/kdump-zlib")).signature.hash == panic.hash);
  CHECK(triage_report(fixture_case("arm64/oops-kdump/d31")).signature.hash == expected.hash);
}

}  // namespace coroner::test
