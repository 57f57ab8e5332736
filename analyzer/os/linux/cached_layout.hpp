// A layout of kernel structures (offsets from DWARF) read once per program
// and kept with it: walks that run for every task or file ask for it often.
#pragma once

#include "analyzer/program.hpp"

namespace coroner::linux_kernel {

template <typename Layout>
Expected<Layout> cached_layout(const Program& program, Expected<Layout> (*read)(const Program&)) {
  struct Cached {
    Expected<Layout> layout;
  };
  return program.extension<Cached>([&] { return new Cached{read(program)}; }).layout;
}

}  // namespace coroner::linux_kernel
