// One instruction of kernel or module code decoded as `dis` shows it, for
// other views of the program (the triage report's faulting instruction).
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::commands {

struct DecodedInstruction {
  uint64_t address = 0;
  std::string symbol;  // "<fx_crash_level3+65>", "" when no symbol holds it
  std::string text;    // "movl   $0x42,0" (AT&T on x86_64), with branch targets named
  std::vector<uint8_t> bytes;
};

// The instruction at `address`; an error when its code cannot be read.
Expected<DecodedInstruction> decode_instruction(const Program& program, uint64_t address);

}  // namespace coroner::commands
