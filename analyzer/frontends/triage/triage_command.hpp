// `coroner triage [VMLINUX] DUMP [DUMP...] [--format text|markdown|json|html]
// [--sections LIST] [-o FILE] [--mod-path DIR] [--debuginfo-dir DIR]`: one
// dump in, one report out, as a stateless job. Without a VMLINUX argument
// the kernel's debug vmlinux is looked for by the dump's build-id (each
// --debuginfo-dir, /usr/lib/debug, debuginfod) and release; when none is found the report is made from VMCOREINFO
// and the log alone, and says so -- as when the vmlinux given cannot be
// opened or is not the dump's kernel (the report names why).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace coroner::frontends {

// The options after "triage". Returns the exit status: 0 when a report was
// written (also a partial one), 2 for bad arguments, 1 when no report could
// be made; errors are one line on `errors`.
int run_triage(const std::vector<std::string>& args, std::ostream& out, std::ostream& errors);

}  // namespace coroner::frontends
