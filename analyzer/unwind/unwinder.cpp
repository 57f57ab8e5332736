#include "analyzer/unwind/unwinder.hpp"

namespace coroner::unwind {

std::unique_ptr<ArchUnwinder> make_unwinder(const Program& program) {
  // Program::open accepts only machines with an Arch, and each has an unwinder.
  if (program.arch().machine() == Machine::aarch64) return make_aarch64_unwinder(program);
  return make_x86_64_unwinder(program);
}

const ArchUnwinder& unwinder_of(const Program& program) {
  return program.extension<ArchUnwinder>([&] { return make_unwinder(program).release(); });
}

}  // namespace coroner::unwind
