// The parameters and local variables of the functions active at a code
// address (the inline chain LineTable::inlined_frames gives), each with the
// DWARF location that holds at that address, decoded into a small program
// of the operations a stack frame's registers and memory can answer. What
// is beyond them (DW_OP_entry_value, implicit pointers, several pieces) is
// named, never approximated.
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/DebugInfo/DWARF/DWARFDie.h>

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::symbols {

enum class LocationOp : uint8_t {
  reg,             // the value is register `number`
  breg,            // push register `number` + offset
  fbreg,           // push the frame base + offset
  call_frame_cfa,  // push the canonical frame address
  address,         // push `number` (DW_OP_addr, link-time address)
  constant,        // push `number` (DW_OP_lit*, DW_OP_const*)
  plus_uconst,     // add `number` to the top
  stack_value,     // the top of the stack is the value, not its address
};

struct LocationStep {
  LocationOp op = LocationOp::constant;
  uint64_t number = 0;  // register, address or constant
  int64_t offset = 0;   // breg, fbreg
};

struct VariableLocation {
  enum class Kind : uint8_t {
    program,        // steps: evaluate them
    optimized_out,  // no location at this address
    unsupported,    // an operation outside LocationOp: `unsupported` names it
  } kind = Kind::optimized_out;
  std::vector<LocationStep> steps;
  std::string unsupported;  // "DW_OP_entry_value", "DW_OP_piece (2 pieces)"
};

struct FrameVariable {
  std::string name;
  bool parameter = false;
  uint64_t type_die = 0;  // .debug_info offset of its type; 0: none (void)
  VariableLocation location;
};

// One function of the inline chain, innermost first as in inlined_frames.
struct FunctionVariables {
  std::string function;
  std::vector<FrameVariable> variables;  // parameters first, in declaration order
  VariableLocation frame_base;           // the subprogram's DW_AT_frame_base
};

// The variables of each function of `chain` (as getInlinedChainForAddress
// gives it) at `address`, the address keyed like the unit's ranges.
// `relocatable`: DW_OP_addr operands are not relocated and so unsupported.
std::vector<FunctionVariables> collect_frame_variables(llvm::ArrayRef<llvm::DWARFDie> chain,
                                                        uint64_t address, bool relocatable);

}  // namespace coroner::symbols
