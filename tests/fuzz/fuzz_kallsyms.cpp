// decode_kallsyms over memory made of the input: 16 KiB at address 0 that
// repeat the input, the tables' addresses and encoding chosen by its first
// bytes (counts, lengths, tokens and offsets all hostile).
#include "symbols/kallsyms.hpp"

#include <fuzzer/FuzzedDataProvider.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner::symbols;
  constexpr uint64_t kMemory = 16 * 1024;
  FuzzedDataProvider input(data, size);
  KallsymsTables tables;
  for (uint64_t* address : {&tables.num_syms, &tables.names, &tables.token_table, &tables.token_index,
                            &tables.offsets, &tables.relative_base})
    *address = input.ConsumeIntegralInRange<uint64_t>(0, kMemory - 1);
  if (input.ConsumeBool()) tables.addresses = input.ConsumeIntegralInRange<uint64_t>(0, kMemory - 1);
  const std::vector<std::byte> bytes = input.ConsumeRemainingBytes<std::byte>();
  if (bytes.empty()) return 0;
  auto read = [&bytes](uint64_t address, size_t length) -> coroner::Expected<std::vector<std::byte>> {
    if (address >= kMemory || length > kMemory - address)
      return coroner::make_error(coroner::Errc::not_in_dump, "{:#x} is not in the input", address);
    std::vector<std::byte> out(length);
    for (size_t i = 0; i < length; ++i) out[i] = bytes[(address + i) % bytes.size()];
    return out;
  };
  (void)decode_kallsyms(tables, read);
  return 0;
}
