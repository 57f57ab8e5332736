// arm64 translation-table walks (4K/16K/64K granules, 2 to 5 levels,
// 52-bit LPA/LPA2, blocks, TBI) over tables the input describes: the
// input's tail is physical memory, repeated over the whole address space.
#include "analyzer/arch/aarch64/aarch64_paging.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <fuzzer/FuzzedDataProvider.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  FuzzedDataProvider input(data, size);
  uint64_t page_size = uint64_t{4096} << (2 * input.ConsumeIntegralInRange(0, 2));
  unsigned va_bits = input.ConsumeIntegralInRange(24, 56);
  bool lpa = input.ConsumeBool();
  uint64_t root = input.ConsumeIntegral<uint64_t>();
  uint64_t vaddrs[4];
  for (uint64_t& vaddr : vaddrs) vaddr = input.ConsumeIntegral<uint64_t>();
  auto paging = arch::make_aarch64_paging(page_size, va_bits, lpa);
  if (!paging) return 0;
  std::vector<std::byte> memory_bytes = input.ConsumeRemainingBytes<std::byte>();
  fuzz::CyclicMemory memory(memory_bytes);
  arch::EntryReader read = fuzz::entry_reader(memory);
  for (uint64_t vaddr : vaddrs) (void)arch::walk_aarch64(*paging, root, vaddr, read);
  return 0;
}
