// sys and log of a FreeBSD minidump opened without a kernel file: what the
// dump itself says (analyzer/os/freebsd/freebsd_kernel.hpp), as text and
// JSON. sys.cpp and log.cpp hand over to these for a FreeBSD program.
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

}  // namespace coroner::commands
