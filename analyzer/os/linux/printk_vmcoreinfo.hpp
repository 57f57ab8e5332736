// The VMCOREINFO keys the printk reader (printk_log.hpp) works from, for the
// analyzer: the dump's own keys, and where the dump lacks some -- a QEMU dump
// taken without the vmcoreinfo device, a kernel that exports fewer keys --
// the same keys computed from the kernel's symbols and DWARF. A dump that
// has them all is read from VMCOREINFO alone, without opening the DWARF.
#pragma once

#include "analyzer/program.hpp"

namespace coroner::linux_kernel {

// `base` plus every printk key it lacks that the symbols and DWARF give:
// those of the lockless ring when the kernel has `prb`, else those of the
// legacy log_buf (struct printk_log, or struct log before 3.11). Keys the
// DWARF cannot give stay missing; the reader names them.
VmcoreInfo with_printk_keys(const Program& program, const VmcoreInfo& base);

// with_printk_keys(program, program.vmcoreinfo()).
VmcoreInfo printk_vmcoreinfo(const Program& program);

}  // namespace coroner::linux_kernel
