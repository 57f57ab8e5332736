// The commands of a FreeBSD minidump, as text and JSON: sys and log from
// what the dump itself says (analyzer/os/freebsd/freebsd_kernel.hpp), ps and
// bt from the threads its kernel file lets the model walk
// (freebsd_threads.hpp). sys.cpp, log.cpp, ps.cpp and bt.cpp hand over to
// these for a FreeBSD program.
#pragma once

#include "analyzer/os/freebsd/freebsd_kernel.hpp"
#include "commands/command.hpp"

namespace coroner::commands {

// KERNEL, DUMPFILE, FORMAT, DATE, NODENAME, RELEASE, VERSION, MACHINE,
// PAGE SIZE, MEMORY, PANIC.
Expected<void> show_freebsd_system(CommandContext& ctx, const freebsd_kernel::FreeBsdKernel& kernel);

// The message buffer, oldest line first (log takes no options here).
Expected<void> show_freebsd_log(CommandContext& ctx, const freebsd_kernel::FreeBsdKernel& kernel,
                                const Arguments& args);

// ps: each thread of each process (freebsd_ps.cpp), by PID: PID, TID, CPU
// (">" before a thread on a CPU), THREAD (struct thread), STATE (ddb's
// words), WMESG, COMM (process/thread name); PIDs or command names select.
Expected<void> show_freebsd_threads(CommandContext& ctx, const freebsd_kernel::FreeBsdKernel& kernel,
                                    const Arguments& args);

// bt [-a] [TID | PID ...] (freebsd_bt.cpp): the panicking thread's
// backtrace from dumppcb, each thread on a CPU (-a), or those named.
Expected<void> show_freebsd_backtraces(CommandContext& ctx, const freebsd_kernel::FreeBsdKernel& kernel,
                                       const Arguments& args);

}  // namespace coroner::commands
