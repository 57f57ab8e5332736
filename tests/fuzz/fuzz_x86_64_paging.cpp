// x86_64 page-table walks (4- and 5-level, 4K/2M/1G pages, SME bits) over
// tables the input describes: the input's tail is physical memory, repeated
// over the whole address space, so every entry points into it.
#include "analyzer/arch/x86_64/x86_64_paging.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <fuzzer/FuzzedDataProvider.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  FuzzedDataProvider input(data, size);
  arch::X86_64Paging paging;
  paging.levels = input.ConsumeBool() ? 5 : 4;
  paging.sme_mask = input.ConsumeBool() ? uint64_t{1} << input.ConsumeIntegralInRange(12, 51) : 0;
  uint64_t root = input.ConsumeIntegral<uint64_t>();
  uint64_t vaddrs[4];
  for (uint64_t& vaddr : vaddrs) vaddr = input.ConsumeIntegral<uint64_t>();
  std::vector<std::byte> memory_bytes = input.ConsumeRemainingBytes<std::byte>();
  fuzz::CyclicMemory memory(memory_bytes);
  arch::EntryReader read = fuzz::entry_reader(memory);
  for (uint64_t vaddr : vaddrs) {
    arch::Translation walk = arch::walk_x86_64(paging, root, vaddr, read);
    for (const arch::WalkStep& step : walk.steps) (void)arch::x86_64_entry_flags(step.entry, step.level == "PTE");
  }
  return 0;
}
