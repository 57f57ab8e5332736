// What the program layer needs from the operating system of a dump: one
// object per Program, built once when the Program opens and owned by it
// (after drgn's program flags / platform and crash's kernel_table). The
// program layer cannot depend on an OS layer, so the OS model implements
// this interface (analyzer/os/linux/linux_kernel.hpp: LinuxKernel) and is
// handed in through ProgramOptions::os_model; a higher layer reaches its
// concrete model through that model's own accessor (linux_kernel::kernel()).
//
// Today the program needs the kernel's modules (symbol lookups and
// unwinding span them). State of the OS model that only higher layers use --
// tasks, per-CPU data, the log -- lives in the concrete model, not here;
// add a member here only when the program layer itself needs it.
#pragma once

#include "analyzer/kernel_module.hpp"
#include "capture/format/error.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace coroner {

class Program;

using KernelModules = std::vector<std::unique_ptr<KernelModule>>;

// The modules that could be read, and what could not: a struct module that
// is unreadable, or a list broken by a loop or a pointer that cannot be
// followed. The modules before the damage are kept.
struct ModuleList {
  KernelModules modules;
  std::vector<Error> skipped;
};

// What OsModel::infer_types found: the layouts as raw BTF, and the parts it
// could not infer, each with why ("task_struct: ..."): the commands that
// need those parts fail naming it, the others answer.
struct InferredTypes {
  std::vector<std::byte> btf;
  std::vector<std::string> missing;
};

class OsModel {
 public:
  virtual ~OsModel() = default;

  virtual std::string_view name() const = 0;          // "linux"
  virtual std::string_view display_name() const = 0;  // "Linux", for messages

  // The dump's kernel modules with their objects attached where they were
  // found. Program::modules() calls it once and keeps the result.
  virtual Expected<ModuleList> read_modules() const = 0;

  // Without DWARF or BTF: the layouts of the structures the model reads,
  // found in the dump's memory, as raw BTF (symbols/synthetic_btf.hpp).
  // Program::debug_info() calls it once, while it opens the types: it may
  // read memory and symbols, never types. By default a model cannot.
  virtual Expected<InferredTypes> infer_types() const {
    return make_error(Errc::unsupported, "the {} model cannot infer types from memory", display_name());
  }
};

// Builds the OS model of an opened Program (its dump, architecture and
// symbols are ready; the model may keep the reference: the Program owns it).
// The error says why this OS model does not fit the dump.
using OsModelFactory = std::function<Expected<std::unique_ptr<OsModel>>(const Program& program)>;

}  // namespace coroner
