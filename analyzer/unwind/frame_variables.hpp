// The values of a stack frame's parameters and local variables (bt -v,
// drgn's trace[N]["var"]): their DWARF locations at the frame's pc
// evaluated with the registers the unwinder recovered for that frame and
// its CFA, then typed with the object's type graph. A value DWARF cannot
// give here (optimized out, DW_OP_entry_value, a register the unwind did
// not recover) is reported as such, never guessed.
#pragma once

#include "analyzer/program.hpp"
#include "analyzer/unwind/stack_trace.hpp"

#include <optional>
#include <string>
#include <vector>

namespace coroner::unwind {

struct VariableValue {
  std::string name;
  bool parameter = false;
  std::string type;                   // C spelling ("const char *"); "" when unknown
  std::optional<std::string> value;   // as `p` prints it
  std::optional<uint64_t> address;    // where it lives, when in memory
  std::optional<uint64_t> bits;       // a scalar's value (integers, pointers, enums), for programs
  std::string problem;                // when no value: "optimized out", "unavailable: DW_OP_entry_value", ...
};

struct FunctionValues {
  std::string function;
  std::vector<VariableValue> variables;
};

// The variables of each logical frame of physical frame `physical` of
// trace, innermost (inlined) first as trace.frames lists them; empty when
// the frame's object has no DWARF for its pc.
std::vector<FunctionValues> frame_variable_values(const Program& program, const StackTrace& trace, size_t physical);

}  // namespace coroner::unwind
