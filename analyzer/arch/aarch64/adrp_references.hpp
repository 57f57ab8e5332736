// The data addresses an arm64 function's code forms: ADRP gives a 4 KiB
// page, and the ADD, LDR or STR on that register adds the low bits. A kernel
// without data symbols in kallsyms (no CONFIG_KALLSYMS_ALL) is found its
// globals this way: a function known to use one names it in its code.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace coroner::arch {

// Every address formed from an ADRP in `code` (instructions at pc, pc + 4,
// ...): page + an ADD immediate, and page (+ ADD) + the
// immediate of a load or store (of one register or a pair) through that
// register; in the order met,
// without repeats. Calls forget the caller-saved registers.
std::vector<uint64_t> adrp_references(std::span<const std::byte> code, uint64_t pc);

}  // namespace coroner::arch
