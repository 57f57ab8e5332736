// arm64 without the vmlinux file (UnwindSource::dump): frame records alone,
// forced here with the vmlinux present, against the DWARF CFI route on the
// same dumps: every task's trace (foreach bt) and every CPU's (bt -a) names
// the same functions -- also with fx_crash.ko absent, so that the module's
// frames too come from frame records. They could differ where a function
// has not saved its frame record yet (a CPU stopped in a prologue or a leaf
// without one: CFI finds the caller in x30, frame records skip it); no CPU
// or task of these dumps is stopped there.
#include "analyzer/kernel_kallsyms.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "analyzer/unwind/stack_trace.hpp"
#include "analyzer/unwind/unwinder.hpp"
#include "tests/analyzer/unwind/unwind_routes.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

using namespace coroner;
using namespace coroner::test;
using unwind::UnwindSource;

namespace {

struct Names {
  std::vector<std::string> names;  // ELF symbol of each physical frame, else its pc
  std::optional<std::string> stopped;
  std::string text() const { return fmt::format("{}", fmt::join(names, " ")) + (stopped ? " stopped: " + *stopped : ""); }
};

Names function_names(const Program& program, const unwind::ArchUnwinder& unwinder, const unwind::PhysicalFrame& start) {
  const unwind::StackTrace trace = physical_trace(program, unwinder, start);
  Names result;
  for (const unwind::StackFrame& frame : trace.frames)
    result.names.push_back(frame.function.empty() ? fmt::format("{:#x}", frame.pc) : frame.function);
  if (trace.stopped) result.stopped = trace.stopped->message();
  return result;
}

}  // namespace

TEST_CASE("arm64: frame records alone name the functions DWARF CFI does", "[unwind][aarch64][no-vmlinux]") {
  const fs::path no_modules = cache_dir() / "no-modules";
  fs::create_directories(no_modules);
  for (const DumpCase* dump : route_dumps("arm64")) {
    INFO(dump->id);
    auto program = open_program(*dump);
    auto bare = open_program(program_options(*dump, {no_modules.string()}), dump->id + " without fx_crash.ko");
    // The symbols the unwinder reads are in the dump's own kallsyms, where a
    // session without the file finds them.
    auto kallsyms = read_kernel_kallsyms(program->vmcoreinfo(), program->memory());
    if (!kallsyms) FAIL(kallsyms.error().message());
    for (const char* name : {"_stext", "_etext", "_sinittext", "_einittext", "__entry_text_start", "__entry_text_end"}) {
      INFO(name);
      const symbols::Symbol* symbol = kallsyms->find(name);
      REQUIRE(symbol);
      CHECK(symbol->address == *program->symbol_address(name));
    }
    // Without type information the unwinder takes struct pt_regs.stackframe
    // at 304; DWARF agrees.
    CHECK(program->member_offset("struct pt_regs", "stackframe").value_or(0) == 304);
    auto from_file = unwind::make_aarch64_unwinder(*program, UnwindSource::vmlinux_file);
    auto from_dump = unwind::make_aarch64_unwinder(*program, UnwindSource::dump);
    auto bare_from_dump = unwind::make_aarch64_unwinder(*bare, UnwindSource::dump);
    auto bare_modules = bare->modules();
    REQUIRE(bare_modules);
    for (const auto& module : **bare_modules) CHECK(module->object_path().empty());
    auto tasks = linux_kernel::list_tasks(*program);
    if (!tasks) FAIL(tasks.error().message());
    auto cpus = linux_kernel::cpu_states(*program);
    if (!cpus) FAIL(cpus.error().message());
    std::set<uint64_t> addresses;
    for (const auto& task : *tasks) addresses.insert(task.address);
    for (const auto& cpu : *cpus)
      if (cpu.task != 0) addresses.insert(cpu.task);
    size_t module_traces = 0;  // traces through fx_crash's code
    for (uint64_t task : addresses) {
      INFO(fmt::format("task {:#x}", task));
      auto start = linux_kernel::task_start_frame(*program, task);
      if (!start) FAIL(start.error().message());
      const Names cfi = function_names(*program, *from_file, *start);
      const Names records = function_names(*program, *from_dump, *start);
      const Names bare_records = function_names(*bare, *bare_from_dump, *start);
      INFO("CFI: " << cfi.text());
      INFO("frame records: " << records.text());
      INFO("frame records without fx_crash.ko: " << bare_records.text());
      CHECK_FALSE(cfi.stopped);
      CHECK(records.names == cfi.names);
      CHECK(records.stopped == cfi.stopped);
      CHECK(bare_records.names == cfi.names);
      if (std::find(cfi.names.begin(), cfi.names.end(), "fx_crash_level2") != cfi.names.end()) ++module_traces;
    }
    CHECK(module_traces > 0);
  }
}
