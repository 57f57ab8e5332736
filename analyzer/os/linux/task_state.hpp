// A task's state as crash shows it: the two-letter ST column of `ps` (RU IN
// UN ID ST TR ZO DE PA WA NE SW) and the TASK_* names of `set`. The bits are
// those of the dumped kernel: read from its task_state_array[] (the
// "R (running)", "S (sleeping)", ... strings of fs/proc/array.c, one per
// bit) when the dump holds it, else the values every kernel from 4.14 on
// uses. The bits task_state_array[] does not list follow TASK_PARKED in the
// same order on all those kernels (TASK_DEAD, TASK_WAKEKILL, TASK_WAKING,
// TASK_NOLOAD, TASK_NEW), which is how crash derives them too.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <string>

namespace coroner::linux_kernel {

struct TaskStateBits {
  uint64_t running = 0;            // TASK_RUNNING: no bit at all
  uint64_t interruptible = 0x1;
  uint64_t uninterruptible = 0x2;
  uint64_t stopped = 0x4;          // __TASK_STOPPED
  uint64_t traced = 0x8;           // __TASK_TRACED
  uint64_t dead = 0x10 | 0x80;     // EXIT_DEAD (exit_state) | TASK_DEAD
  uint64_t zombie = 0x20;          // EXIT_ZOMBIE (exit_state)
  uint64_t parked = 0x40;
  uint64_t wakekill = 0x100;
  uint64_t waking = 0x200;
  uint64_t noload = 0x400;         // TASK_IDLE = TASK_UNINTERRUPTIBLE | TASK_NOLOAD
  uint64_t new_task = 0x800;
  bool from_dump = false;          // read from the dump's task_state_array[]
};

// The dumped kernel's bits, read once per program; the known values when
// task_state_array[] is absent or unreadable.
const TaskStateBits& task_state_bits(const Program& program);

// crash's ST letters for a task's state | exit_state ("??" for none).
std::string state_letters(const TaskStateBits& bits, uint64_t state);
// crash's verbose state ("TASK_RUNNING", "TASK_INTERRUPTIBLE|TASK_WAKEKILL").
std::string state_names(const TaskStateBits& bits, uint64_t state);

}  // namespace coroner::linux_kernel
