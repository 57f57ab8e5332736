// A real fixture dump opened down to kernel virtual memory: the dump, its
// VMCOREINFO, the Arch made from them and the KernelMemory reading through
// the kernel's page tables. Needs only coroner_arch and coroner_format, so
// every test binary can use it.
#pragma once

#include "analyzer/arch/arch.hpp"
#include "analyzer/arch/kernel_memory.hpp"
#include "capture/format/dump.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <memory>

namespace coroner::test {

struct OpenedKernel {
  std::unique_ptr<Dump> dump;
  VmcoreInfo info;
  std::unique_ptr<arch::Arch> arch;
  std::unique_ptr<KernelMemory> memory;
};

// Fails the calling test, naming the dump, when any step fails.
inline OpenedKernel open_kernel_memory(const DumpCase& c) {
  OpenedKernel o;
  auto dump = open_dump(c.files());
  if (!dump) FAIL(c.id << ": " << dump.error().message());
  o.dump = std::move(*dump);
  auto text = o.dump->vmcoreinfo_text();
  if (!text) FAIL(c.id << ": the dump has no VMCOREINFO");
  o.info = VmcoreInfo::parse(*text);
  auto arch = arch::make_arch(o.dump->machine(), o.info);
  if (!arch) FAIL(c.id << ": " << arch.error().message());
  o.arch = std::move(*arch);
  o.memory = std::make_unique<KernelMemory>(*o.dump, *o.arch);
  return o;
}

}  // namespace coroner::test
