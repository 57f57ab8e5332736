// ELF vmcores: the ELF header, program headers (PT_LOAD, PT_NOTE), the
// notes and VMCOREINFO in them, and reads of the physical memory they map.
#include "capture/format/elf_vmcore.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  auto dump = open_elf_dump(std::make_shared<fuzz::InputSource>(fuzz::input_bytes(data, size)));
  if (dump) fuzz::exercise_dump(**dump);
  return 0;
}
