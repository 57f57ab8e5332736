#include "analyzer/unwind/stack_trace.hpp"

namespace coroner::unwind {

namespace {

// The logical frames of one physical frame: its inlined functions, innermost
// first, then the function that holds them; named by DWARF where the object
// has it, else by the ELF symbol.
void append_logical_frames(const Program& program, const PhysicalFrame& frame, size_t physical,
                           const TraceOptions& options, std::vector<StackFrame>& out) {
  StackFrame base;
  base.pc = frame.pc;
  base.sp = frame.sp;
  base.physical = physical;
  if (frame.user_mode) {  // user space: no kernel symbols apply
    out.push_back(base);
    return;
  }
  const uint64_t lookup = frame.lookup_pc();
  if (auto where = program.describe_address(lookup)) {
    base.symbol = where->symbol->name;
    base.offset = frame.pc - where->symbol->address;
    base.module = where->module;
    base.function = base.symbol;
  }
  int64_t bias = 0;
  auto table = program.line_table_for(lookup, &bias);
  if (!table || (!options.source_lines && !options.inline_frames)) {
    out.push_back(base);
    return;
  }
  const uint64_t linked = lookup - static_cast<uint64_t>(bias);
  std::vector<symbols::InlineFrame> chain;
  if (options.inline_frames) chain = (*table)->inlined_frames(linked, options.source_lines);
  if (chain.empty()) {
    if (!options.source_lines) {
      out.push_back(base);
      return;
    }
    if (auto line = (*table)->line_for_address(linked)) {
      base.file = line->file;
      base.line = line->line;
    }
    out.push_back(base);
    return;
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    StackFrame logical = base;
    if (!chain[i].function.empty()) logical.function = chain[i].function;
    logical.file = chain[i].file;
    logical.line = chain[i].line;
    logical.inlined = i + 1 < chain.size();
    out.push_back(std::move(logical));
  }
}

}  // namespace

StackTrace unwind(const Program& program, const ArchUnwinder& unwinder, const PhysicalFrame& start,
                  const TraceOptions& options) {
  StackTrace trace;
  PhysicalFrame frame = start;
  while (true) {
    trace.physical.push_back(frame);
    if (frame.user_mode) break;  // the user-mode registers at kernel entry end the kernel stack
    if (trace.physical.size() >= options.max_frames) {
      trace.stopped = make_error(Errc::corrupt, "stopped after {} frames at sp {:#x}: the stack loops or is corrupt",
                                 options.max_frames, frame.sp);
      break;
    }
    auto caller = unwinder.caller(frame);
    if (!caller) {
      trace.stopped = caller.error();
      break;
    }
    if (!*caller) break;
    frame = std::move(**caller);
  }
  for (size_t i = 0; i < trace.physical.size(); ++i)
    append_logical_frames(program, trace.physical[i], i, options, trace.frames);
  return trace;
}

}  // namespace coroner::unwind
