// coroner's command line and its commands described once: --help,
// coroner(1) and the bash completion are rendered from it (manual/). The
// COMMANDS section is every command's own usage text (help CMD shows the
// same).
#pragma once

#include "deploy/manual/program_manual.hpp"

namespace coroner::frontends {

manual::ProgramManual coroner_manual();

}  // namespace coroner::frontends
