#include "analyzer/arch/arch.hpp"

#include "analyzer/arch/aarch64/aarch64_arch.hpp"
#include "analyzer/arch/x86_64/x86_64_arch.hpp"

namespace coroner::arch {

Expected<std::unique_ptr<Arch>> make_arch(Machine machine, const VmcoreInfo& info) {
  switch (machine) {
    case Machine::x86_64: return make_x86_64_arch(info);
    case Machine::aarch64: return make_aarch64_arch(info);
    case Machine::unknown: break;
  }
  return make_error(Errc::unsupported, "unknown machine type: only x86_64 and arm64 dumps are supported");
}

}  // namespace coroner::arch
