// A task's signal state, as crash's `sig` shows it: the thread group's
// dispositions (sighand->action[]) and shared pending set
// (signal->shared_pending), the thread's blocked set, private pending set
// and TIF_SIGPENDING. Sets hold the first 64 signals (_NSIG is 64 on
// x86_64 and arm64).
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <vector>

namespace coroner::linux_kernel {

// sa_flags bits (the same values on x86_64 and arm64).
inline constexpr uint64_t kSaNoCldStop = 0x1, kSaNoCldWait = 0x2, kSaSigInfo = 0x4, kSaRestorer = 0x04000000,
                          kSaOnStack = 0x08000000, kSaRestart = 0x10000000, kSaNoDefer = 0x40000000,
                          kSaResetHand = 0x80000000;

struct SignalAction {
  int signal = 0;         // 1.._NSIG
  uint64_t address = 0;   // the struct k_sigaction in sighand_struct
  uint64_t handler = 0;   // sa_handler: 0 SIG_DFL, 1 SIG_IGN, -1 SIG_ERR, else a user address
  uint64_t mask = 0;      // sa_mask
  uint64_t flags = 0;     // sa_flags
};

struct QueuedSignal {
  int signal = 0;         // info.si_signo
  uint64_t siginfo = 0;   // the sigqueue's info
};

struct PendingSignals {
  uint64_t signal = 0;    // the pending set
  std::vector<QueuedSignal> queue;
};

struct TaskSignals {
  uint64_t signal_struct = 0;
  int64_t nr_threads = 0;
  uint64_t sighand_struct = 0;
  std::vector<SignalAction> actions;
  bool sigpending = false;  // TIF_SIGPENDING in thread_info.flags
  uint64_t blocked = 0;
  PendingSignals private_pending, shared_pending;
};

Expected<TaskSignals> task_signals(const Program& program, uint64_t task);

}  // namespace coroner::linux_kernel
