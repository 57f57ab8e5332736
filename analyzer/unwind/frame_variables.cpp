#include "analyzer/unwind/frame_variables.hpp"

#include "analyzer/object.hpp"
#include "analyzer/type_format.hpp"
#include "analyzer/value_format.hpp"
#include "symbols/line_table.hpp"

#include <vector>

namespace coroner::unwind {

namespace {

using symbols::LocationOp;
using symbols::VariableLocation;

// What a location program's evaluation needs from the frame.
struct FrameContext {
  const Program& program;
  const PhysicalFrame& frame;
  std::optional<uint64_t> cfa;
  int64_t link_bias = 0;  // added to DW_OP_addr's link-time addresses
  const VariableLocation& frame_base;
};

// Where a location program put the variable.
struct Located {
  uint64_t number = 0;  // its address, or its value when !in_memory
  bool in_memory = true;
};

Error unavailable(std::string reason) { return make_error(Errc::not_found, "unavailable: {}", reason); }

// The registers a call preserves (the ABI's callee-saved ones, the stack
// pointer, and the pc): in a frame found by unwinding a call, only these
// can hold the caller's values; the others the callee may have changed.
bool survives_calls(Machine machine, unsigned dwarf_number) {
  if (machine == Machine::aarch64) return (dwarf_number >= 19 && dwarf_number <= 29) || dwarf_number == 31;
  // x86_64: rbx, rbp, rsp, r12-r15, the return address.
  return dwarf_number == 3 || dwarf_number == 6 || dwarf_number == 7 || (dwarf_number >= 12 && dwarf_number <= 16);
}

Expected<uint64_t> read_register(const FrameContext& context, uint64_t dwarf_number) {
  const arch::Arch& arch = context.program.arch();
  auto index = arch.dwarf_register(static_cast<unsigned>(dwarf_number));
  if (!index) return unavailable(fmt::format("DWARF register {} is not tracked", dwarf_number));
  const std::string name = *index < arch.register_names().size() ? std::string(arch.register_names()[*index])
                                                                  : fmt::format("DWARF register {}", dwarf_number);
  // A frame whose pc is exact (the first, or one from a pt_regs) has all
  // its registers; a caller's are known only where the call preserves them.
  std::optional<uint64_t> value = context.frame.registers.get(*index);
  if (!context.frame.exact_pc && !survives_calls(arch.machine(), static_cast<unsigned>(dwarf_number)))
    value.reset();
  if (!value) return unavailable(fmt::format("register {} not recovered", name));
  return *value;
}

Expected<Located> evaluate(const FrameContext& context, const VariableLocation& location, bool frame_base);

Expected<uint64_t> frame_base_value(const FrameContext& context) {
  if (context.frame_base.kind != VariableLocation::Kind::program)
    return unavailable(context.frame_base.kind == VariableLocation::Kind::unsupported
                           ? "frame base " + context.frame_base.unsupported
                           : std::string("no frame base"));
  CORONER_TRY(base, evaluate(context, context.frame_base, /*frame_base=*/true));
  return base.number;  // DW_OP_reg as a frame base: that register holds it
}

Expected<Located> evaluate(const FrameContext& context, const VariableLocation& location, bool frame_base) {
  const auto& steps = location.steps;
  if (steps.size() == 1 && steps[0].op == LocationOp::reg) {
    CORONER_TRY(value, read_register(context, steps[0].number));
    return Located{value, false};
  }
  std::vector<uint64_t> stack;
  for (size_t i = 0; i < steps.size(); ++i) {
    const symbols::LocationStep& step = steps[i];
    switch (step.op) {
      case LocationOp::reg:
        return unavailable("DW_OP_reg inside a longer expression");
      case LocationOp::breg: {
        CORONER_TRY(value, read_register(context, step.number));
        stack.push_back(value + static_cast<uint64_t>(step.offset));
        break;
      }
      case LocationOp::fbreg: {
        if (frame_base) return unavailable("DW_OP_fbreg in the frame base");
        CORONER_TRY(base, frame_base_value(context));
        stack.push_back(base + static_cast<uint64_t>(step.offset));
        break;
      }
      case LocationOp::call_frame_cfa:
        if (!context.cfa) return unavailable("the frame's CFA is not known");
        stack.push_back(*context.cfa);
        break;
      case LocationOp::address:
        stack.push_back(step.number + static_cast<uint64_t>(context.link_bias));
        break;
      case LocationOp::constant:
        stack.push_back(step.number);
        break;
      case LocationOp::plus_uconst:
        if (stack.empty()) return unavailable("DW_OP_plus_uconst on an empty stack");
        stack.back() += step.number;
        break;
      case LocationOp::stack_value:
        if (stack.empty() || i + 1 != steps.size()) return unavailable("a malformed DW_OP_stack_value");
        return Located{stack.back(), false};
    }
  }
  if (stack.empty()) return unavailable("an empty location expression");
  return Located{stack.back(), true};
}

// The type graph of the object holding the frame's code: vmlinux's or its
// module's.
Expected<const symbols::TypeGraph*> graph_for(const Program& program, const std::string& module) {
  if (module.empty()) return kernel_types(program);
  KernelModule* owner = program.find_module(module);
  if (!owner) return make_error(Errc::not_found, "module {} is not loaded", module);
  CORONER_TRY(info, owner->debug_info());
  return &info->types();
}

bool is_scalar(const symbols::Type& type) {
  using symbols::TypeKind;
  return type.kind() == TypeKind::base || type.kind() == TypeKind::pointer || type.kind() == TypeKind::enumeration;
}

// Types and prints one variable found at `where`.
void describe(const Program& program, const symbols::TypeGraph* graph, const symbols::FrameVariable& variable,
              const Located& where, VariableValue& out) {
  if (where.in_memory) out.address = where.number;
  if (!graph || !variable.type_die) {
    // No type to read it with: the place (or raw value) in hex.
    out.value = where.in_memory ? fmt::format("<at {:#x}>", where.number) : fmt::format("{:#x}", where.number);
    if (!where.in_memory) out.bits = where.number;
    return;
  }
  auto type = graph->type_at(variable.type_die);
  if (!type) {
    out.problem = type.error().message();
    return;
  }
  out.type = declaration(*type, "");
  auto object = where.in_memory ? Expected<Object>(Object::reference(program, *graph, *type, where.number))
                                : Object::value(program, *graph, *type, where.number);
  if (!object) {
    out.problem = "unavailable: " + object.error().message();
    return;
  }
  auto text = format_value(*object, IntegerBase::natural);
  if (!text) {
    out.problem = text.error().message();
    return;
  }
  out.value = *text;
  if (auto underlying = object->underlying_type(); underlying && is_scalar(**underlying))
    if (auto bits = object->read_unsigned()) out.bits = *bits;
}

}  // namespace

std::vector<FunctionValues> frame_variable_values(const Program& program, const StackTrace& trace, size_t physical) {
  const PhysicalFrame& frame = trace.physical.at(physical);
  if (frame.user_mode) return {};
  const uint64_t lookup = frame.lookup_pc();
  int64_t bias = 0;
  auto table = program.line_table_for(lookup, &bias);
  if (!table) return {};
  const std::vector<symbols::FunctionVariables> functions =
      (*table)->frame_variables(lookup - static_cast<uint64_t>(bias));
  if (functions.empty()) return {};

  // The CFA of a frame is its caller's sp at the call; a caller found from
  // a pt_regs is an interrupted context, whose sp says nothing of it.
  std::optional<uint64_t> cfa;
  if (physical + 1 < trace.physical.size() && !trace.physical[physical + 1].pt_regs)
    cfa = trace.physical[physical + 1].sp;

  std::string module;
  if (auto where = program.describe_address(lookup)) module = where->module;
  auto graph = graph_for(program, module);

  std::vector<FunctionValues> result;
  for (const symbols::FunctionVariables& function : functions) {
    FrameContext context{program, frame, cfa, bias, function.frame_base};
    FunctionValues values;
    values.function = function.function;
    for (const symbols::FrameVariable& variable : function.variables) {
      VariableValue out;
      out.name = variable.name;
      out.parameter = variable.parameter;
      if (graph && variable.type_die)
        if (auto type = (*graph)->type_at(variable.type_die)) out.type = declaration(*type, "");
      switch (variable.location.kind) {
        case VariableLocation::Kind::optimized_out:
          out.problem = "optimized out";
          break;
        case VariableLocation::Kind::unsupported:
          out.problem = "unavailable: " + variable.location.unsupported;
          break;
        case VariableLocation::Kind::program:
          if (auto where = evaluate(context, variable.location, false))
            describe(program, graph ? *graph : nullptr, variable, *where, out);
          else
            out.problem = where.error().message();
          break;
      }
      values.variables.push_back(std::move(out));
    }
    result.push_back(std::move(values));
  }
  return result;
}

}  // namespace coroner::unwind
