// The qXfer:libraries:read document: each loaded kernel module whose object
// file (.ko) was found, with the run-time address of every allocated
// section, so that gdb loads the module's symbols and DWARF by itself (its
// solib-target handler wants one address per SHF_ALLOC section, in the
// object's section order).
#pragma once

#include "analyzer/program.hpp"

#include <string>

namespace coroner::gdbstub {

// The <library-list> XML. A module without an object is left out (gdb has
// nothing to load for it); one whose object cannot be reopened is too.
std::string module_library_list(const Program& program);

}  // namespace coroner::gdbstub
