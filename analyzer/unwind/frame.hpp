// One activation on a kernel stack as the unwinders see it (a "physical"
// frame: inline expansion comes later, in stack_trace).
#pragma once

#include "analyzer/unwind/registers.hpp"

#include <cstdint>
#include <optional>

namespace coroner::unwind {

struct PhysicalFrame {
  RegisterSet registers;  // pc and sp always known
  uint64_t pc = 0;        // copies of the pc and sp registers, for convenience
  uint64_t sp = 0;
  // pc is where execution stopped (the first frame, or an interrupted
  // context from a pt_regs), not a return address. Lookups of a return
  // address use pc - 1: the call may be the last instruction of a function.
  bool exact_pc = true;
  // The registers of this frame were read from a struct pt_regs at this
  // address (an exception, interrupt or syscall entry).
  std::optional<uint64_t> pt_regs;
  // Those registers are user space's (the syscall or exception boundary):
  // the kernel stack ends here.
  bool user_mode = false;

  uint64_t lookup_pc() const { return exact_pc ? pc : pc - 1; }
};

}  // namespace coroner::unwind
