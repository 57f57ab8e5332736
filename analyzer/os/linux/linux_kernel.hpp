// The Linux model of a Program: the OS model (analyzer/os_model.hpp) every
// Program of a Linux dump is opened with, built once per program by
// open_linux_kernel (ProgramOptions::os_model). It reads the kernel's
// modules for the program layer and holds what the Linux code needs per
// program. Higher layers reach it through kernel_model(program), never by a
// cast of their own.
#pragma once

#include "analyzer/os_model.hpp"
#include "analyzer/program.hpp"

#include <memory>

namespace coroner::linux_kernel {

class LinuxKernel final : public OsModel {
 public:
  explicit LinuxKernel(const Program& program) : program_(program) {}

  std::string_view name() const override { return "linux"; }
  // read_and_attach_modules (modules.hpp).
  Expected<KernelModules> read_modules() const override;

  const Program& program() const { return program_; }

 private:
  const Program& program_;
};

// The OsModelFactory of Linux dumps: ProgramOptions::os_model =
// linux_kernel::open_linux_kernel.
Expected<std::unique_ptr<OsModel>> open_linux_kernel(const Program& program);

// The Linux model of a program; an error when it was opened with another
// OS model.
Expected<const LinuxKernel*> kernel_model(const Program& program);

}  // namespace coroner::linux_kernel
