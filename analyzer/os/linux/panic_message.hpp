// The one line of the kernel log that says why the system died: what
// crash's `sys` shows as PANIC, found with crash's rules (8.0.2,
// get_panicmsg() in task.c) rewritten and brought up to date.
//
// The log is searched line by line (a record's continuation lines count as
// lines) in several passes; the first pass that matches anything wins, and
// within it the earliest line. The whole line is the answer.
//  1. an x86 exception: "general protection fault", "double fault: ",
//     "divide error: ", "stack segment: ";
//  2. a crash asked for through SysRq: "SysRq : Crash", "SysRq : Trigger a
//     crash", "SysRq : Netdump", and their 5.x spelling "sysrq: Trigger a
//     crash";
//  3. an oops: "Oops: ", "Kernel BUG at", "kernel BUG at", "Unable to handle
//     kernel paging request", "Unable to handle kernel NULL pointer
//     dereference", "BUG: unable to handle kernel ", and the x86 wording of
//     4.20+, "BUG: kernel NULL pointer dereference" and "BUG: unable to
//     handle page fault";
//  4. a panic() call: "Kernel panic: ", "Kernel panic - ";
//  5. "[Hardware Error]: ";
//  6. arm's "Bad mode in ".
// So an oops that went on to panic (panic_on_oops) is reported by its oops
// line, and a plain panic() by "Kernel panic - not syncing: <message>".
//
// Differences from crash 8.0.2, where it misses modern wording: crash knows
// neither the 4.20+ x86 oops lines, so on a 6.1 x86 NULL dereference it
// shows the later "Oops: 0002 [#1] SMP" line instead of "BUG: kernel NULL
// pointer dereference, address: 0000000000000000"; nor the lower-case
// "sysrq: " prefix; nor "general protection fault, probably for
// non-canonical address ...". crash's check of the sysrq_pressed variable
// needs a symbol table and is left out. crash appends " (check log for
// details)" when the line contains "Oops: "; that is for the printer.
#pragma once

#include "analyzer/os/linux/printk_log.hpp"

#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

// nullopt when no line of the log matches.
std::optional<std::string> find_panic_message(const std::vector<LogRecord>& log);

}  // namespace coroner::linux_kernel
