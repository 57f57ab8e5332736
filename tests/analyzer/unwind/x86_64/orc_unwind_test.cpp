// The x86_64 ORC unwinder alone (no stack_trace driver) on the real x86_64
// fixtures: the crashing CPU's registers unwind to the console's reliable
// call trace and drgn's user-space pc; switched-out tasks unwind to drgn's
// physical frames.
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/unwind/unwinder.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

using namespace coroner;
using namespace coroner::test;
using unwind::PhysicalFrame;
using unwind::RegisterSet;

namespace {

constexpr size_t kMaxFrames = 64;

std::vector<const DumpCase*> x86_64_dumps() {
  std::vector<const DumpCase*> dumps;
  for (const DumpCase& c : all_dumps())
    if (c.arch_dir.find("x86_64") != std::string::npos) dumps.push_back(&c);
  return dumps;
}

struct Walk {
  std::vector<PhysicalFrame> frames;  // the start frame first
  std::optional<Error> error;
};

Walk walk(const unwind::ArchUnwinder& unwinder, PhysicalFrame start) {
  Walk result;
  result.frames.push_back(std::move(start));
  while (result.frames.size() < kMaxFrames) {
    auto caller = unwinder.caller(result.frames.back());
    if (!caller) {
      result.error = caller.error();
      break;
    }
    if (!*caller) break;
    result.frames.push_back(std::move(**caller));
  }
  return result;
}

// The ELF symbol holding a frame's code ("" for user space or unknown).
std::string name_of(const Program& program, const PhysicalFrame& frame) {
  if (frame.user_mode) return "";
  auto where = program.describe_address(frame.lookup_pc());
  return where && where->symbol ? where->symbol->name : "";
}

std::vector<std::string> names_of(const Program& program, const Walk& walk) {
  std::vector<std::string> names;
  for (const PhysicalFrame& frame : walk.frames) names.push_back(name_of(program, frame));
  return names;
}

PhysicalFrame crashed_cpu_frame(const Program& program) {
  auto notes = program.dump().prstatus();
  REQUIRE_FALSE(notes.empty());
  PhysicalFrame frame;
  frame.registers = RegisterSet::from_values(notes[0].gregs);
  frame.pc = notes[0].gregs.at(program.arch().pc_register());
  frame.sp = notes[0].gregs.at(program.arch().sp_register());
  frame.exact_pc = true;
  return frame;
}

std::string joined(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, " ")); }

}  // namespace

TEST_CASE("ORC unwinds the crashing CPU to the console's call trace and user space", "[unwind][x86_64][orc]") {
  for (const DumpCase* dump : x86_64_dumps()) {
    INFO(dump->id);
    auto program = open_program(*dump);
    auto unwinder = unwind::make_x86_64_unwinder(*program, unwind::UnwindSource::vmlinux_file);
    REQUIRE(unwinder);
    const Walk trace = walk(*unwinder, crashed_cpu_frame(*program));
    INFO("error: " << (trace.error ? trace.error->message() : "none"));
    REQUIRE_FALSE(trace.error);
    std::vector<std::string> names = names_of(*program, trace);
    INFO("frames: " << joined(names));

    // The console's reliable frames (its "?" guesses left out) are exactly
    // the physical frames above the first: the oops in fx_crash_level3, or
    // QEMU's registers in delay_tsc where panic spins (dump_stack_lvl has
    // returned by then).
    std::vector<std::string> expected;
    const auto& facts = dump->facts();
    if (dump->scenario == "panic-qemu") {
      expected.push_back("delay_tsc");
      for (const auto& name : facts["console_call_trace"])
        if (name != "dump_stack_lvl") expected.push_back(name.get<std::string>());
    } else {
      expected.push_back("fx_crash_level3");
      for (const auto& name : facts["console_call_trace"]) expected.push_back(name.get<std::string>());
    }
    expected.push_back("");  // user space
    CHECK(names == expected);

    // The last frame is the syscall's user-mode pt_regs, at drgn's user pc.
    const PhysicalFrame& last = trace.frames.back();
    CHECK(last.user_mode);
    CHECK(last.pt_regs.has_value());
    CHECK(last.exact_pc);
    CHECK(last.pc == hex_value(facts["crashed_thread"]["stack"].back()));
    // That pt_regs sits on the kernel stack just above the previous frame.
    CHECK(*last.pt_regs >= trace.frames[trace.frames.size() - 2].sp);
    // Every kernel frame's stack pointer grows, and call frames' pcs are
    // return addresses.
    for (size_t i = 1; i + 1 < trace.frames.size(); ++i) {
      CHECK(trace.frames[i].sp > trace.frames[i - 1].sp);
      CHECK_FALSE(trace.frames[i].exact_pc);
    }
  }
}

TEST_CASE("ORC unwinds every task of drgn's task_stacks to its physical frames", "[unwind][x86_64][orc][tasks]") {
  for (const DumpCase* dump : x86_64_dumps()) {
    // One dump per kernel scenario: the variants hold the same memory.
    if (dump->variant != "d31" && dump->variant != "elf") continue;
    INFO(dump->id);
    auto program = open_program(*dump);
    auto unwinder = unwind::make_x86_64_unwinder(*program, unwind::UnwindSource::vmlinux_file);
    REQUIRE(unwinder);
    const auto& facts = dump->facts();
    size_t checked = 0;
    for (const auto& [pid, stack] : facts["task_stacks"].items()) {
      INFO("pid " << pid);
      uint64_t task = 0;
      for (const auto& t : facts["tasks"])
        if (std::to_string(t["pid"].get<int>()) == pid) task = hex_value(t["task"]);
      REQUIRE(task != 0);
      auto start = linux_kernel::task_start_frame(*program, task);
      REQUIRE(start.has_value());
      const Walk trace = walk(*unwinder, *start);
      INFO("error: " << (trace.error ? trace.error->message() : "none"));
      REQUIRE_FALSE(trace.error);

      // drgn's list includes inline frames (context_switch, do_syscall_x64,
      // __do_sys_*) and names frames by their DWARF function: the physical
      // frames' ELF names, without compiler suffixes (.constprop.0, .cold),
      // are its entries in order, skipping only names that are no symbol.
      // drgn's bare hex values (frames it could not name) match by pc.
      std::vector<std::string> skipped_symbols;
      size_t matched = 0;
      for (const auto& entry : stack["stack"]) {
        const std::string name = entry.get<std::string>();
        if (matched < trace.frames.size()) {
          const PhysicalFrame& frame = trace.frames[matched];
          std::string elf = name_of(*program, frame);
          elf = elf.substr(0, elf.find('.'));
          if (name.starts_with("0x") ? hex_value(entry) == frame.pc : name == elf) {
            ++matched;
            continue;
          }
        }
        if (program->symbol_address(name)) skipped_symbols.push_back(name);
      }
      INFO("physical frames: " << joined(names_of(*program, trace)) << "; drgn: " << stack["stack"].dump());
      CHECK(matched == trace.frames.size());
      CHECK(skipped_symbols.empty());
      ++checked;
    }
    CHECK(checked == facts["task_stacks"].size());
  }
}

TEST_CASE("ORC unwinding refuses bad frames with the address and reason", "[unwind][x86_64][orc]") {
  const DumpCase* dump = nullptr;
  for (const DumpCase* c : x86_64_dumps())
    if (c->scenario == "oops-kdump" && c->variant == "d31") dump = c;
  REQUIRE(dump);
  auto program = open_program(*dump);
  auto unwinder = unwind::make_x86_64_unwinder(*program, unwind::UnwindSource::vmlinux_file);
  REQUIRE(unwinder);
  const PhysicalFrame crashed = crashed_cpu_frame(*program);

  SECTION("a pc outside every table") {
    PhysicalFrame frame = crashed;
    frame.pc = 0x1000;
    auto caller = unwinder->caller(frame);
    REQUIRE_FALSE(caller);
    CHECK_THAT(caller.error().message(), Catch::Contains("no ORC entry for 0x1000"));
  }
  SECTION("a stack pointer that is not mapped") {
    PhysicalFrame frame = crashed;
    frame.sp = 0xffffc90000000000ULL + 0x123000;  // vmalloc space, unmapped in this guest
    frame.registers.set(program->arch().sp_register(), frame.sp);
    auto caller = unwinder->caller(frame);
    REQUIRE_FALSE(caller);
    CHECK_THAT(caller.error().message(), Catch::Contains(fmt::format("{:#x}", crashed.pc)) &&
                                             Catch::Contains("return address") && Catch::Contains("0xffffc90000123"));
  }
  SECTION("a call through a NULL pointer returns to the address on top of the stack") {
    PhysicalFrame frame = crashed;
    frame.pc = 0;
    auto caller = unwinder->caller(frame);
    REQUIRE(caller);
    REQUIRE(caller->has_value());
    CHECK((*caller)->pc == *program->memory().read_u64(crashed.sp));
    CHECK((*caller)->sp == crashed.sp + 8);
    CHECK_FALSE((*caller)->exact_pc);
  }
  SECTION("code ORC marks undefined falls back to DWARF CFI") {
    // In this 6.1 build, delay_loop+0xa (alignment padding inside the
    // function) has an undefined ORC entry while its FDE says CFA=RSP+8
    // (objdump and llvm-dwarfdump --debug-frame).
    auto delay_loop = program->symbol_address("delay_loop");
    REQUIRE(delay_loop);
    PhysicalFrame frame = crashed;
    frame.pc = *delay_loop + 0xa;
    auto caller = unwinder->caller(frame);
    REQUIRE(caller);
    REQUIRE(caller->has_value());
    CHECK((*caller)->pc == *program->memory().read_u64(crashed.sp));
    CHECK((*caller)->sp == crashed.sp + 8);
  }
  SECTION("a user-mode frame ends the stack") {
    PhysicalFrame frame = crashed;
    frame.user_mode = true;
    auto caller = unwinder->caller(frame);
    REQUIRE(caller);
    CHECK_FALSE(caller->has_value());
  }
  SECTION("a frame pointer below the stack pointer is a loop, not a frame") {
    // Functions that realign their stack find the CFA from rbp; with rbp
    // below rsp the caller's sp would go backwards.
    PhysicalFrame frame = crashed;
    frame.registers.set(program->arch().fp_register(), crashed.sp - 64);
    size_t refused = 0;
    for (const auto& symbol : program->symbols().by_address()) {
      if (!symbol.is_function || refused > 0) continue;
      for (uint64_t offset = 0; offset < 16 && refused == 0; ++offset) {
        frame.pc = symbol.address + offset;
        auto caller = unwinder->caller(frame);
        if (!caller && caller.error().message().find("stack pointer went backwards") != std::string::npos) {
          CHECK_THAT(caller.error().message(), Catch::Contains(fmt::format("at {:#x}", frame.pc)));
          ++refused;
        }
      }
    }
    CHECK(refused == 1);
  }
}
