#include "analyzer/unwind/cfi_step.hpp"

#include <string>

namespace coroner::unwind {

namespace {

// "x29", or "DWARF register 70" for one the register set does not hold.
std::string register_name(const arch::Arch& arch, unsigned dwarf_number) {
  if (auto index = arch.dwarf_register(dwarf_number); index && *index < arch.register_names().size())
    return std::string(arch.register_names()[*index]);
  return fmt::format("DWARF register {}", dwarf_number);
}

}  // namespace

Expected<PhysicalFrame> apply_cfi(const symbols::CfiRow& row, const PhysicalFrame& frame, const arch::Arch& arch,
                                  const KernelMemory& memory, const ReturnAddressFilter& strip_return_address) {
  const uint64_t pc = frame.pc;
  if (!row.cfa_supported)
    return make_error(Errc::unsupported, "pc {:#x}: the CFA rule is a DWARF expression", pc);
  auto cfa_index = arch.dwarf_register(row.cfa_register);
  if (!cfa_index)
    return make_error(Errc::unsupported, "pc {:#x}: the CFA is based on {}, which is not tracked", pc,
                      register_name(arch, row.cfa_register));
  auto cfa_base = frame.registers.get(*cfa_index);
  if (!cfa_base)
    return make_error(Errc::not_found, "pc {:#x}: the CFA is based on {}, whose value is unknown", pc,
                      register_name(arch, row.cfa_register));
  const uint64_t cfa = *cfa_base + static_cast<uint64_t>(row.cfa_offset);

  // Rules read this frame's registers, never the caller's being built.
  PhysicalFrame caller;
  caller.registers = frame.registers;
  for (const auto& [number, rule] : row.rules) {
    auto index = arch.dwarf_register(number);
    if (!index) continue;  // a register the set does not hold (vector, pseudo registers)
    switch (rule.kind) {
      case symbols::CfiRule::Kind::same_value:
        break;
      case symbols::CfiRule::Kind::undefined:
      case symbols::CfiRule::Kind::unsupported:
        caller.registers.clear(*index);
        break;
      case symbols::CfiRule::Kind::is_cfa_offset:
        caller.registers.set(*index, cfa + static_cast<uint64_t>(rule.offset));
        break;
      case symbols::CfiRule::Kind::at_cfa_offset: {
        const uint64_t slot = cfa + static_cast<uint64_t>(rule.offset);
        auto value = memory.read_u64(slot);
        if (!value)
          return value.error().context(
              fmt::format("pc {:#x}: reading the saved {} at {:#x}", pc, register_name(arch, number), slot));
        caller.registers.set(*index, *value);
        break;
      }
      case symbols::CfiRule::Kind::in_register: {
        auto source = arch.dwarf_register(rule.reg);
        auto value = source ? frame.registers.get(*source) : std::nullopt;
        if (value)
          caller.registers.set(*index, *value);
        else
          caller.registers.clear(*index);
        break;
      }
    }
  }

  auto ra_index = arch.dwarf_register(row.return_address_register);
  auto return_address = ra_index ? caller.registers.get(*ra_index) : std::nullopt;
  if (!return_address)
    return make_error(Errc::not_found, "pc {:#x}: the return address ({}) is unknown", pc,
                      register_name(arch, row.return_address_register));
  caller.pc = strip_return_address ? strip_return_address(*return_address) : *return_address;
  caller.sp = cfa;
  caller.registers.set(arch.pc_register(), caller.pc);
  caller.registers.set(arch.sp_register(), caller.sp);
  caller.exact_pc = false;
  return caller;
}

}  // namespace coroner::unwind
