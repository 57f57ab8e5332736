// The architecture of a FreeBSD minidump: the machine's register set, and
// a kernel address space made of the dump's own page-table section and
// direct map (freebsd_minidump_paging.hpp). translate() ignores `root`:
// a minidump holds the kernel's mappings only, no process's.
#pragma once

#include "analyzer/arch/arch.hpp"
#include "capture/format/freebsd_minidump.hpp"

namespace coroner::arch {

// `dump` must outlive the result (translations read its page-table section).
std::unique_ptr<Arch> make_minidump_arch(const freebsd::Minidump& dump);

}  // namespace coroner::arch
