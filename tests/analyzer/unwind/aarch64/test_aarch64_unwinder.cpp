// The arm64 unwinder on the real arm64 dumps: traces from the crashing CPU's
// registers against the dying kernel's own call trace (facts.json
// console_call_trace) and sleeping tasks' traces against drgn's
// (task_stacks).
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/unwind/unwinder.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace coroner;
using namespace coroner::test;
using namespace coroner::unwind;

namespace {

struct Unwound {
  std::vector<PhysicalFrame> frames;
  std::vector<std::string> names;  // ELF symbol of each frame's lookup_pc, or its hex value
  std::optional<Error> stopped;
};

Unwound unwind_from(const Program& program, const ArchUnwinder& unwinder, const PhysicalFrame& start) {
  Unwound result;
  result.frames.push_back(start);
  while (result.frames.size() < 200) {
    auto caller = unwinder.caller(result.frames.back());
    if (!caller) {
      result.stopped = caller.error();
      break;
    }
    if (!*caller) break;
    result.frames.push_back(**caller);
  }
  for (const PhysicalFrame& frame : result.frames) {
    auto where = program.describe_address(frame.lookup_pc());
    result.names.push_back(where && !frame.user_mode ? where->symbol->name : fmt::format("{:#x}", frame.pc));
  }
  return result;
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += name + " ";
  return text;
}

// Whether `wanted` appears in `names` in order (other frames may come between).
bool has_in_order(const std::vector<std::string>& names, const std::vector<std::string>& wanted) {
  size_t next = 0;
  for (const std::string& name : names)
    if (next < wanted.size() && name == wanted[next]) ++next;
  return next == wanted.size();
}

// drgn names functions by DWARF; the ELF symbol may carry a suffix
// ("fx_sleep_leaf.constprop.0").
std::string function_name(const std::string& symbol) { return symbol.substr(0, symbol.find('.')); }

std::vector<const DumpCase*> arm64_dumps() {
  std::vector<const DumpCase*> dumps;
  for (const DumpCase& c : all_dumps())
    if (c.arch_dir.find("arm64") != std::string::npos) dumps.push_back(&c);
  return dumps;
}

// The crashing CPU's registers: its NT_PRSTATUS (kdump saved them at the
// oops; QEMU at the freeze). The notes are in CPU order.
PhysicalFrame crashing_cpu_frame(const Program& program, const DumpCase& c) {
  const uint32_t cpu = c.facts()["console_crash"]["cpu"];
  auto notes = program.dump().prstatus();
  REQUIRE(cpu < notes.size());
  const std::vector<uint64_t>& gregs = notes[cpu].gregs;
  REQUIRE(gregs.size() == program.arch().register_names().size());
  PhysicalFrame frame;
  frame.registers = RegisterSet::from_values(gregs);
  frame.pc = gregs[program.arch().pc_register()];
  frame.sp = gregs[program.arch().sp_register()];
  frame.exact_pc = true;
  return frame;
}

}  // namespace

TEST_CASE("arm64: the crashing CPU's trace is the kernel's own call trace, down to user space", "[unwind][aarch64]") {
  for (const DumpCase* c : arm64_dumps()) {
    INFO(c->id);
    auto program = open_program(*c);
    auto unwinder = make_aarch64_unwinder(*program, UnwindSource::vmlinux_file);
    Unwound trace = unwind_from(*program, *unwinder, crashing_cpu_frame(*program, *c));
    INFO(joined(trace.names));
    if (trace.stopped) FAIL_CHECK("stopped: " << trace.stopped->message());

    std::vector<std::string> expected = c->facts()["console_call_trace"];
    if (c->scenario == "panic-qemu") {
      // QEMU froze the CPU spinning in panic(), after the backtrace it printed.
      expected.erase(expected.begin(), std::find(expected.begin(), expected.end(), "panic"));
      REQUIRE(expected.front() == "panic");
    } else {
      CHECK(trace.names.front() == "fx_crash_level3");  // the faulting instruction, exact
    }
    CHECK(has_in_order(trace.names, expected));
    // Nothing but the console's frames from fx_crash_level3 on: the CFI and
    // the pt_regs step find every frame the kernel printed, and no others.
    auto level3 = std::find(trace.names.begin(), trace.names.end(), "fx_crash_level3");
    REQUIRE(level3 != trace.names.end());
    auto console_level3 = std::find(expected.begin(), expected.end(), "fx_crash_level3");
    CHECK(std::vector<std::string>(level3, trace.names.end() - 1) ==
          std::vector<std::string>(console_level3, expected.end()));

    // The last frame is user space's, read from the syscall's pt_regs.
    const PhysicalFrame& user = trace.frames.back();
    CHECK(user.user_mode);
    CHECK(user.exact_pc);
    REQUIRE(user.pt_regs.has_value());
    CHECK(program->arch().is_user_address(user.pc));
    CHECK(program->arch().is_user_address(user.sp));
    CHECK(*user.pt_regs == trace.frames[trace.frames.size() - 2].registers.get(29).value_or(0) -
                               program->member_offset("pt_regs", "stackframe").value_or(0));
    // Return addresses come after the call: each frame's sp is above the last.
    for (size_t i = 1; i + 1 < trace.frames.size(); ++i) CHECK(trace.frames[i].sp > trace.frames[i - 1].sp);
  }
}

TEST_CASE("arm64: every task of drgn's task_stacks unwinds to the same functions", "[unwind][aarch64]") {
  for (const DumpCase* c : arm64_dumps()) {
    const nlohmann::json& facts = c->facts();
    if (!facts.contains("task_stacks")) continue;  // panic-qemu of arm64: no drgn facts
    INFO(c->id);
    auto program = open_program(*c);
    auto unwinder = make_aarch64_unwinder(*program, UnwindSource::vmlinux_file);
    size_t compared = 0;
    for (const auto& [pid, expected] : facts["task_stacks"].items()) {
      uint64_t task = 0;
      for (const auto& entry : facts["tasks"])
        if (std::to_string(entry["pid"].get<int>()) == pid) task = hex_value(entry["task"]);
      INFO("pid " << pid << " task " << std::hex << task);
      REQUIRE(task != 0);
      auto start = linux_kernel::task_start_frame(*program, task);
      if (!start) FAIL(start.error().message());
      Unwound trace = unwind_from(*program, *unwinder, *start);
      INFO("coroner: " << joined(trace.names));
      if (trace.stopped) FAIL_CHECK("stopped: " << trace.stopped->message());

      std::vector<std::string> drgn = expected["stack"];
      INFO("drgn: " << joined(drgn));
      REQUIRE(drgn.back().rfind("0x", 0) == 0);
      const uint64_t drgn_last_pc = std::stoull(drgn.back(), nullptr, 16);
      drgn.pop_back();
      // Ours are physical frames only; drgn's include inline frames.
      std::vector<std::string> ours;
      for (const std::string& name : trace.names) ours.push_back(function_name(name));
      if (trace.frames.back().user_mode) ours.pop_back();  // user space: drgn stops before it
      const std::string last_name = ours.back();
      const uint64_t last_pc = trace.frames[ours.size() - 1].pc;
      ours.pop_back();
      CHECK(has_in_order(drgn, ours));
      CHECK(ours.size() >= 3);
      CHECK(ours.front() == drgn.front());
      // drgn could not name the last frame (el0t_64_sync or ret_from_fork): same pc.
      CHECK(last_pc == drgn_last_pc);
      CHECK((last_name == "el0t_64_sync" || last_name == "ret_from_fork"));
      ++compared;
    }
    CHECK(compared == facts["task_stacks"].size());
  }
}

TEST_CASE("arm64: corrupt or impossible frames give errors naming the address, or end the stack",
          "[unwind][aarch64][corrupt]") {
  const DumpCase* c = arm64_dumps().front();
  INFO(c->id);
  auto program = open_program(*c);
  auto unwinder = make_aarch64_unwinder(*program, UnwindSource::vmlinux_file);
  const PhysicalFrame crash = crashing_cpu_frame(*program, *c);
  const uint64_t vfs_write = *program->symbol_address("vfs_write");
  const uint64_t ret_from_fork = *program->symbol_address("ret_from_fork");  // assembly: no CFI
  const uint64_t el0t_64_sync = *program->symbol_address("el0t_64_sync");

  auto frame_at = [&](uint64_t pc, bool exact) {
    PhysicalFrame frame = crash;
    frame.pc = pc;
    frame.exact_pc = exact;
    frame.registers.set(program->arch().pc_register(), pc);
    return frame;
  };
  auto with_fp = [&](PhysicalFrame frame, uint64_t fp) {
    frame.registers.set(29, fp);
    return frame;
  };
  auto error_of = [&](const PhysicalFrame& frame) {
    auto caller = unwinder->caller(frame);
    REQUIRE_FALSE(caller.has_value());
    return caller.error().message();
  };

  SECTION("a pc outside all code") {
    CHECK(error_of(frame_at(0x1234, true)).find("no unwind information for pc 0x1234") != std::string::npos);
  }
  SECTION("the CFA's stack slots are not in the dump") {
    PhysicalFrame frame = frame_at(vfs_write + 0x10, true);
    frame.sp = 0xffff7000dead0000;
    frame.registers.set(31, frame.sp);
    CHECK(error_of(frame).find("0xffff7000dead0") != std::string::npos);
  }
  SECTION("a CFA below sp: a loop or a corrupt frame pointer") {
    // At a call in vfs_write the CFA comes from x29; put x29 below sp.
    PhysicalFrame frame = with_fp(frame_at(vfs_write + 0x80, false), crash.sp - 0x200);
    CHECK(error_of(frame).find("is not above sp") != std::string::npos);
  }
  SECTION("a frame record below sp on the same stack") {
    PhysicalFrame frame = with_fp(frame_at(ret_from_fork + 4, true), crash.sp - 0x40);
    CHECK(error_of(frame).find("frame record at") != std::string::npos);
  }
  SECTION("a misaligned frame record") {
    PhysicalFrame frame = with_fp(frame_at(ret_from_fork + 4, true), crash.sp + 0x43);
    CHECK(error_of(frame).find("misaligned") != std::string::npos);
  }
  SECTION("an unreadable pt_regs") {
    PhysicalFrame frame = with_fp(frame_at(el0t_64_sync + 0x148, false), 0xffff7000dead0000);
    CHECK(error_of(frame).find("pt_regs at") != std::string::npos);
  }
  SECTION("x29 = 0 without CFI, and user space, end the stack") {
    auto end = unwinder->caller(with_fp(frame_at(ret_from_fork + 4, true), 0));
    REQUIRE(end.has_value());
    CHECK_FALSE(end->has_value());
    PhysicalFrame user = crash;
    user.user_mode = true;
    auto after_user = unwinder->caller(user);
    REQUIRE(after_user.has_value());
    CHECK_FALSE(after_user->has_value());
  }
}

TEST_CASE("arm64: return addresses lose their pointer-authentication code", "[unwind][aarch64][pac]") {
  // These kernels have no PAC and VMCOREINFO says NUMBER(KERNELPACMASK)=0:
  // the bits above the VA size are the code's place. A function's first
  // instruction returns through x30, as signed by a caller's paciasp would be.
  for (const DumpCase* c : arm64_dumps()) {
    if (c->scenario != "oops-kdump") continue;
    INFO(c->id);
    auto program = open_program(*c);
    const auto va_bits = program->vmcoreinfo().number("VA_BITS").value_or(0);
    REQUIRE((va_bits == 48 || va_bits == 47));
    const uint64_t vfs_write = *program->symbol_address("vfs_write");
    const uint64_t return_address = *program->symbol_address("ksys_write") + 0x60;
    // A code in bits 63..56 and 54..VA_BITS; bit 55 selects the kernel's key and stays.
    const uint64_t pac_bits = ~((uint64_t{1} << va_bits) - 1) & ~(uint64_t{1} << 55);
    const uint64_t signed_address = (return_address & ~pac_bits) | (0xa5c3'0000'0000'0000 & pac_bits);
    REQUIRE(signed_address != return_address);
    PhysicalFrame frame = crashing_cpu_frame(*program, *c);
    frame.pc = vfs_write;
    frame.registers.set(program->arch().pc_register(), vfs_write);
    frame.registers.set(30, signed_address);
    // The CFI step takes it from x30; frame records (UnwindSource::dump)
    // strip the return addresses they read from the stack the same way.
    auto caller = make_aarch64_unwinder(*program, UnwindSource::vmlinux_file)->caller(frame);
    if (!caller) FAIL(caller.error().message());
    REQUIRE(caller->has_value());
    CHECK((*caller)->pc == return_address);
  }
}
