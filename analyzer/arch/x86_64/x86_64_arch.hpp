// x86_64: 4- and 5-level paging, KASLR from VMCOREINFO, user_regs_struct.
#pragma once

#include "analyzer/arch/arch.hpp"

namespace coroner::arch {

Expected<std::unique_ptr<Arch>> make_x86_64_arch(const VmcoreInfo& info);

}  // namespace coroner::arch
