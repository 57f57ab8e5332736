#include "analyzer/os/linux/linux_kernel.hpp"

#include "analyzer/os/linux/layout_inference/kernel_layouts.hpp"
#include "analyzer/os/linux/modules.hpp"

namespace coroner::linux_kernel {

Expected<ModuleList> LinuxKernel::read_modules() const { return read_and_attach_modules(program_); }

Expected<InferredTypes> LinuxKernel::infer_types() const {
  inference::InferredLayouts inferred = inference::infer_kernel_layouts(program_);
  CORONER_TRY(btf, symbols::synthetic_btf(inferred.layouts));
  return InferredTypes{std::move(btf), std::move(inferred.missing)};
}

Expected<std::unique_ptr<OsModel>> open_linux_kernel(const Program& program) {
  if (program.debuginfo_source() == DebugInfoSource::none)  // a dump opened without any kernel symbols
    return make_error(Errc::unsupported, "{}: {}: not a Linux kernel dump", program.dump().files().front(),
                      program.dump().description());
  CORONER_TRY(arch, make_linux_arch(program.arch().machine()));
  return std::unique_ptr<OsModel>(std::make_unique<LinuxKernel>(program, std::move(arch)));
}

Expected<const LinuxKernel*> kernel_model(const Program& program) {
  // The one downcast from the program's OS model to Linux's.
  if (const auto* linux_model = dynamic_cast<const LinuxKernel*>(&program.os())) return linux_model;
  return make_error(Errc::unsupported, "the program was opened with the {} OS model, not Linux's",
                    program.os().name());
}

}  // namespace coroner::linux_kernel
