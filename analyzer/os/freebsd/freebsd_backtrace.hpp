// The backtrace of a FreeBSD kernel thread: from the registers its pcb
// holds (freebsd_threads.hpp: dumppcb, stoppcbs[cpu] or td_pcb), up the
// frame records (saved frame pointer, return address) that amd64 and arm64
// kernels keep, as ddb and kgdb walk them. Where the chain ends or breaks --
// a null or unreadable frame pointer, one that does not go up the stack --
// the kernel file's DWARF CFI for the pc takes one step when it can (a
// thread stopped at a function's first instruction, before its frame
// record exists), and the records are followed again from there.
#pragma once

#include "analyzer/os/freebsd/freebsd_threads.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::freebsd_kernel {

struct ThreadFrame {
  uint64_t pc = 0, sp = 0;
  bool return_address = false;  // pc is a return address (frames after the first)
  std::string found_by;         // "pcb", "frame pointer", "cfi"
};

struct ThreadBacktrace {
  std::optional<ThreadContext> context;
  std::vector<ThreadFrame> frames;
  // Why the walk ended early ("the frame record at 0x...: ... not in the
  // dump"); none when it reached the end of the chain.
  std::optional<std::string> stopped;
};

// At most 256 frames.
ThreadBacktrace backtrace_thread(const FreeBsdKernel& kernel, const Thread& thread);

}  // namespace coroner::freebsd_kernel
