// The commands' descriptors, one per command file; registry.cpp lists them.
#pragma once

#include "commands/command.hpp"

namespace coroner::commands {

Command sys_command();
Command rd_command();
Command vtop_command();
Command sym_command();
Command set_command();
Command help_command();
Command quit_command();

}  // namespace coroner::commands
