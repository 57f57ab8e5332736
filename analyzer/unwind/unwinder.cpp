#include "analyzer/unwind/unwinder.hpp"

namespace coroner::unwind {

UnwindSource unwind_source(const Program& program) {
  return program.vmlinux_path().empty() ? UnwindSource::dump : UnwindSource::vmlinux_file;
}

std::unique_ptr<ArchUnwinder> make_unwinder(const Program& program) {
  const UnwindSource source = unwind_source(program);
  // Program::open accepts only machines with an Arch, and each has an unwinder.
  if (program.arch().machine() == Machine::aarch64) return make_aarch64_unwinder(program, source);
  return make_x86_64_unwinder(program, source);
}

const ArchUnwinder& unwinder_of(const Program& program) {
  return program.extension<ArchUnwinder>([&] { return make_unwinder(program).release(); });
}

}  // namespace coroner::unwind
