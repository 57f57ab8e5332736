#include "analyzer/os/linux/signals.hpp"

#include "analyzer/os/linux/list_walk.hpp"

namespace coroner::linux_kernel {

namespace {

// More queued signals than RLIMIT_SIGPENDING allows any real system.
constexpr size_t kMaxQueued = 1 << 20;

struct SignalLayout {
  uint64_t task_signal = 0, task_sighand = 0, task_blocked = 0, task_pending = 0;
  uint64_t nr_threads = 0, shared_pending = 0;
  uint64_t action = 0, action_size = 0;
  unsigned action_count = 0;  // _NSIG
  uint64_t sa_handler = 0, sa_flags = 0, sa_mask = 0;  // within k_sigaction
  uint64_t pending_signal = 0, pending_list = 0;       // struct sigpending
  uint64_t queue_list = 0, queue_signo = 0;            // struct sigqueue
};

Expected<SignalLayout> signal_layout(const Program& program) {
  SignalLayout l;
  CORONER_TRY(signal, program.member_offset("struct task_struct", "signal"));
  CORONER_TRY(sighand, program.member_offset("struct task_struct", "sighand"));
  CORONER_TRY(blocked, program.member_offset("struct task_struct", "blocked"));
  CORONER_TRY(pending, program.member_offset("struct task_struct", "pending"));
  CORONER_TRY(nr_threads, program.member_offset("struct signal_struct", "nr_threads"));
  CORONER_TRY(shared, program.member_offset("struct signal_struct", "shared_pending"));
  CORONER_TRY(action, program.member_offset("struct sighand_struct", "action"));
  CORONER_TRY(action_size, program.type_size("struct k_sigaction"));
  CORONER_TRY(handler, program.member_offset("struct k_sigaction", "sa.sa_handler"));
  CORONER_TRY(flags, program.member_offset("struct k_sigaction", "sa.sa_flags"));
  CORONER_TRY(mask, program.member_offset("struct k_sigaction", "sa.sa_mask"));
  CORONER_TRY(pending_signal, program.member_offset("struct sigpending", "signal"));
  CORONER_TRY(pending_list, program.member_offset("struct sigpending", "list"));
  CORONER_TRY(queue_list, program.member_offset("struct sigqueue", "list"));
  CORONER_TRY(signo, program.member_offset("struct sigqueue", "info.si_signo"));
  CORONER_TRY(info, program.debug_info());
  CORONER_TRY(actions, info->find_member("struct sighand_struct", "action"));
  CORONER_TRY(array, symbols::underlying(actions.type));
  if (!array->length() || *array->length() == 0 || *array->length() > 1024)
    return make_error(Errc::corrupt, "sighand_struct.action is not an array of _NSIG entries");
  l.task_signal = signal, l.task_sighand = sighand, l.task_blocked = blocked, l.task_pending = pending;
  l.nr_threads = nr_threads, l.shared_pending = shared, l.action = action, l.action_size = action_size;
  l.action_count = static_cast<unsigned>(*array->length());
  l.sa_handler = handler, l.sa_flags = flags, l.sa_mask = mask;
  l.pending_signal = pending_signal, l.pending_list = pending_list, l.queue_list = queue_list, l.queue_signo = signo;
  return l;
}

// TIF_SIGPENDING: a #define, so not in DWARF; its bit per architecture.
unsigned tif_sigpending(Machine machine) { return machine == Machine::x86_64 ? 2 : 0; }

// thread_info.flags: inside the task_struct with THREAD_INFO_IN_TASK (x86_64
// since 4.9, arm64 since 4.10), else at the bottom of task->stack.
Expected<uint64_t> thread_flags(const Program& program, uint64_t task) {
  CORONER_TRY(flags, program.member_offset("struct thread_info", "flags"));
  if (auto in_task = program.member_offset("struct task_struct", "thread_info"))
    return program.memory().read_u64(task + *in_task + flags);
  CORONER_TRY(stack, program.member_offset("struct task_struct", "stack"));
  CORONER_TRY(thread_info, program.memory().read_u64(task + stack));
  return program.memory().read_u64(thread_info + flags);
}

Expected<PendingSignals> pending_signals(const KernelMemory& memory, const SignalLayout& l, uint64_t pending) {
  PendingSignals result;
  CORONER_TRY(set, memory.read_u64(pending + l.pending_signal));
  result.signal = set;
  ListBudget budget{kMaxQueued};
  CORONER_CHECK(walk_list(memory, "sigqueue list", pending + l.pending_list, l.queue_list, budget,
                          [&](uint64_t queued) -> Expected<void> {
                            CORONER_TRY(signo, memory.read_value<int32_t>(queued + l.queue_signo));
                            result.queue.push_back({signo, queued + l.queue_signo});
                            return {};
                          }));
  return result;
}

}  // namespace

Expected<TaskSignals> task_signals(const Program& program, uint64_t task) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(l, signal_layout(program));
  TaskSignals s;
  CORONER_TRY(signal, memory.read_u64(task + l.task_signal));
  CORONER_TRY(sighand, memory.read_u64(task + l.task_sighand));
  CORONER_TRY(blocked, memory.read_u64(task + l.task_blocked));
  CORONER_TRY(flags, thread_flags(program, task));
  s.signal_struct = signal, s.sighand_struct = sighand, s.blocked = blocked;
  s.sigpending = (flags >> tif_sigpending(program.arch().machine())) & 1;
  if (signal) {
    CORONER_TRY(nr_threads, memory.read_value<int32_t>(signal + l.nr_threads));
    s.nr_threads = nr_threads;
  }
  if (sighand) {
    for (unsigned i = 0; i < l.action_count; ++i) {
      SignalAction a;
      a.signal = static_cast<int>(i + 1);
      a.address = sighand + l.action + i * l.action_size;
      CORONER_TRY(handler, memory.read_u64(a.address + l.sa_handler));
      CORONER_TRY(sa_flags, memory.read_u64(a.address + l.sa_flags));
      CORONER_TRY(mask, memory.read_u64(a.address + l.sa_mask));
      a.handler = handler, a.flags = sa_flags, a.mask = mask;
      s.actions.push_back(a);
    }
  }
  CORONER_TRY(own, pending_signals(memory, l, task + l.task_pending));
  s.private_pending = std::move(own);
  if (signal) {
    CORONER_TRY(shared, pending_signals(memory, l, signal + l.shared_pending));
    s.shared_pending = std::move(shared);
  }
  return s;
}

}  // namespace coroner::linux_kernel
