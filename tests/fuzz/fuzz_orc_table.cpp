// x86_64 ORC tables (.orc_unwind_ip and .orc_unwind, as vmlinux or a
// module carries them) in each kernel's entry layout: building the sorted
// table, lookups, and the layout chosen from a release string.
#include "symbols/orc_table.hpp"

#include <fuzzer/FuzzedDataProvider.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner::symbols;
  FuzzedDataProvider input(data, size);
  OrcFormat format = OrcFormat::for_release(input.ConsumeRandomLengthString(32));
  switch (input.ConsumeIntegralInRange(0, 3)) {
    case 1: format = OrcFormat::before_6_3(); break;
    case 2: format = OrcFormat::linux_6_3(); break;
    case 3: format = OrcFormat::since_6_4(); break;
  }
  uint64_t ip_address = input.ConsumeIntegral<uint64_t>();
  uint64_t lookups[4];
  for (uint64_t& lookup : lookups) lookup = input.ConsumeIntegral<uint64_t>();
  std::vector<std::byte> tables = input.ConsumeRemainingBytes<std::byte>();
  size_t count = tables.size() / (OrcTable::kIpSize + OrcTable::kEntrySize);
  std::span<const std::byte> ips = std::span(tables).first(count * OrcTable::kIpSize);
  std::span<const std::byte> entries = std::span(tables).subspan(ips.size(), count * OrcTable::kEntrySize);
  // `tables` outlives the table: no owner.
  auto table = OrcTable::build({ips, ip_address, entries, nullptr}, format, "fuzz-input");
  if (!table) return 0;
  for (uint64_t lookup : lookups) (void)table->find(lookup);
  if (table->size() > 0) (void)table->find(ip_address);
  return 0;
}
