#include "analyzer/os/freebsd/freebsd_backtrace.hpp"

#include "analyzer/unwind/cfi_step.hpp"

namespace coroner::freebsd_kernel {
namespace {

constexpr size_t kMaxFrames = 256;

// The kernel file's CFI (.debug_frame, .eh_frame), read once per program;
// FreeBSD kernels run at their link address (bias 0).
struct KernelCfi {
  std::unique_ptr<symbols::CfiTable> table;
  std::optional<Error> error;
};

const KernelCfi& kernel_cfi(const Program& program) {
  return program.extension<KernelCfi>([&] {
    auto cfi = std::make_unique<KernelCfi>();
    auto opened = symbols::CfiTable::open(program.vmlinux_path(), 0);
    if (opened) cfi->table = std::move(*opened);
    else cfi->error = opened.error();
    return cfi.release();
  });
}

struct Frame {
  unwind::PhysicalFrame physical;
  uint64_t fp = 0;
};

Frame make_frame(const arch::Arch& arch, uint64_t pc, uint64_t sp, uint64_t fp, bool exact_pc) {
  Frame f;
  f.physical.registers = unwind::RegisterSet(arch.register_names().size());
  f.physical.registers.set(arch.pc_register(), pc);
  f.physical.registers.set(arch.sp_register(), sp);
  f.physical.registers.set(arch.fp_register(), fp);
  f.physical.pc = pc, f.physical.sp = sp, f.physical.exact_pc = exact_pc;
  f.fp = fp;
  return f;
}

// The caller by the frame record at fp; nullopt at the chain's end (a null
// frame pointer or return address).
Expected<std::optional<Frame>> frame_record_step(const Program& program, const Frame& frame) {
  if (frame.fp == 0) return std::optional<Frame>();
  const KernelMemory& memory = program.memory();
  auto caller_fp = memory.read_u64(frame.fp);
  auto ret = memory.read_u64(frame.fp + 8);
  if (!caller_fp || !ret)
    return make_error(Errc::not_found, "the frame record at {:#x}: {}", frame.fp,
                      (!caller_fp ? caller_fp : ret).error().message());
  if (*ret == 0) return std::optional<Frame>();
  if (*caller_fp && *caller_fp <= frame.fp)
    return make_error(Errc::corrupt, "the frame pointer {:#x} saved at {:#x} does not go up the stack", *caller_fp,
                      frame.fp);
  return std::optional(make_frame(program.arch(), program.arch().strip_pointer_auth(*ret), frame.fp + 16, *caller_fp,
                                  false));
}

// The caller by the CFI row of the frame's pc; nullopt where no row covers it.
Expected<std::optional<Frame>> cfi_step(const Program& program, const Frame& frame) {
  const KernelCfi& cfi = kernel_cfi(program);
  if (!cfi.table) return *cfi.error;
  CORONER_TRY(row, cfi.table->find(frame.physical.lookup_pc()));
  if (!row) return std::optional<Frame>();
  CORONER_TRY(caller, unwind::apply_cfi(*row, frame.physical, program.arch(), program.memory(),
                                        [&](uint64_t ra) { return program.arch().strip_pointer_auth(ra); }));
  if (caller.pc == 0 || caller.sp <= frame.physical.sp) return std::optional<Frame>();
  Frame f{std::move(caller), 0};
  f.fp = f.physical.registers.get(program.arch().fp_register()).value_or(0);
  return std::optional(std::move(f));
}

}  // namespace

ThreadBacktrace backtrace_thread(const FreeBsdKernel& kernel, const Thread& thread) {
  ThreadBacktrace trace;
  auto context = thread_context(kernel, thread);
  if (!context) {
    trace.stopped = context.error().message();
    return trace;
  }
  trace.context = *context;
  if (context->pc == 0) {
    trace.stopped = fmt::format("{} at {:#x} holds no pc (the thread has not run since it was made?)",
                                context->source, context->pcb);
    return trace;
  }
  const Program& program = kernel.program();
  Frame frame = make_frame(program.arch(), context->pc, context->sp, context->fp, true);
  trace.frames.push_back({context->pc, context->sp, false, "pcb"});
  while (trace.frames.size() < kMaxFrames) {
    auto record = frame_record_step(program, frame);
    if (record && *record) {
      frame = std::move(**record);
      trace.frames.push_back({frame.physical.pc, frame.physical.sp, true, "frame pointer"});
      continue;
    }
    // The chain ended or broke: one step by CFI, then the records again.
    auto cfi = cfi_step(program, frame);
    if (cfi && *cfi) {
      frame = std::move(**cfi);
      trace.frames.push_back({frame.physical.pc, frame.physical.sp, true, "cfi"});
      continue;
    }
    if (!record) trace.stopped = record.error().message();
    break;
  }
  return trace;
}

}  // namespace coroner::freebsd_kernel
