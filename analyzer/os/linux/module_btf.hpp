// The modules' split BTF (5.11+, CONFIG_DEBUG_INFO_BTF_MODULES). The kernel
// parses each module's .BTF into a struct btf on its btf_modules list
// (kernel/bpf/btf.c) and keeps the bytes there (btf->data); the module's
// own pointer to them (module.btf_data) is cleared once it is loaded.
// Without a vmlinux or the .ko, those bytes give the module's types, on top
// of the kernel's BTF.
#pragma once

#include "analyzer/program.hpp"

namespace coroner::linux_kernel {

// Gives each module without an object file its BTF from the list
// (KernelModule::use_memory_btf); nothing when kallsyms do not name the
// list. The error says why the list cannot be read; modules before the
// damage keep theirs.
Expected<void> attach_module_btf(const Program& program, const KernelModules& modules);

}  // namespace coroner::linux_kernel
