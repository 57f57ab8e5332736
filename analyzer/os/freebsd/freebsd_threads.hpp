// The threads of a FreeBSD kernel, found as kgdb and LLDB find them:
// allproc (newest process first, linked by p_list), each process's threads
// (p_threads, linked by td_plist). A thread's registers come from the pcb
// its state says holds them: dumppcb for the panicking thread (tid ==
// dumptid), stoppcbs[cpu] for one running on another CPU the panic stopped,
// its own td_pcb (saved at its last switch) for the rest. Offsets come from
// the kernel file's DWARF, else from the offset symbols the kernel exports
// for debuggers (proc_off_p_pid, thread_off_td_tid, pcb_size, ...).
// Their backtraces: freebsd_backtrace.hpp.
#pragma once

#include "analyzer/os/freebsd/freebsd_kernel.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::freebsd_kernel {

struct Thread {
  uint64_t address = 0;  // struct thread *
  uint64_t proc = 0;     // struct proc *
  int32_t pid = 0, tid = 0;
  std::string comm;      // p_comm
  std::string name;      // td_name
  std::optional<int32_t> cpu;  // td_oncpu, none for NOCPU
  // ddb's words for td_state (and p_state): "Run", "RunQ", "CanRun",
  // "Sleep", "Lock", "Susp", "IWait", "Swapped", "Inactive", "New", "Zombie".
  std::string state;
  std::string wait_message;  // td_wmesg of a sleeping thread, else ""
  bool panicked = false;     // its tid is dumptid
};

struct ThreadList {
  // By PID (allproc walked to its end, then ordered), each process's threads
  // in p_threads order.
  std::vector<Thread> threads;
  std::optional<int32_t> dump_tid;  // dumptid, when readable
  // What could not be read ("allproc: proc 0x... not in the dump (...): the
  // processes after it are missing").
  std::vector<std::string> skipped;
};

// The threads; an error only when the walk cannot start (no allproc, no
// type or offset for the list links).
Expected<ThreadList> read_threads(const FreeBsdKernel& kernel);

// The registers a thread's backtrace starts from, and which pcb held them.
struct ThreadContext {
  uint64_t pcb = 0;
  std::string source;  // "dumppcb", "stoppcbs[1]", "td_pcb"
  uint64_t pc = 0, sp = 0, fp = 0;
};
Expected<ThreadContext> thread_context(const FreeBsdKernel& kernel, const Thread& thread);

}  // namespace coroner::freebsd_kernel
