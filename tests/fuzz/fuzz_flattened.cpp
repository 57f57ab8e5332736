// makedumpfile's flattened streams: the header block and the record index,
// then the reassembled file read back across record boundaries and opened
// as the kdump or ELF dump it holds.
#include "capture/format/elf_vmcore.hpp"
#include "capture/format/flattened.hpp"
#include "capture/format/kdump_compressed.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <array>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  auto file = open_flattened(std::make_shared<fuzz::InputSource>(fuzz::input_bytes(data, size)));
  if (!file) return 0;
  const ByteSource& source = **file;
  std::array<std::byte, 256> buffer;
  for (uint64_t offset = 0; offset < source.size() && offset < (uint64_t{1} << 20); offset += 4000)
    (void)source.read_at(offset, buffer);
  std::array<std::byte, 16> head{};
  if (!source.read_at(0, head)) return 0;
  Expected<std::unique_ptr<Dump>> dump = make_error(Errc::unsupported, "neither kdump nor ELF");
  if (looks_like_kdump(head)) dump = open_kdump({*file});
  else if (looks_like_elf(head)) dump = open_elf_dump(*file);
  if (dump) fuzz::exercise_dump(**dump);
  return 0;
}
