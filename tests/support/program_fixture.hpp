// Opens a fixture dump as coroner does: its vmlinux, its files, the test
// cache, and the fixture folder that holds fx_crash.ko as --mod-path (the
// decompressed vmlinux is not beside the module), with the Linux model as
// its OS model. For test binaries that link the Linux model.
#pragma once

#include "analyzer/os/linux/linux_kernel.hpp"
#include "analyzer/program.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <memory>

namespace coroner::test {

inline ProgramOptions program_options(const DumpCase& dump, std::vector<std::string> module_dirs = {}) {
  ProgramOptions options;
  options.vmlinux = dump.vmlinux();
  options.dumps = dump.files();
  options.cache_dir = (cache_dir() / "coroner").string();
  options.module_dirs = module_dirs.empty()
                            ? std::vector<std::string>{fs::path(dump.module_path()).parent_path().string()}
                            : std::move(module_dirs);
  options.os_model = linux_kernel::open_linux_kernel;
  return options;
}

inline std::unique_ptr<Program> open_program(const ProgramOptions& options, const std::string& what) {
  auto program = Program::open(options);
  if (!program) FAIL(what << ": cannot open: " << program.error().message());
  return std::move(*program);
}

inline std::unique_ptr<Program> open_program(const DumpCase& dump) {
  return open_program(program_options(dump), dump.id);
}

}  // namespace coroner::test
