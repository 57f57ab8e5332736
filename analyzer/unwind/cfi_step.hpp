// Applying a DWARF CFI row: the caller's registers from this frame's
// registers and the stack. Architecture-neutral: registers are mapped from
// DWARF numbers through Arch::dwarf_register.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "analyzer/unwind/frame.hpp"
#include "symbols/cfi_table.hpp"

#include <cstdint>
#include <functional>

namespace coroner::unwind {

// Clears what an ISA keeps in the high bits of a return address (arm64's
// pointer-authentication code) before it is used as the caller's pc.
using ReturnAddressFilter = std::function<uint64_t(uint64_t)>;

// The caller's frame (exact_pc false: its pc is the return address). The
// caller's sp is the CFA; registers without a rule keep their value. An
// error names what could not be read or evaluated (an unknown return
// address is one).
Expected<PhysicalFrame> apply_cfi(const symbols::CfiRow& row, const PhysicalFrame& frame, const arch::Arch& arch,
                                  const KernelMemory& memory, const ReturnAddressFilter& strip_return_address = {});

}  // namespace coroner::unwind
