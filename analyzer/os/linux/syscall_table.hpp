// The kernel's system call table (sys_call_table) as crash's `sys -c`
// shows it: each slot's handler, named by its symbol (x86_64
// __x64_sys_read, arm64 __arm64_sys_read), with the source file and line
// of the handler from the DWARF line table.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct SystemCall {
  uint32_t number = 0;
  uint64_t handler = 0;  // the slot's function address
  std::string name;      // "" when no symbol starts there
  std::string file;      // "" when no line table row covers the handler
  uint32_t line = 0;
};

struct SystemCallTable {
  uint64_t address = 0;          // sys_call_table
  std::vector<SystemCall> calls;  // by number
};

// The slots of sys_call_table: as many as its DWARF array type holds (else
// its ELF symbol's size). with_lines: look up each handler's source line,
// skipping rows in include/*.h (an inline helper at the entry) as crash does.
Expected<SystemCallTable> system_call_table(const Program& program, bool with_lines);

}  // namespace coroner::linux_kernel
