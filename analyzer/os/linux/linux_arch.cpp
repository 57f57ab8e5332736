#include "analyzer/os/linux/linux_arch.hpp"

namespace coroner::linux_kernel {

Expected<std::unique_ptr<LinuxArch>> make_linux_arch(Machine machine) {
  switch (machine) {
    case Machine::x86_64: return make_x86_64_linux();
    case Machine::aarch64: return make_aarch64_linux();
    case Machine::unknown: break;
  }
  return make_error(Errc::unsupported, "no Linux model for machine {}", machine_name(machine));
}

Expected<uint64_t> read_u64_member(const Program& program, uint64_t address, std::string_view type,
                                   std::string_view member) {
  CORONER_TRY(offset, program.member_offset(type, member));
  return program.memory().read_u64(address + offset);
}

}  // namespace coroner::linux_kernel
