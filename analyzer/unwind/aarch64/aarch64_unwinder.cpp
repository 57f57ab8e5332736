// arm64 kernel stacks: DWARF CFI (.debug_frame of vmlinux and of the
// modules' objects) where it covers the pc, else the frame record chain
// ({caller's x29, return address} at x29, which the kernel is built to keep
// with frame pointers), and the struct pt_regs the entry code leaves on the
// stack at each exception (syscall, interrupt, fault). Without the vmlinux
// file (UnwindSource::dump) vmlinux's code is unwound by frame records
// alone, as the kernel's own unwinder does.
#include "analyzer/arch/aarch64/aarch64_arch.hpp"
#include "analyzer/unwind/cfi_step.hpp"
#include "analyzer/unwind/unwinder.hpp"
#include "symbols/cfi_table.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

namespace coroner::unwind {

namespace {

constexpr size_t kFp = 29;
constexpr size_t kLr = 30;
// struct pt_regs.stackframe when no type information gives it: user_pt_regs
// (34 words), orig_x0, syscallno/unused2, then two u64 (orig_addr_limit,
// later sdei_ttbr1; unused, later pmr_save) since the member appeared (4.11).
constexpr uint64_t kPtRegsStackframe = 304;
// struct pt_regs' pstate: the mode the exception came from.
constexpr uint64_t kPstateModeMask = 0xf;  // PSR_MODE_MASK: EL and stack pointer selection
constexpr uint64_t kPstateAarch32 = 0x10;  // PSR_MODE32_BIT: a 32-bit task (user space only)

bool from_user_mode(uint64_t pstate) {
  return (pstate & kPstateAarch32) != 0 || (pstate & kPstateModeMask) == 0;
}

// The pointer-authentication bits of a kernel return address: VMCOREINFO's
// NUMBER(KERNELPACMASK), else every bit above the VA size (a kernel text
// address has them all set, so setting them is harmless without PAC).
uint64_t return_address_pac_mask(const arch::Aarch64Layout& layout) {
  if (layout.kernel_pac_mask != 0) return layout.kernel_pac_mask;
  return ~((uint64_t{1} << layout.va_bits_actual) - 1);
}

struct AddressRange {
  uint64_t start = 0;
  uint64_t end = 0;
  bool contains(uint64_t address) const { return address >= start && address < end; }
};

// [start_symbol, end_symbol) of vmlinux; empty when either is missing.
AddressRange symbol_range(const Program& program, std::string_view start, std::string_view end) {
  auto low = program.symbol_address(start);
  auto high = program.symbol_address(end);
  if (!low || !high || *high < *low) return {};
  return {*low, *high};
}

// At a call, past its prologue, an arm64 function's x29 points at the frame
// record it saved at CFA + offset (the kernel keeps frame pointers): the CFA
// is x29 minus that offset. Exact even when sp is only a bound -- a frame
// found through a frame record knows its sp only as the end of its callee's
// record.
void anchor_cfa_to_frame_record(symbols::CfiRow& row, const PhysicalFrame& frame) {
  if (!frame.registers.get(kFp)) return;
  for (const auto& [reg, rule] : row.rules)
    if (reg == kFp && rule.kind == symbols::CfiRule::Kind::at_cfa_offset) {
      row.cfa_register = kFp;
      row.cfa_offset = -rule.offset;
      return;
    }
}

class Aarch64Unwinder final : public ArchUnwinder {
 public:
  Aarch64Unwinder(const Program& program, UnwindSource source)
      : program_(program),
        arch_(dynamic_cast<const arch::Aarch64Arch&>(program.arch())),
        source_(source),
        strip_([mask = return_address_pac_mask(arch_.layout())](uint64_t address) {
          return arch::strip_pac(address, mask);
        }),
        entry_text_(symbol_range(program, "__entry_text_start", "__entry_text_end")),
        kernel_text_{symbol_range(program, "_stext", "_etext"), symbol_range(program, "_sinittext", "_einittext")} {}

  Expected<std::optional<PhysicalFrame>> caller(const PhysicalFrame& frame) const override {
    if (frame.user_mode) return std::optional<PhysicalFrame>();
    const uint64_t pc = frame.lookup_pc();
    // A return address into the entry code: the handler it called returns
    // to an exception vector, whose frame record is the one in pt_regs.
    if (!frame.exact_pc && entry_text_.contains(pc)) return exception_caller(frame);
    CORONER_TRY(row, cfi_row(pc));
    if (row) {
      if (!frame.exact_pc) anchor_cfa_to_frame_record(*row, frame);
      CORONER_TRY(caller, apply_cfi(*row, frame, arch_, program_.memory(), strip_));
      CORONER_CHECK(check_cfa(frame, caller.sp));
      return std::optional<PhysicalFrame>(std::move(caller));
    }
    return frame_record_caller(frame);
  }

  Expected<std::optional<PhysicalFrame>> debugger_start(const PhysicalFrame& start) const override {
    if (start.user_mode || !start.exact_pc || !entry_text_.contains(start.pc)) return std::optional<PhysicalFrame>();
    CORONER_TRY(row, cfi_row(start.pc));
    if (row) return std::optional<PhysicalFrame>();
    // A few frames at most: from the vectors through frame records to code with CFI.
    PhysicalFrame frame = start;
    for (int depth = 0; depth < 8; ++depth) {
      CORONER_TRY(next, caller(frame));
      if (!next) break;
      frame = std::move(*next);
      if (frame.user_mode) break;
      CORONER_TRY(caller_row, cfi_row(frame.lookup_pc()));
      if (!caller_row) continue;
      if (!frame.exact_pc) {
        // The CFA from the saved x29; sp is the CFA less the row's offset
        // when the row counts the CFA from sp.
        symbols::CfiRow anchored = *caller_row;
        anchor_cfa_to_frame_record(anchored, frame);
        auto fp = frame.registers.get(kFp);
        if (fp && anchored.cfa_register == kFp && caller_row->cfa_register == arch_.sp_register()) {
          frame.sp = *fp + static_cast<uint64_t>(anchored.cfa_offset) - static_cast<uint64_t>(caller_row->cfa_offset);
          frame.registers.set(arch_.sp_register(), frame.sp);
        }
      }
      return std::optional<PhysicalFrame>(std::move(frame));
    }
    return make_error(Errc::not_found, "pc {:#x}: no frame with CFI above the exception entry", start.pc);
  }

 private:
  // The CFI row of pc from vmlinux or from the module that holds pc;
  // nullopt when no table covers it (assembly without CFI, a module without
  // its object).
  Expected<std::optional<symbols::CfiRow>> cfi_row(uint64_t pc) const {
    const symbols::CfiTable* table = table_for(pc);
    if (!table) return std::optional<symbols::CfiRow>();
    return table->find(pc);
  }

  const symbols::CfiTable* table_for(uint64_t pc) const {
    std::lock_guard lock(mutex_);
    if (auto modules = program_.modules())
      for (const auto& module : **modules)
        if (module->contains(pc)) {
          auto [slot, fresh] = module_tables_.try_emplace(module.get());
          if (fresh && !module->object_path().empty())
            if (auto table = symbols::CfiTable::open(module->object_path(), 0, &module->sections))
              slot->second = std::move(*table);
          return slot->second.get();
        }
    if (!vmlinux_opened_ && source_ == UnwindSource::vmlinux_file) {
      vmlinux_opened_ = true;
      // Without .debug_frame the frame records still unwind (arm64 kernels
      // keep frame pointers).
      if (auto table = symbols::CfiTable::open(program_.vmlinux_path(), program_.kaslr_offset()))
        vmlinux_table_ = std::move(*table);
    }
    return vmlinux_table_.get();
  }

  // Exception entry: x29 points at pt_regs.stackframe. From user mode the
  // kernel stack ends with user space's registers; from the kernel, the
  // interrupted context continues with all its registers.
  Expected<std::optional<PhysicalFrame>> exception_caller(const PhysicalFrame& frame) const {
    auto fp = frame.registers.get(kFp);
    if (!fp) return make_error(Errc::not_found, "pc {:#x}: exception entry with x29 unknown", frame.pc);
    const uint64_t regs_address = *fp - stackframe_offset();
    CORONER_CHECK(check_above(frame, regs_address, "pt_regs"));
    std::vector<uint64_t> values(arch_.register_names().size());
    auto read = program_.memory().read(regs_address, std::as_writable_bytes(std::span(values)));
    if (!read) return read.error().context(fmt::format("pt_regs at {:#x}", regs_address));

    PhysicalFrame caller;
    caller.registers = RegisterSet::from_values(values);
    caller.pc = values[arch_.pc_register()];
    caller.sp = values[arch_.sp_register()];
    caller.exact_pc = true;
    caller.pt_regs = regs_address;
    caller.user_mode = from_user_mode(values.back());  // pstate follows pc
    if (!caller.user_mode) {
      if (arch_.is_user_address(caller.pc))
        return make_error(Errc::corrupt, "pt_regs at {:#x}: kernel-mode pstate {:#x} with user pc {:#x}",
                          regs_address, values.back(), caller.pc);
      // An exception in the kernel is taken on the interrupted stack (or
      // the overflow stack): the context it interrupted lies above it.
      if (same_stack(regs_address + 1, caller.sp) && caller.sp <= regs_address)
        return make_error(Errc::corrupt, "pt_regs at {:#x}: interrupted sp {:#x} is not above it", regs_address,
                          caller.sp);
    }
    return std::optional<PhysicalFrame>(std::move(caller));
  }

  // No CFI: the frame record at x29 gives the caller's x29 and return
  // address. The caller's sp is just above the record, where a frame whose
  // record tops it (assembly's stp x29, x30, [sp, #-16]!) had it.
  Expected<std::optional<PhysicalFrame>> frame_record_caller(const PhysicalFrame& frame) const {
    if (!is_kernel_code(frame.lookup_pc()))
      return make_error(Errc::not_found, "no unwind information for pc {:#x}: not in kernel or module code",
                        frame.pc);
    auto fp = frame.registers.get(kFp);
    if (!fp) return make_error(Errc::not_found, "pc {:#x}: no CFI and x29 unknown", frame.pc);
    if (*fp == 0) return std::optional<PhysicalFrame>();  // no frame record: the chain ends
    if (*fp % 8 != 0) return make_error(Errc::corrupt, "pc {:#x}: frame record at {:#x} is misaligned", frame.pc, *fp);
    CORONER_CHECK(check_above(frame, *fp, "frame record"));
    uint64_t record[2] = {};
    auto read = program_.memory().read(*fp, std::as_writable_bytes(std::span(record)));
    if (!read) return read.error().context(fmt::format("frame record at {:#x}", *fp));
    if (record[0] == 0 && record[1] == 0) return std::optional<PhysicalFrame>();  // the final record
    if (auto leaf = leaf_caller(frame, strip_(record[1]))) return leaf;

    PhysicalFrame caller;
    caller.registers = RegisterSet(arch_.register_names().size());
    caller.pc = strip_(record[1]);
    caller.sp = *fp + sizeof record;
    caller.registers.set(kFp, record[0]);
    caller.registers.set(arch_.pc_register(), caller.pc);
    caller.registers.set(arch_.sp_register(), caller.sp);
    caller.exact_pc = false;
    return std::optional<PhysicalFrame>(std::move(caller));
  }

  // An exception that interrupted a function before it pushed its frame
  // record (a leaf, or one in its prologue) left x29 its caller's: the
  // return address into that caller is in x30 alone. Taken when x30 returns
  // into another function than pc's (after a call of its own, x30 returns
  // into pc's function) and than the record's. x29 stays for the next step.
  std::optional<PhysicalFrame> leaf_caller(const PhysicalFrame& frame, uint64_t record_return) const {
    auto lr = frame.pt_regs ? frame.registers.get(kLr) : std::nullopt;
    if (!lr) return std::nullopt;
    const uint64_t ret = strip_(*lr);
    if (ret == record_return || !is_kernel_code(ret)) return std::nullopt;
    const auto here = program_.describe_address(frame.pc), there = program_.describe_address(ret - 4);
    if (!here || !there || here->symbol == there->symbol) return std::nullopt;
    PhysicalFrame caller;
    caller.registers = RegisterSet(arch_.register_names().size());
    caller.pc = ret;
    caller.sp = frame.sp;  // (the leaf's own frame, if any, is not known without CFI)
    caller.registers.set(kFp, *frame.registers.get(kFp));
    caller.registers.set(arch_.pc_register(), caller.pc);
    caller.registers.set(arch_.sp_register(), caller.sp);
    caller.exact_pc = false;
    return caller;
  }

  // A CFI step stays on its stack and moves up it (at a function's first
  // instruction the CFA may equal sp; the step from there cannot repeat).
  Expected<void> check_cfa(const PhysicalFrame& frame, uint64_t cfa) const {
    if (!same_stack(frame.sp, cfa))
      return make_error(Errc::corrupt, "pc {:#x}: CFA {:#x} is off the stack of sp {:#x}", frame.pc, cfa, frame.sp);
    if (cfa < frame.sp || (cfa == frame.sp && !frame.exact_pc))
      return make_error(Errc::corrupt, "pc {:#x}: CFA {:#x} is not above sp {:#x}: the stack is corrupt or loops",
                        frame.pc, cfa, frame.sp);
    return {};
  }

  // A frame record or pt_regs lies at or above sp on the same stack, or on
  // another stack (the switch from an IRQ or overflow stack to the one it
  // interrupted goes through a frame record).
  Expected<void> check_above(const PhysicalFrame& frame, uint64_t address, std::string_view what) const {
    if (same_stack(frame.sp, address + 1) && address < frame.sp)
      return make_error(Errc::corrupt, "pc {:#x}: {} at {:#x} is below sp {:#x}: the stack is corrupt or loops",
                        frame.pc, what, address, frame.sp);
    return {};
  }

  // Kernel stacks (task, IRQ) are THREAD_SIZE blocks aligned to at least
  // THREAD_SIZE. Stack pointers are full-descending: sp at the very top of a
  // stack (nothing pushed) belongs to the block below it.
  bool same_stack(uint64_t sp_a, uint64_t sp_b) const {
    const uint64_t mask = ~(stack_size() - 1);
    return ((sp_a - 1) & mask) == ((sp_b - 1) & mask);
  }

  uint64_t stack_size() const {
    std::call_once(layout_once_, [this] {
      // THREAD_SIZE is the size of union thread_union's stack. Without DWARF,
      // the kernel's own minimum: 16 KiB, or a page if larger.
      auto size = program_.type_size("union thread_union");
      stack_size_ = size && *size > 0 && (*size & (*size - 1)) == 0 ? *size
                                                                      : std::max<uint64_t>(16384, arch_.page_size());
      auto stackframe = program_.member_offset("struct pt_regs", "stackframe");
      stackframe_offset_ = stackframe ? *stackframe : kPtRegsStackframe;
    });
    return stack_size_;
  }

  uint64_t stackframe_offset() const {
    stack_size();
    return stackframe_offset_;
  }

  bool is_kernel_code(uint64_t pc) const {
    for (const AddressRange& range : kernel_text_)
      if (range.contains(pc)) return true;
    if (auto modules = program_.modules())
      for (const auto& module : **modules)
        if (module->contains(pc)) return true;
    return false;
  }

  const Program& program_;
  const arch::Aarch64Arch& arch_;
  const UnwindSource source_;
  const ReturnAddressFilter strip_;
  const AddressRange entry_text_;
  const AddressRange kernel_text_[2];

  mutable std::mutex mutex_;
  mutable bool vmlinux_opened_ = false;
  mutable std::unique_ptr<symbols::CfiTable> vmlinux_table_;
  mutable std::map<const KernelModule*, std::unique_ptr<symbols::CfiTable>> module_tables_;

  mutable std::once_flag layout_once_;
  mutable uint64_t stack_size_ = 0;
  mutable uint64_t stackframe_offset_ = 0;
};

}  // namespace

std::unique_ptr<ArchUnwinder> make_aarch64_unwinder(const Program& program, UnwindSource source) {
  return std::make_unique<Aarch64Unwinder>(program, source);
}

}  // namespace coroner::unwind
