// The x86_64 step from a frame to its caller, with the semantics of the
// kernel's own ORC unwinder (arch/x86/kernel/unwind_orc.c): the ORC entry
// of the pc gives the caller's stack pointer (the CFA) and frame pointer,
// and says whether a return address, a full struct pt_regs or only the
// hardware iret frame sits at the CFA. Code without ORC entries falls back
// to DWARF CFI.
#include "analyzer/unwind/cfi_step.hpp"
#include "analyzer/unwind/unwinder.hpp"
#include "analyzer/unwind/x86_64/orc_sources.hpp"

#include <algorithm>
#include <array>
#include <mutex>

namespace coroner::unwind {
namespace {

using symbols::OrcEntry;
using symbols::OrcRegister;
using symbols::OrcType;

// The registers the step needs, as indexes into the NT_PRSTATUS set.
struct RegisterIndexes {
  size_t ip, sp, bp, dx, di, r10, r13, cs, flags, ss;
};

Expected<size_t> register_index(const arch::Arch& arch, std::string_view name) {
  const auto& names = arch.register_names();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return make_error(Errc::unsupported, "{}: no register {}", arch.name(), name);
  return static_cast<size_t>(it - names.begin());
}

// struct pt_regs starts with the NT_PRSTATUS registers r15 .. ss in the same
// order (both are the user_regs_struct prefix), so it is read straight into
// a RegisterSet; DWARF confirms that and gives its size. Without type
// information (no vmlinux) that layout is taken as it is: r15 .. ss is all of
// x86_64's struct pt_regs in every release.
struct PtRegsLayout {
  uint64_t size = 0;       // bytes to read
  size_t registers = 0;    // leading NT_PRSTATUS registers it holds
  uint64_t ip_offset = 0;  // where the iret frame starts
};

Expected<PtRegsLayout> read_pt_regs_layout(const Program& program, const RegisterIndexes& regs) {
  auto type_size = program.type_size("struct pt_regs");
  if (!type_size) return PtRegsLayout{(regs.ss + 1) * 8, regs.ss + 1, regs.ip * 8};
  const uint64_t size = *type_size;
  const std::pair<std::string_view, size_t> checks[] = {{"bp", regs.bp}, {"ip", regs.ip}, {"cs", regs.cs},
                                                        {"flags", regs.flags}, {"sp", regs.sp}, {"ss", regs.ss}};
  for (const auto& [member, index] : checks) {
    CORONER_TRY(offset, program.member_offset("struct pt_regs", member));
    if (offset != index * 8)
      return make_error(Errc::unsupported, "struct pt_regs.{} is at offset {}, not in NT_PRSTATUS order ({})", member,
                        offset, index * 8);
  }
  if (size < (regs.ss + 1) * 8)
    return make_error(Errc::unsupported, "struct pt_regs is {} bytes, too small for its registers", size);
  return PtRegsLayout{size, regs.ss + 1, regs.ip * 8};
}

class X86_64Unwinder final : public ArchUnwinder {
 public:
  X86_64Unwinder(const Program& program, UnwindSource source, Expected<RegisterIndexes> regs)
      : program_(program), sources_(program, source) {
    if (regs)
      regs_ = *regs;
    else
      setup_error_ = regs.error();
  }

  Expected<std::optional<PhysicalFrame>> caller(const PhysicalFrame& frame) const override {
    if (setup_error_) return *setup_error_;
    if (frame.user_mode) return std::optional<PhysicalFrame>();  // the kernel stack ends at user space
    const uint64_t pc = frame.lookup_pc();
    std::optional<OrcEntry> entry;
    if (frame.pc == 0 && frame.exact_pc) {
      // A call through a NULL pointer stopped at pc 0: the kernel's own
      // convention (null_orc_entry) unwinds it as a call frame.
      entry = OrcEntry{8, 0, OrcRegister::sp, OrcRegister::undefined, OrcType::call, 0, false, false};
    } else {
      auto found = sources_.find(pc);
      if (!found) return from_cfi(frame, found.error());  // e.g. a module without a readable table
      entry = *found;
    }
    if (!entry || entry->type == OrcType::undefined)
      return from_cfi(frame, make_error(Errc::not_found, "no ORC entry for {:#x}", pc));
    if (entry->type == OrcType::end_of_stack) return std::optional<PhysicalFrame>();
    CORONER_TRY(caller, apply(*entry, frame, pc));
    return std::optional<PhysicalFrame>(std::move(caller));
  }

 private:
  Expected<uint64_t> read_word(uint64_t address, std::string_view what, uint64_t pc) const {
    auto value = program_.memory().read_u64(address);
    if (!value) return value.error().context(fmt::format("unwinding {:#x}: {}", pc, what));
    return *value;
  }

  Expected<uint64_t> known(const PhysicalFrame& frame, size_t index, std::string_view name, uint64_t pc) const {
    if (auto value = frame.registers.get(index)) return *value;
    return make_error(Errc::not_found, "unwinding {:#x}: the ORC entry needs {}, which is unknown in this frame", pc,
                      name);
  }

  // The canonical frame address: the caller's stack pointer before its call.
  Expected<uint64_t> cfa(const OrcEntry& entry, const PhysicalFrame& frame, uint64_t pc) const {
    // Kernel stacks are far below 2^63: wrapping arithmetic on an offset is fine.
    const auto offset = static_cast<uint64_t>(static_cast<int64_t>(entry.sp_offset));
    switch (entry.sp_reg) {
      case OrcRegister::sp:
        return frame.sp + offset;
      case OrcRegister::bp: {
        CORONER_TRY(bp, known(frame, regs_.bp, "rbp", pc));
        return bp + offset;
      }
      // The top of this stack holds the previous stack pointer (an IRQ
      // stack's link back). Its meaning since 5.12; objtool emitted none before.
      case OrcRegister::sp_indirect: {
        CORONER_TRY(previous, read_word(frame.sp, "the saved stack pointer", pc));
        return previous + offset;
      }
      case OrcRegister::bp_indirect: {
        CORONER_TRY(bp, known(frame, regs_.bp, "rbp", pc));
        return read_word(bp + offset, "the saved stack pointer", pc);
      }
      // Entry code before a stack switch: the value is in a register, which
      // only a pt_regs (or the dump's notes) can give.
      case OrcRegister::dx:
        return known(frame, regs_.dx, "rdx", pc);
      case OrcRegister::di:
        return known(frame, regs_.di, "rdi", pc);
      case OrcRegister::r10:
        return known(frame, regs_.r10, "r10", pc);
      case OrcRegister::r13:
        return known(frame, regs_.r13, "r13", pc);
      default:
        return make_error(Errc::corrupt, "ORC entry of {:#x}: unknown sp_reg {}", pc,
                          static_cast<unsigned>(entry.sp_reg));
    }
  }

  Expected<PhysicalFrame> apply(const OrcEntry& entry, const PhysicalFrame& frame, uint64_t pc) const {
    CORONER_TRY(cfa_value, cfa(entry, frame, pc));
    const size_t register_count = std::max(frame.registers.size(), program_.arch().register_names().size());
    PhysicalFrame caller;
    switch (entry.type) {
      case OrcType::call: {
        CORONER_TRY(return_address, read_word(cfa_value - 8, "the return address", pc));
        // Only the stack and frame pointers are recoverable: every other
        // register may have been changed (and is not saved where ORC says).
        caller.registers = RegisterSet(register_count);
        caller.registers.set(regs_.ip, return_address);
        caller.registers.set(regs_.sp, cfa_value);
        if (auto bp = frame.registers.get(regs_.bp)) caller.registers.set(regs_.bp, *bp);
        break;
      }
      case OrcType::regs: {
        CORONER_TRY(layout, pt_regs_layout());
        std::vector<uint64_t> words(layout.size / 8);
        auto bytes = std::as_writable_bytes(std::span(words));
        if (auto read = program_.memory().read(cfa_value, bytes); !read)
          return read.error().context(fmt::format("unwinding {:#x}: struct pt_regs at {:#x}", pc, cfa_value));
        caller.registers = RegisterSet(register_count);
        for (size_t i = 0; i < layout.registers; ++i) caller.registers.set(i, words[i]);
        caller.pt_regs = cfa_value;
        break;
      }
      case OrcType::regs_partial: {
        // Only the hardware's iret frame (ip, cs, flags, sp, ss) was pushed;
        // the other registers still hold the interrupted context's values.
        CORONER_TRY(layout, pt_regs_layout());
        std::array<uint64_t, 5> iret{};
        if (auto read = program_.memory().read(cfa_value, std::as_writable_bytes(std::span(iret))); !read)
          return read.error().context(fmt::format("unwinding {:#x}: iret frame at {:#x}", pc, cfa_value));
        caller.registers = frame.registers;
        const size_t order[] = {regs_.ip, regs_.cs, regs_.flags, regs_.sp, regs_.ss};
        for (size_t i = 0; i < iret.size(); ++i) caller.registers.set(order[i], iret[i]);
        caller.pt_regs = cfa_value - layout.ip_offset;
        break;
      }
      default:
        return make_error(Errc::corrupt, "ORC entry of {:#x}: unknown type {}", pc, entry.raw_type);
    }
    if (caller.pt_regs) caller.user_mode = (caller.registers.get(regs_.cs).value_or(0) & 3) != 0;

    const auto bp_offset = static_cast<uint64_t>(static_cast<int64_t>(entry.bp_offset));
    switch (entry.bp_reg) {
      case OrcRegister::undefined:  // unchanged, or the pt_regs' value
        break;
      case OrcRegister::prev_sp: {
        CORONER_TRY(bp, read_word(cfa_value + bp_offset, "the saved frame pointer", pc));
        caller.registers.set(regs_.bp, bp);
        break;
      }
      case OrcRegister::bp: {
        CORONER_TRY(current, known(frame, regs_.bp, "rbp", pc));
        CORONER_TRY(bp, read_word(current + bp_offset, "the saved frame pointer", pc));
        caller.registers.set(regs_.bp, bp);
        break;
      }
      default:
        return make_error(Errc::corrupt, "ORC entry of {:#x}: unknown bp_reg {}", pc,
                          static_cast<unsigned>(entry.bp_reg));
    }

    caller.pc = *caller.registers.get(regs_.ip);
    caller.sp = *caller.registers.get(regs_.sp);
    caller.exact_pc = entry.signal;
    // A call frame on the same stack must lie above this one; an indirect
    // stack pointer (an IRQ stack's link back) or a pt_regs switches stacks.
    const bool switches_stack = entry.type != OrcType::call || entry.sp_reg == OrcRegister::sp_indirect ||
                                entry.sp_reg == OrcRegister::bp_indirect;
    if (!switches_stack && caller.sp <= frame.sp)
      return make_error(Errc::corrupt, "stack pointer went backwards at {:#x} (sp {:#x} -> {:#x})", pc, frame.sp,
                        caller.sp);
    return caller;
  }

  // Code the ORC tables do not cover (or mark undefined): DWARF CFI if the
  // object has some, else the ORC error.
  Expected<std::optional<PhysicalFrame>> from_cfi(const PhysicalFrame& frame, Error orc_error) const {
    auto row = sources_.find_cfi(frame.lookup_pc());
    if (!row || !*row) return orc_error;
    CORONER_TRY(caller, apply_cfi(**row, frame, program_.arch(), program_.memory()));
    if (caller.sp <= frame.sp)
      return make_error(Errc::corrupt, "stack pointer went backwards at {:#x} (sp {:#x} -> {:#x}, DWARF CFI)",
                        frame.lookup_pc(), frame.sp, caller.sp);
    return std::optional<PhysicalFrame>(std::move(caller));
  }

  const Expected<PtRegsLayout>& pt_regs_layout() const {
    std::call_once(layout_once_, [&] { layout_.emplace(read_pt_regs_layout(program_, regs_)); });
    return *layout_;
  }

  const Program& program_;
  const OrcSources sources_;
  RegisterIndexes regs_{};
  std::optional<Error> setup_error_;  // the architecture lacks a register the step needs
  mutable std::once_flag layout_once_;
  mutable std::optional<Expected<PtRegsLayout>> layout_;
};

// The NT_PRSTATUS indexes of the registers the step uses.
Expected<RegisterIndexes> register_indexes(const arch::Arch& arch) {
  RegisterIndexes regs{};
  const std::pair<size_t*, std::string_view> wanted[] = {
      {&regs.dx, "rdx"}, {&regs.di, "rdi"}, {&regs.r10, "r10"}, {&regs.r13, "r13"},
      {&regs.cs, "cs"},  {&regs.flags, "eflags"}, {&regs.ss, "ss"}};
  for (const auto& [slot, name] : wanted) {
    CORONER_TRY(index, register_index(arch, name));
    *slot = index;
  }
  regs.ip = arch.pc_register();
  regs.sp = arch.sp_register();
  regs.bp = arch.fp_register();
  return regs;
}

}  // namespace

std::unique_ptr<ArchUnwinder> make_x86_64_unwinder(const Program& program, UnwindSource source) {
  return std::make_unique<X86_64Unwinder>(program, source, register_indexes(program.arch()));
}

}  // namespace coroner::unwind
