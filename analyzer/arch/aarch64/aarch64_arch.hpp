// arm64: 4K/16K/64K granules, 3 or 4 levels, VA_BITS 39..52, kimage_voffset
// and PHYS_OFFSET from VMCOREINFO, user_pt_regs.
#pragma once

#include "analyzer/arch/arch.hpp"

namespace coroner::arch {

Expected<std::unique_ptr<Arch>> make_aarch64_arch(const VmcoreInfo& info);

}  // namespace coroner::arch
