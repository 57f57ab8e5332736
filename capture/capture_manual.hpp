// coroner-capture's command line described once: --help, coroner-capture(8)
// and its bash completion are rendered from it (manual/).
#pragma once

#include "deploy/manual/program_manual.hpp"

namespace coroner::capture {

manual::ProgramManual capture_manual();

}  // namespace coroner::capture
