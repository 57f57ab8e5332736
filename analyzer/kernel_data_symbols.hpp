// The kernel globals the Linux model reads, found without data symbols:
// Debian's arm64 kernels are built without CONFIG_KALLSYMS_ALL, so their
// kallsyms name functions (and section markers) only. Each global is found
// from the code of a function known to use it (arm64 ADRP references,
// analyzer/arch/aarch64/adrp_references.hpp) or from memory reached from
// one found before, with BTF's layouts, and is kept only when what it
// holds checks out (a runqueue whose cpu is its CPU, an idle task called
// swapper/N, a list whose links agree): a wrong guess is refused, never used.
// README "Without a vmlinux" lists the table. (Linux's structures, like
// kernel_kallsyms.hpp: Program::open() needs them before the OS model.)
#pragma once

#include "analyzer/program.hpp"

#include <string_view>

namespace coroner {

// The section of the symbols found here (kallsyms' own have none).
inline constexpr std::string_view kFoundDataSection = ".data (found, not in kallsyms)";

// Whether a timekeeper's wall clock (seconds since the epoch) is one a
// dumped kernel can hold: 2000 to 2100. Telling timekeepers from other
// memory, here and in layout inference.
constexpr bool plausible_wall_clock(int64_t seconds) { return seconds > 946684800 && seconds < 4102444800; }

// How `name` is found without a data symbol (one line), or "" for a name
// not in the table.
std::string_view data_symbol_method(std::string_view name);

// Every global of the table that could be found and checked, as symbols
// in kFoundDataSection; the error says what was missing when not even the
// per-CPU areas (and so the runqueues and init_task) could be found.
// Program::open() calls it with the kallsyms table and BTF open.
Expected<std::vector<symbols::Symbol>> find_data_symbols(const Program& program);

}  // namespace coroner
