#include "analyzer/os/os_models.hpp"

#include "analyzer/os/freebsd/freebsd_kernel.hpp"
#include "analyzer/os/linux/linux_kernel.hpp"

namespace coroner::os {

Expected<std::unique_ptr<OsModel>> open_os_model(const Program& program) {
  if (dynamic_cast<const freebsd::Minidump*>(&program.dump())) return freebsd_kernel::open_freebsd_kernel(program);
  return linux_kernel::open_linux_kernel(program);
}

}  // namespace coroner::os
