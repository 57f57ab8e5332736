// The kernel's .BTF found by scanning its image in the dump, for kernels
// whose kallsyms do not say where it lies: without CONFIG_KALLSYMS_ALL
// (Debian's arm64 kernels) kallsyms hold functions only, so there is no
// __start_BTF. .BTF lies in the read-only data between _etext and
// __init_begin (or _sinittext), which kallsyms keep as section markers.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "symbols/debug_info.hpp"
#include "symbols/elf_symbols.hpp"

#include <memory>

namespace coroner {

struct ScannedBtf {
  uint64_t address = 0;  // where the BTF header lies
  uint64_t size = 0;     // header, types and strings
  std::unique_ptr<symbols::DebugInfo> types;
};

// The first BTF blob in [_etext, __init_begin) with a sane header (magic
// 0xeB9F, version 1, sections in bounds) that libbpf parses and that
// describes struct task_struct; anything else is passed over. The error
// names the range scanned. dump names the dump in errors and descriptions.
Expected<ScannedBtf> scan_kernel_btf(const KernelMemory& memory, const symbols::SymbolTable& table,
                                     const std::string& dump);

}  // namespace coroner
