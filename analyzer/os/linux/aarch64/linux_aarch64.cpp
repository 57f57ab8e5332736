// Linux on arm64: where a switched-out task's registers are.
#include "analyzer/os/linux/linux_arch.hpp"

namespace coroner::linux_kernel {

namespace {

class Aarch64Linux final : public LinuxArch {
 public:
  // cpu_switch_to saved x19-x28, fp, sp and its return address (into
  // __switch_to, signed when the kernel uses pointer authentication) in
  // thread.cpu_context.
  Expected<unwind::PhysicalFrame> switched_out_frame(const Program& program, uint64_t task) const override {
    const arch::Arch& arch = program.arch();
    CORONER_TRY(context, program.member_offset("struct task_struct", "thread.cpu_context"));
    unwind::PhysicalFrame frame;
    frame.registers = unwind::RegisterSet(arch.register_names().size());
    static constexpr std::string_view kSaved[] = {"x19", "x20", "x21", "x22", "x23",
                                                  "x24", "x25", "x26", "x27", "x28"};
    for (size_t i = 0; i < std::size(kSaved); ++i) {
      CORONER_TRY(offset, program.member_offset("struct cpu_context", kSaved[i]));
      CORONER_TRY(value, program.memory().read_u64(task + context + offset));
      frame.registers.set(19 + i, value);
    }
    CORONER_TRY(fp, read_u64_member(program, task + context, "struct cpu_context", "fp"));
    CORONER_TRY(sp, read_u64_member(program, task + context, "struct cpu_context", "sp"));
    CORONER_TRY(pc, read_u64_member(program, task + context, "struct cpu_context", "pc"));
    frame.pc = arch.strip_pointer_auth(pc);
    frame.sp = sp;
    frame.exact_pc = false;
    frame.registers.set(arch.fp_register(), fp);
    frame.registers.set(arch.pc_register(), frame.pc);
    frame.registers.set(arch.sp_register(), frame.sp);
    return frame;
  }
};

}  // namespace

std::unique_ptr<LinuxArch> make_aarch64_linux() { return std::make_unique<Aarch64Linux>(); }

}  // namespace coroner::linux_kernel
