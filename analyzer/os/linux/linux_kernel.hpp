// The Linux model of a Program: the OS model (analyzer/os_model.hpp) every
// Program of a Linux dump is opened with, built once per program by
// open_linux_kernel (ProgramOptions::os_model). It reads the kernel's
// modules for the program layer and holds what the Linux code needs per
// program, such as the architecture's Linux pieces (linux_arch.hpp). Higher
// layers reach it through kernel_model(program), never by a cast of their own.
#pragma once

#include "analyzer/os/linux/linux_arch.hpp"
#include "analyzer/os_model.hpp"
#include "analyzer/program.hpp"

#include <memory>

namespace coroner::linux_kernel {

class LinuxKernel final : public OsModel {
 public:
  LinuxKernel(const Program& program, std::unique_ptr<LinuxArch> arch)
      : program_(program), arch_(std::move(arch)) {}

  std::string_view name() const override { return "linux"; }
  std::string_view display_name() const override { return "Linux"; }
  // read_and_attach_modules (modules.hpp).
  Expected<ModuleList> read_modules() const override;
  // The layouts layout_inference/kernel_layouts.hpp finds, as BTF.
  Expected<InferredTypes> infer_types() const override;

  const Program& program() const { return program_; }
  // What differs per architecture (the switched-out registers of a task).
  const LinuxArch& arch() const { return *arch_; }

 private:
  const Program& program_;
  std::unique_ptr<LinuxArch> arch_;
};

// The OsModelFactory of Linux dumps: ProgramOptions::os_model =
// linux_kernel::open_linux_kernel. Errors name an unsupported machine.
Expected<std::unique_ptr<OsModel>> open_linux_kernel(const Program& program);

// The Linux model of a program; an error when it was opened with another
// OS model.
Expected<const LinuxKernel*> kernel_model(const Program& program);

}  // namespace coroner::linux_kernel
