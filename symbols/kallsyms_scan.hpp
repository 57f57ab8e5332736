// Finds the kallsyms tables of a kernel whose VMCOREINFO does not locate
// them (Linux before 6.0) by their structure in its read-only data:
// - kallsyms_token_table holds the single-character tokens in byte order,
//   so "0", "1", ... "9" lie there one after another, NUL-ended;
// - kallsyms_token_index, the next table, is 256 u16 offsets of those tokens;
// - kallsyms_markers, just before the token table (or before 6.1+'s
//   kallsyms_seqs_of_names, 3 bytes a symbol), are the offsets of every
//   256th name (u32 since Linux 4.20, unsigned long before), rising from 0;
// - kallsyms_names, just before the markers, walks from entry to entry (a
//   length byte, then that many token bytes) through every marker;
// - kallsyms_num_syms is the word just before the names.
// The addresses (kallsyms_offsets with kallsyms_relative_base, or
// kallsyms_addresses) lie before kallsyms_num_syms up to Linux 6.1, after
// the token index since; each table starts 8-byte aligned.
#pragma once

#include "symbols/kallsyms.hpp"

namespace coroner::symbols {

// The table sets whose structure fits, in [start, end) of kernel memory,
// for each way of laying out the addresses (relative before the names,
// absolute before, relative after the token index, absolute after): which
// is the kernel's only decoding and checking known symbols tells, so the
// caller decodes each in turn. Pages that cannot be read read as zeros (a
// filtered dump leaves out the image's pages of zeros); the error says
// nothing was found.
Expected<std::vector<KallsymsTables>> scan_kallsyms_tables(uint64_t start, uint64_t end, const ReadKernelMemory& read);

}  // namespace coroner::symbols
