// A stack trace: the unwinder's physical frames expanded into logical
// frames (inlined functions first) with names, modules and source lines.
#pragma once

#include "analyzer/program.hpp"
#include "analyzer/unwind/frame.hpp"
#include "analyzer/unwind/unwinder.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::unwind {

struct StackFrame {
  uint64_t pc = 0;
  uint64_t sp = 0;
  std::string function;  // DWARF name (inlined callee for inline frames), else ELF symbol; "" unknown
  uint64_t offset = 0;   // pc minus the start of the ELF symbol holding it
  std::string symbol;    // that ELF symbol ("fx_crash_level3.cold"), "" unknown
  std::string module;    // "" for vmlinux
  std::string file;      // source file of pc in this (logical) frame, "" unknown
  uint32_t line = 0;
  bool inlined = false;  // an inline instance within the next logical frame
  size_t physical = 0;   // index into StackTrace::physical
};

struct StackTrace {
  std::vector<PhysicalFrame> physical;
  std::vector<StackFrame> frames;  // innermost first
  // Why the unwind stopped before the end of the stack ("no unwind
  // information for 0x...", "cannot read 0x...: excluded by the dump filter").
  std::optional<Error> stopped;
};

struct TraceOptions {
  size_t max_frames = 256;  // a looping or corrupt stack ends here, with `stopped` set
  bool inline_frames = true;
  bool source_lines = true;  // each logical frame's file and line (else left empty: no line table is read)
};

// Unwinds from `start` with the program's unwinder.
StackTrace unwind(const Program& program, const ArchUnwinder& unwinder, const PhysicalFrame& start,
                  const TraceOptions& options = {});

}  // namespace coroner::unwind
