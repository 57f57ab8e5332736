// `coroner gdbserver`: the dump served to gdb or LLDB over the gdb remote
// protocol (frontends/manual/coroner_manual.cpp describes its options).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace coroner::frontends {

// Runs the stub with the arguments after "gdbserver"; the exit status.
int run_gdbserver(const std::vector<std::string>& args, std::ostream& log);

}  // namespace coroner::frontends
