// crash's start-up banner, and what coroner adds to it: the dump and its
// format, sys (kernel, dump file, CPUs, ..., the panic line), the modules
// with and without debug info, the pages the dump filter left out, and
// what could not be read.
#pragma once

#include "commands/command.hpp"

#include <iosfwd>

namespace coroner::frontends {

void print_banner(commands::CommandContext& context, std::ostream& errors);

}  // namespace coroner::frontends
