// The one line of the kernel log that says why the system died: what
// crash's `sys` shows as PANIC, found with crash's rules (8.0.2,
// get_panicmsg() in task.c) rewritten and brought up to date.
//
// The log is searched line by line (a record's continuation lines count as
// lines) in several passes; the first pass that matches anything wins, and
// within it the earliest line. The whole line is the answer.
//  1. an x86 exception: "general protection fault", "double fault: ",
//     "divide error: ", "stack segment: ";
//  2. a crash asked for through SysRq, as kernels before 5.x told it before
//     their deliberate NULL dereference: "SysRq : Crash", "SysRq : Trigger
//     a crash", "SysRq : Netdump";
//  3. an oops: "Oops: ", "Kernel BUG at", "kernel BUG at", "Unable to handle
//     kernel paging request", "Unable to handle kernel NULL pointer
//     dereference", "BUG: unable to handle kernel ", and the x86 wording of
//     4.20+, "BUG: kernel NULL pointer dereference" and "BUG: unable to
//     handle page fault";
//  4. a panic() call: "Kernel panic: ", "Kernel panic - ";
//  5. "[Hardware Error]: ";
//  6. arm's "Bad mode in ".
// So an oops that went on to panic (panic_on_oops) is reported by its oops
// line, and a plain panic() by "Kernel panic - not syncing: <message>" --
// also a SysRq crash of 5.x and later, which logs "sysrq: Trigger a crash"
// and then calls panic("sysrq triggered crash"): its PANIC is that panic()
// string, as crash 8.0.2 shows it, not the sysrq line.
//
// Differences from crash 8.0.2, where it misses modern wording: crash knows
// neither the 4.20+ x86 oops lines, so on a 6.1 x86 NULL dereference it
// shows the later "Oops: 0002 [#1] SMP" line instead of "BUG: kernel NULL
// pointer dereference, address: 0000000000000000"; nor "general protection
// fault, probably for non-canonical address ...". crash's check of the
// sysrq_pressed variable (2.4 kernels) is left out. crash appends " (check
// log for details)" when the line contains "Oops: "; that is for the printer.
#pragma once

#include "analyzer/os/linux/printk_log.hpp"

#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

// nullopt when no line of the log matches.
std::optional<std::string> find_panic_message(const std::vector<LogRecord>& log);

}  // namespace coroner::linux_kernel
