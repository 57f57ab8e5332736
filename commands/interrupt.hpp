// Ctrl-C for long commands: SIGINT only sets a flag, and the long loops
// (foreach, bt -a, search, list and tree walks) check it between steps and
// return an "interrupted" error, so the shell gets its prompt back with
// nothing left half-done and the program never dies of SIGINT.
#pragma once

#include "capture/format/error.hpp"

namespace coroner::commands {

// Makes SIGINT set the flag (no SA_RESTART: a blocking read returns EINTR).
// Called once by the interactive front end.
void install_interrupt_handler();

// Whether Ctrl-C was pressed (or request_interrupt() called) since the last
// clear_interrupt(). Async-signal-safe to set, cheap to read.
bool interrupted();
void request_interrupt();  // e.g. when the pager a command writes to has quit
void clear_interrupt();

// The check a loop makes between steps: an error once interrupted.
Expected<void> check_interrupt();

}  // namespace coroner::commands
