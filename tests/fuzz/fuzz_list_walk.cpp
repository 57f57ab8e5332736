// The bounded list_head walk behind the task list, the module list and
// every other kernel list: the input's tail is kernel memory (virtual =
// physical, repeated over the address space), so lists loop, cross and
// break wherever the input says.
#include "analyzer/arch/kernel_memory.hpp"
#include "analyzer/os/linux/list_walk.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tests/support/fake_arch.hpp"

#include <fuzzer/FuzzedDataProvider.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  FuzzedDataProvider input(data, size);
  uint64_t head = input.ConsumeIntegral<uint64_t>();
  uint64_t link_offset = input.ConsumeIntegralInRange<uint64_t>(0, 4096);
  linux_kernel::ListBudget budget{input.ConsumeIntegralInRange<size_t>(0, 10000), 0};
  // A nested walk from every entry, as the task list walks each thread list.
  bool nested = input.ConsumeBool();
  uint64_t nested_offset = input.ConsumeIntegralInRange<uint64_t>(0, 4096);
  std::vector<std::byte> bytes = input.ConsumeRemainingBytes<std::byte>();
  fuzz::CyclicMemory phys(bytes);
  test::FakeArch arch;
  KernelMemory memory(phys, arch);
  (void)linux_kernel::walk_list(memory, "fuzz list", head, link_offset, budget, [&](uint64_t container) -> Expected<void> {
    if (!nested) return {};
    return linux_kernel::walk_list(memory, "nested list", container + nested_offset, 0, budget,
                                   [](uint64_t) -> Expected<void> { return {}; });
  });
  return 0;
}
