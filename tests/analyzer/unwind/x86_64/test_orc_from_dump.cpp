// vmlinux's ORC tables read out of the dump's memory (UnwindSource::dump,
// the route of a session without the vmlinux file), forced here with the
// vmlinux present: the table equals the one built from the file's sections,
// and every task's trace (foreach bt) and every CPU's (bt -a) is the same
// with either table; a page of the table missing from the dump is an error
// naming it. Modules' tables are found in struct module without its type.
#include "analyzer/kernel_kallsyms.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "analyzer/unwind/stack_trace.hpp"
#include "analyzer/unwind/x86_64/module_orc_location.hpp"
#include "analyzer/unwind/x86_64/orc_sources.hpp"
#include "tests/analyzer/unwind/unwind_routes.hpp"
#include "tests/commands/dump_editor.hpp"
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

// "name@pc" of each physical frame, and why the unwind stopped.
std::string trace_text(const Program& program, const unwind::ArchUnwinder& unwinder, const unwind::PhysicalFrame& start) {
  const unwind::StackTrace trace = physical_trace(program, unwinder, start);
  std::string text;
  for (const unwind::StackFrame& frame : trace.frames) text += fmt::format("{}@{:#x} ", frame.function, frame.pc);
  if (trace.stopped) text += "stopped: " + trace.stopped->message();
  return text;
}

}  // namespace

TEST_CASE("x86_64: vmlinux's ORC read from the dump equals the vmlinux file's", "[unwind][x86_64][orc][no-vmlinux]") {
  for (const DumpCase* dump : route_dumps("x86_64")) {
    INFO(dump->id);
    auto program = open_program(*dump);
    const unwind::OrcSources from_file(*program, UnwindSource::vmlinux_file);
    const unwind::OrcSources from_dump(*program, UnwindSource::dump);
    const auto& file_orc = from_file.vmlinux_orc();
    const auto& dump_orc = from_dump.vmlinux_orc();
    if (!file_orc) FAIL(file_orc.error().message());
    if (!dump_orc) FAIL(dump_orc.error().message());
    CHECK(dump_orc->table->size() > 100000);
    CHECK(dump_orc->table->size() == file_orc->table->size());
    CHECK(*dump_orc->table == *file_orc->table);  // every ip and entry, and the layout
    // Without DWARF the release names the same layout.
    CHECK(dump_orc->table->format() == symbols::OrcFormat::for_release(program->vmcoreinfo().osrelease()));
    // A session with the file reads the file's.
    CHECK(unwind::unwind_source(*program) == UnwindSource::vmlinux_file);
    // The symbols the dump route reads are in the dump's own kallsyms, where
    // a session without the file finds them.
    auto kallsyms = read_kernel_kallsyms(program->vmcoreinfo(), program->memory());
    if (!kallsyms) FAIL(kallsyms.error().message());
    for (const char* name : {"_stext", "_etext", "_sinittext", "_einittext", "__start_orc_unwind_ip",
                             "__stop_orc_unwind_ip", "__start_orc_unwind", "__stop_orc_unwind"}) {
      INFO(name);
      const symbols::Symbol* symbol = kallsyms->find(name);
      REQUIRE(symbol);
      CHECK(symbol->address == *program->symbol_address(name));
    }
    // The dump's code ranges (from symbols) lie in the file's executable sections.
    for (const MemoryRange& range : dump_orc->text) {
      INFO(fmt::format("{:#x}+{:#x}", range.start, range.size));
      CHECK(std::any_of(file_orc->text.begin(), file_orc->text.end(), [&](const MemoryRange& section) {
        return range.start >= section.start && range.start + range.size <= section.start + section.size;
      }));
    }
  }
}

TEST_CASE("x86_64: foreach bt and bt -a give the same frames with ORC from the dump", "[unwind][x86_64][orc][no-vmlinux]") {
  for (const DumpCase* dump : route_dumps("x86_64")) {
    INFO(dump->id);
    auto program = open_program(*dump);
    // Without type information the unwinder reads struct pt_regs as the 21
    // registers r15 .. ss; DWARF agrees.
    CHECK(program->type_size("struct pt_regs").value_or(0) == 21 * 8);
    auto from_file = unwind::make_x86_64_unwinder(*program, UnwindSource::vmlinux_file);
    auto from_dump = unwind::make_x86_64_unwinder(*program, UnwindSource::dump);
    auto tasks = linux_kernel::list_tasks(*program);
    if (!tasks) FAIL(tasks.error().message());
    auto cpus = linux_kernel::cpu_states(*program);
    if (!cpus) FAIL(cpus.error().message());
    // Every task, and the task on each CPU (idle tasks are in no task list).
    std::set<uint64_t> addresses;
    for (const auto& task : *tasks) addresses.insert(task.address);
    for (const auto& cpu : *cpus)
      if (cpu.task != 0) addresses.insert(cpu.task);
    size_t with_user_space = 0;
    for (uint64_t task : addresses) {
      INFO(fmt::format("task {:#x}", task));
      auto start = linux_kernel::task_start_frame(*program, task);
      if (!start) FAIL(start.error().message());
      const std::string file_trace = trace_text(*program, *from_file, *start);
      const std::string dump_trace = trace_text(*program, *from_dump, *start);
      CHECK(dump_trace == file_trace);
      CHECK(file_trace.find("stopped") == std::string::npos);
      if (file_trace.find(" @0x") != std::string::npos) ++with_user_space;  // an unnamed frame: user space
    }
    CHECK(addresses.size() >= dump->facts()["tasks"].size());
    CHECK(with_user_space > 0);
  }
}

TEST_CASE("x86_64: ORC tables the dump lacks are an error naming their address", "[unwind][x86_64][orc][no-vmlinux]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  auto intact = open_program(dump);
  const uint64_t entries = *intact->symbol_address("__start_orc_unwind");
  const uint64_t lost = entries + 0x10000;  // a page in the middle of the entries
  auto paddr = intact->memory().to_physical(lost);
  REQUIRE(paddr);
  DumpEditor editor(dump, *intact);
  editor.exclude_page(*paddr / intact->arch().page_size());
  ProgramOptions options = program_options(dump);
  options.dumps = {editor.save("d31-without-an-orc-page")};
  auto program = open_program(options, "d31 without a page of vmlinux's ORC entries");

  const unwind::OrcSources from_dump(*program, UnwindSource::dump);
  const auto& orc = from_dump.vmlinux_orc();
  REQUIRE_FALSE(orc);
  INFO(orc.error().message());
  CHECK_THAT(orc.error().message(), Catch::Contains(fmt::format("entries at {:#x}", entries)) &&
                                        Catch::Contains(fmt::format("{:x}", lost >> 12)));
  CHECK(orc.error().message().find('\n') == std::string::npos);
  // The trace stops at its first frame with that reason; the file's table still unwinds.
  auto start = linux_kernel::task_start_frame(*program, *program->symbol_address("init_task"));
  REQUIRE(start);
  const std::string stopped = trace_text(*program, *unwind::make_x86_64_unwinder(*program, UnwindSource::dump), *start);
  CHECK_THAT(stopped, Catch::Contains("stopped: ") && Catch::Contains(fmt::format("entries at {:#x}", entries)));
  const std::string whole =
      trace_text(*program, *unwind::make_x86_64_unwinder(*program, UnwindSource::vmlinux_file), *start);
  CHECK(whole.find("stopped") == std::string::npos);
  // A module's frames still unwind by its own table: the crashing CPU's
  // trace goes from fx_crash_level3 up fx_crash's frames to the first in
  // vmlinux, and stops there.
  auto notes = program->dump().prstatus();
  REQUIRE_FALSE(notes.empty());
  unwind::PhysicalFrame crashed;
  crashed.registers = unwind::RegisterSet::from_values(notes[0].gregs);
  crashed.pc = notes[0].gregs.at(program->arch().pc_register());
  crashed.sp = notes[0].gregs.at(program->arch().sp_register());
  crashed.exact_pc = true;
  const std::string module_frames =
      trace_text(*program, *unwind::make_x86_64_unwinder(*program, UnwindSource::dump), crashed);
  CHECK_THAT(module_frames, Catch::StartsWith("fx_crash_level3@") && Catch::Contains(" fx_write@") &&
                                Catch::Contains(" proc_reg_write@") &&
                                Catch::Contains("stopped: vmlinux ORC tables in the dump (ips at"));
}

TEST_CASE("x86_64: a module's ORC tables are found in struct module by their shape as by its type",
          "[unwind][x86_64][orc][no-vmlinux]") {
  for (const DumpCase* dump : route_dumps("x86_64")) {
    INFO(dump->id);
    auto program = open_program(*dump);
    auto modules = program->modules();
    if (!modules) FAIL(modules.error().message());
    REQUIRE_FALSE((*modules)->empty());
    for (const auto& module : **modules) {
      INFO(module->name);
      auto typed = unwind::typed_module_orc_location(*program, *module);
      auto by_shape = unwind::module_orc_location_by_shape(program->memory(), *module);
      if (!typed) FAIL(typed.error().message());
      if (!by_shape) FAIL(by_shape.error().message());
      CHECK(typed->count > 10);
      CHECK(*by_shape == *typed);
    }
  }
}
