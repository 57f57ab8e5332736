// The kernel log: the lockless ring buffer (5.10+) and the legacy log_buf,
// found and laid out by VMCOREINFO. The input is VMCOREINFO text, a NUL,
// then kernel memory: every address reads the bytes after the NUL,
// repeated (virtual = physical), so every pointer leads somewhere.
#include "analyzer/arch/kernel_memory.hpp"
#include "analyzer/os/linux/panic_message.hpp"
#include "analyzer/os/linux/printk_log.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tests/support/fake_arch.hpp"

#include <algorithm>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  const uint8_t* separator = std::find(data, data + size, 0);
  if (separator == data + size) return 0;
  VmcoreInfo info = VmcoreInfo::parse(std::string_view(reinterpret_cast<const char*>(data), separator - data));
  fuzz::CyclicMemory phys(fuzz::input_bytes(separator + 1, data + size - separator - 1));
  test::FakeArch arch;
  KernelMemory memory(phys, arch);
  std::vector<Error> skipped;
  auto log = linux_kernel::read_printk_log(info, memory, &skipped);
  if (!log) return 0;
  for (const linux_kernel::LogRecord& record : *log) (void)linux_kernel::format_log_line(record);
  (void)linux_kernel::find_panic_message(*log);
  return 0;
}
