// Kernel modules of the dumped Linux kernel: the `modules` list, each
// struct module's name, core memory, section addresses and build-id (field
// layout from DWARF: `mem[]` since 6.4, `core_layout` from 4.5, section
// addresses from `sect_attrs` and the build-id from `notes_attrs` when
// sysfs kept them), and their object files found by name and build-id.
// The Linux model (linux_kernel.hpp) reads them for the Program with
// read_and_attach_modules, so that symbol lookups and `mod` see the modules
// with their debug info attached automatically.
#pragma once

#include "analyzer/program.hpp"

#include <string>
#include <vector>

namespace coroner::linux_kernel {

// Every module of the kernel's `modules` list, in list order, without
// objects attached. Bounded: a looping or broken list, or a struct module
// that cannot be read, goes into `skipped` naming where it went wrong, and
// the modules read until then are kept. An error only when the list cannot
// be found at all (no `modules` symbol, no struct module in the DWARF).
Expected<ModuleList> read_modules(const Program& program);

// Where module objects are looked for, in order: --mod-path directories,
// vmlinux's directory, /lib/modules/RELEASE and
// /usr/lib/debug/lib/modules/RELEASE (those that exist).
std::vector<std::string> module_search_dirs(const Program& program);

// Attaches an object to each module in `modules` that has none (or to all,
// when `replace`): the first NAME.ko or NAME.ko.debug under dirs ('-' and
// '_' alike; searched recursively, to a bounded depth) whose build-id
// matches. A module with no match gets the reason in `problem`.
// Returns how many modules got an object.
size_t attach_objects(const KernelModules& modules, const std::vector<std::string>& dirs, bool replace = false);

// read_modules + attach_objects(module_search_dirs), and the kernel's
// kallsyms copy for a module without an object: what Program::modules()
// holds (through LinuxKernel::read_modules).
Expected<ModuleList> read_and_attach_modules(const Program& program);

}  // namespace coroner::linux_kernel
