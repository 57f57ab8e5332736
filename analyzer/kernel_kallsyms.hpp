// The dumped kernel's kallsyms symbol table, found through VMCOREINFO (Linux
// 6.0+) or by scanning the kernel image (before: symbols/kallsyms_scan) and
// read from kernel memory: the symbol names and addresses a dump carries
// without its vmlinux.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "capture/format/vmcoreinfo.hpp"
#include "symbols/kallsyms.hpp"

namespace coroner {

// The tables' addresses from VMCOREINFO's SYMBOL(kallsyms_*) entries, which
// Linux writes since 6.0; the error of an older kernel says so.
Expected<symbols::KallsymsTables> kallsyms_tables(const VmcoreInfo& info);

// The kernel's symbols (not its modules') as the running kernel saw them.
// Without VMCOREINFO's entries, the tables found in the image whose symbols
// agree with VMCOREINFO's SYMBOL() addresses.
Expected<symbols::SymbolTable> read_kernel_kallsyms(const VmcoreInfo& info, const KernelMemory& memory);

}  // namespace coroner
