#include "symbols/frame_variables.hpp"

#include <fmt/format.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/BinaryFormat/Dwarf.h>
#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/DWARF/DWARFExpression.h>
#include <llvm/DebugInfo/DWARF/DWARFFormValue.h>
#include <llvm/DebugInfo/DWARF/DWARFLocationExpression.h>
#include <llvm/DebugInfo/DWARF/DWARFUnit.h>

#include <algorithm>
#include <set>

namespace coroner::symbols {

namespace {

using namespace llvm::dwarf;

VariableLocation unsupported(std::string what) {
  VariableLocation location;
  location.kind = VariableLocation::Kind::unsupported;
  location.unsupported = std::move(what);
  return location;
}

std::string operation_name(uint8_t code) {
  llvm::StringRef name = OperationEncodingString(code);
  return name.empty() ? fmt::format("DW_OP {:#x}", code) : name.str();
}

// One DWARF expression as LocationSteps; any operation beyond them makes
// the whole location unsupported.
VariableLocation decode(llvm::ArrayRef<uint8_t> bytes, const llvm::DWARFUnit& unit, bool relocatable) {
  VariableLocation location;
  if (bytes.empty()) return location;  // an empty expression: optimized out
  location.kind = VariableLocation::Kind::program;
  llvm::DataExtractor data(llvm::toStringRef(bytes), unit.getContext().isLittleEndian(), unit.getAddressByteSize());
  llvm::DWARFExpression expression(data, unit.getAddressByteSize(), unit.getFormParams().Format);
  bool piece = false;
  auto push = [&](LocationOp op, uint64_t number = 0, int64_t offset = 0) {
    location.steps.push_back({op, number, offset});
  };
  for (const llvm::DWARFExpression::Operation& op : expression) {
    if (op.isError()) return unsupported("a malformed DWARF expression");
    // A piece ends the expression of a variable held in one place; a second
    // place (a struct split across registers) is beyond these programs.
    if (piece) return unsupported("DW_OP_piece (several pieces)");
    const uint8_t code = op.getCode();
    auto operand = [&](unsigned i) { return op.getRawOperand(i); };
    if (code >= DW_OP_reg0 && code <= DW_OP_reg31) push(LocationOp::reg, code - DW_OP_reg0);
    else if (code == DW_OP_regx) push(LocationOp::reg, operand(0));
    else if (code >= DW_OP_breg0 && code <= DW_OP_breg31)
      push(LocationOp::breg, code - DW_OP_breg0, static_cast<int64_t>(operand(0)));
    else if (code == DW_OP_bregx) push(LocationOp::breg, operand(0), static_cast<int64_t>(operand(1)));
    else if (code == DW_OP_fbreg) push(LocationOp::fbreg, 0, static_cast<int64_t>(operand(0)));
    else if (code == DW_OP_call_frame_cfa) push(LocationOp::call_frame_cfa);
    else if (code == DW_OP_addr) {
      // The expression's bytes of a .ko are not relocated.
      if (relocatable) return unsupported("DW_OP_addr in a relocatable object");
      push(LocationOp::address, operand(0));
    } else if (code >= DW_OP_lit0 && code <= DW_OP_lit31) push(LocationOp::constant, code - DW_OP_lit0);
    else if ((code >= DW_OP_const1u && code <= DW_OP_consts)) push(LocationOp::constant, operand(0));
    else if (code == DW_OP_plus_uconst) push(LocationOp::plus_uconst, operand(0));
    else if (code == DW_OP_stack_value) push(LocationOp::stack_value);
    else if (code == DW_OP_piece) piece = true;
    else return unsupported(operation_name(code));
  }
  return location;
}

// The location of attribute `attribute` (DW_AT_location, DW_AT_frame_base)
// of die at `address`: a single expression, or the location list entry
// whose range holds address (else the list's default entry).
VariableLocation location_at(const llvm::DWARFDie& die, Attribute attribute, uint64_t address, bool relocatable) {
  if (!die.find(attribute)) {
    // A constant the compiler folded: its value, not a place.
    if (attribute == DW_AT_location)
      if (auto value = die.find(DW_AT_const_value)) {
        if (auto number = value->getAsUnsignedConstant()) {
          VariableLocation location;
          location.kind = VariableLocation::Kind::program;
          location.steps = {{LocationOp::constant, *number, 0}, {LocationOp::stack_value, 0, 0}};
          return location;
        }
        return unsupported("DW_AT_const_value block");
      }
    return {};
  }
  auto entries = die.getLocations(attribute);
  if (!entries) {
    llvm::consumeError(entries.takeError());
    return unsupported(fmt::format("an unreadable location list (DIE {:#x})", die.getOffset()));
  }
  const llvm::DWARFLocationExpression* fallback = nullptr;
  for (const llvm::DWARFLocationExpression& entry : *entries) {
    if (!entry.Range) fallback = &entry;
    else if (address >= entry.Range->LowPC && address < entry.Range->HighPC)
      return decode(entry.Expr, *die.getDwarfUnit(), relocatable);
  }
  return fallback ? decode(fallback->Expr, *die.getDwarfUnit(), relocatable) : VariableLocation{};
}

llvm::DWARFDie abstract_origin(const llvm::DWARFDie& die) {
  return die.getAttributeValueAsReferencedDie(DW_AT_abstract_origin);
}

FrameVariable variable_of(const llvm::DWARFDie& die, const llvm::DWARFDie& origin, VariableLocation location) {
  FrameVariable variable;
  if (auto name = die.findRecursively({DW_AT_name})) variable.name = llvm::dwarf::toString(*name, "");
  variable.parameter = die.getTag() == DW_TAG_formal_parameter;
  const llvm::DWARFDie& typed = die.find(DW_AT_type) || !origin ? die : origin;
  if (llvm::DWARFDie type = typed.getAttributeValueAsReferencedDie(DW_AT_type)) variable.type_die = type.getOffset();
  variable.location = std::move(location);
  return variable;
}

bool is_variable(const llvm::DWARFDie& die) {
  const auto tag = die.getTag();
  return (tag == DW_TAG_formal_parameter || tag == DW_TAG_variable) && !die.find(DW_AT_declaration);
}

// The variables of scope and of its lexical blocks that hold address (not
// of inlined calls: they are frames of their own); `seen` collects the
// abstract DIEs they are instances of.
void collect_scope(const llvm::DWARFDie& scope, uint64_t address, bool relocatable, FunctionVariables& out,
                   std::set<uint64_t>& seen) {
  for (const llvm::DWARFDie& child : scope.children()) {
    if (is_variable(child)) {
      llvm::DWARFDie origin = abstract_origin(child);
      if (origin) seen.insert(origin.getOffset());
      out.variables.push_back(variable_of(child, origin, location_at(child, DW_AT_location, address, relocatable)));
    } else if (child.getTag() == DW_TAG_lexical_block && child.addressRangeContainsAddress(address)) {
      collect_scope(child, address, relocatable, out, seen);
    }
  }
}

}  // namespace

std::vector<FunctionVariables> collect_frame_variables(llvm::ArrayRef<llvm::DWARFDie> chain, uint64_t address,
                                                        bool relocatable) {
  std::vector<FunctionVariables> functions;
  if (chain.empty()) return functions;
  VariableLocation frame_base = location_at(chain.back(), DW_AT_frame_base, address, relocatable);
  for (const llvm::DWARFDie& function : chain) {
    FunctionVariables out;
    if (const char* name = function.getSubroutineName(llvm::DINameKind::ShortName)) out.function = name;
    out.frame_base = frame_base;
    std::set<uint64_t> seen;
    collect_scope(function, address, relocatable, out, seen);
    // Parameters and variables of the abstract function that this instance
    // has no DIE for: the compiler kept nothing of them.
    if (llvm::DWARFDie origin = abstract_origin(function))
      for (const llvm::DWARFDie& child : origin.children())
        if (is_variable(child) && !seen.count(child.getOffset())) out.variables.push_back(variable_of(child, {}, {}));
    std::stable_partition(out.variables.begin(), out.variables.end(), [](const FrameVariable& v) { return v.parameter; });
    functions.push_back(std::move(out));
  }
  return functions;
}

}  // namespace coroner::symbols
