// The parts of the Linux model that differ per architecture, one
// implementation per folder (x86_64/, aarch64/), chosen once per program by
// make_linux_arch -- the only place in the OS layer that looks at the
// machine. What is architecture but not OS (registers, paging, pointer
// authentication) is asked of arch::Arch; Linux code never names a concrete
// Arch.
#pragma once

#include "analyzer/program.hpp"
#include "analyzer/unwind/frame.hpp"

#include <cstdint>
#include <memory>
#include <string_view>

namespace coroner::linux_kernel {

class LinuxArch {
 public:
  virtual ~LinuxArch() = default;

  // The registers `task` saved when it was last switched out (where
  // context_switch left them), as the first frame of its trace: not the
  // exact pc of a running CPU (exact_pc false).
  virtual Expected<unwind::PhysicalFrame> switched_out_frame(const Program& program, uint64_t task) const = 0;
};

// The Linux pieces of `machine`; an error names a machine without them.
Expected<std::unique_ptr<LinuxArch>> make_linux_arch(Machine machine);

// One per folder, for make_linux_arch.
std::unique_ptr<LinuxArch> make_x86_64_linux();
std::unique_ptr<LinuxArch> make_aarch64_linux();

// The 64-bit member `member` of the `type` at `address` (offset from DWARF).
Expected<uint64_t> read_u64_member(const Program& program, uint64_t address, std::string_view type,
                                   std::string_view member);

}  // namespace coroner::linux_kernel
