// What the tests comparing vmlinux's two unwind routes (the file, the dump
// alone) share: the dumps they run on and a trace of physical frames.
#pragma once

#include "analyzer/unwind/stack_trace.hpp"
#include "tests/support/fixtures.hpp"

#include <string_view>
#include <vector>

namespace coroner::test {

// One dump of each kernel state of an architecture's fixtures ("x86_64",
// "arm64"): the oops's filtered kdump and QEMU's unfiltered dump of the panic.
inline std::vector<const DumpCase*> route_dumps(std::string_view arch) {
  std::vector<const DumpCase*> dumps;
  for (const DumpCase& c : all_dumps())
    if (c.arch_dir.find(arch) != std::string::npos && (c.variant == "d31" || c.variant == "kdump-zlib"))
      dumps.push_back(&c);
  return dumps;
}

// The trace from start with the frames the stack holds: no inline frames or
// source lines (a session without the vmlinux has neither).
inline unwind::StackTrace physical_trace(const Program& program, const unwind::ArchUnwinder& unwinder,
                                         const unwind::PhysicalFrame& start) {
  unwind::TraceOptions options;
  options.inline_frames = false;
  options.source_lines = false;
  return unwind::unwind(program, unwinder, start, options);
}

}  // namespace coroner::test
