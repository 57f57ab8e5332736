// Linux on x86_64: where a switched-out task's registers are.
#include "analyzer/os/linux/linux_arch.hpp"

#include <algorithm>

namespace coroner::linux_kernel {

namespace {

class X86_64Linux final : public LinuxArch {
 public:
  // __switch_to_asm pushed the callee-saved registers and left thread.sp
  // pointing at them (struct inactive_task_frame, 4.9+); its return address
  // leads back into __schedule.
  Expected<unwind::PhysicalFrame> switched_out_frame(const Program& program, uint64_t task) const override {
    const arch::Arch& arch = program.arch();
    CORONER_TRY(sp, read_u64_member(program, task, "struct task_struct", "thread.sp"));
    CORONER_TRY(frame_size, program.type_size("struct inactive_task_frame"));
    unwind::PhysicalFrame frame;
    frame.registers = unwind::RegisterSet(arch.register_names().size());
    static constexpr std::pair<std::string_view, std::string_view> kSaved[] = {
        {"r15", "r15"}, {"r14", "r14"}, {"r13", "r13"}, {"r12", "r12"}, {"bx", "rbx"}, {"bp", "rbp"}};
    const auto& names = arch.register_names();
    for (auto [member, reg] : kSaved) {
      auto offset = program.member_offset("struct inactive_task_frame", member);
      if (!offset) continue;  // not saved by this kernel (32-bit layouts)
      CORONER_TRY(value, program.memory().read_u64(sp + *offset));
      size_t index = static_cast<size_t>(std::find(names.begin(), names.end(), reg) - names.begin());
      frame.registers.set(index, value);
    }
    CORONER_TRY(ret, read_u64_member(program, sp, "inactive_task_frame", "ret_addr"));
    frame.pc = ret;
    frame.sp = sp + frame_size;
    frame.exact_pc = false;
    frame.registers.set(arch.pc_register(), frame.pc);
    frame.registers.set(arch.sp_register(), frame.sp);
    return frame;
  }
};

}  // namespace

std::unique_ptr<LinuxArch> make_x86_64_linux() { return std::make_unique<X86_64Linux>(); }

}  // namespace coroner::linux_kernel
