// The kernel's own symbol table (kallsyms) decoded out of its memory: the
// names compressed with the token table, the type letter, and the addresses
// as relative offsets (CONFIG_KALLSYMS_BASE_RELATIVE) or absolute values.
// Knows nothing of dumps: memory comes through a read callback, the tables'
// addresses from the caller (VMCOREINFO since Linux 6.0: analyzer/kernel_kallsyms).
// 64-bit little-endian kernels (x86_64, arm64).
#pragma once

#include "capture/format/error.hpp"
#include "symbols/elf_symbols.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace coroner::symbols {

// Run-time addresses of the kallsyms tables (scripts/kallsyms emits them).
struct KallsymsTables {
  uint64_t num_syms = 0;       // kallsyms_num_syms (an unsigned int)
  uint64_t names = 0;          // kallsyms_names
  uint64_t token_table = 0;    // kallsyms_token_table: 256 NUL-ended tokens
  uint64_t token_index = 0;    // kallsyms_token_index: u16[256] offsets into it
  // Either kallsyms_offsets (int[num_syms]) with kallsyms_relative_base ...
  uint64_t offsets = 0;
  uint64_t relative_base = 0;
  // ... or kallsyms_addresses (unsigned long[num_syms]); 0 when absent.
  uint64_t addresses = 0;
};

// Reads `length` bytes of kernel virtual memory at `address`.
using ReadKernelMemory = std::function<Expected<std::vector<std::byte>>(uint64_t address, size_t length)>;

// More symbols than any kernel has (a Debian kernel: ~150k; allyesconfig: ~600k).
inline constexpr uint32_t kMaxKallsyms = 1u << 22;

// The symbols in kallsyms order (by address), addresses as the running
// kernel sees them (after KASLR), sizes up to the next greater address (0
// for the last). With offsets, CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86_64 SMP)
// is recognised by negative offsets: there non-negative ones are absolute
// values (the per-CPU offsets) and a negative one is relative_base - 1 -
// offset. Errors name the table and the address that failed.
Expected<std::vector<Symbol>> decode_kallsyms(const KallsymsTables& tables, const ReadKernelMemory& read);

}  // namespace coroner::symbols
