// The caches that make a start fast (the DWARF name index and the sorted
// symbol table, keyed by the vmlinux build-id) and who builds them.
//
// A cold session does not build the index: it finds names by scanning
// (symbols/name_scan.hpp) and answers at once. When it ends, it starts a
// detached `coroner --build-index VMLINUX` at low priority, as `git gc
// --auto` detaches, so the next session starts warm; the session does not
// wait for it. CORONER_BACKGROUND_INDEX=0 turns that off.
#pragma once

#include "analyzer/program.hpp"

#include <string>

namespace coroner::frontends {

// Starts the detached builder when the session's vmlinux DWARF was opened
// without an index and a cache directory is set. Never fails the session:
// a builder that cannot start only costs the next start its time.
void start_background_index(const Program& program);

// coroner --build-index VMLINUX: builds both caches now (unless present) in
// cache_dir; one builder per vmlinux at a time (a lock file beside the
// caches). Returns the exit status; errors go to err.
int build_index_caches(const std::string& vmlinux, const std::string& cache_dir, std::ostream& err);

}  // namespace coroner::frontends
