#include "tests/fuzz/fuzz_support.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace coroner::fuzz {

Expected<void> InputSource::read_at(uint64_t offset, std::span<std::byte> out) const {
  if (offset > bytes_.size() || out.size() > bytes_.size() - offset)
    return make_error(Errc::truncated, "{}: ends at {:#x}, wanted {} bytes at {:#x}", name_, bytes_.size(), out.size(),
                      offset);
  if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
  return {};
}

std::span<const std::byte> InputSource::view(uint64_t offset, uint64_t size) const {
  if (offset > bytes_.size() || size > bytes_.size() - offset) return {};
  return bytes_.subspan(offset, size);
}

Expected<void> CyclicMemory::read(uint64_t paddr, std::span<std::byte> out) const {
  if (bytes_.empty()) return make_error(Errc::not_in_dump, "physical {:#x}: no memory", paddr);
  for (size_t i = 0; i < out.size(); ++i) out[i] = bytes_[(paddr + i) % bytes_.size()];
  return {};
}

arch::EntryReader entry_reader(const PhysicalMemory& memory) {
  return [&memory](uint64_t paddr) -> Expected<uint64_t> {
    uint64_t entry = 0;
    CORONER_CHECK(memory.read(paddr, std::as_writable_bytes(std::span(&entry, 1))));
    return entry;
  };
}

void exercise_dump(const Dump& dump) {
  (void)dump.format_name();
  (void)dump.description();
  (void)dump.notes();
  (void)dump.prstatus();
  (void)dump.vmcoreinfo_text();
  (void)dump.dump_level();
  (void)dump.utsname();
  (void)dump.virtual_ranges();
  std::array<std::byte, 64> buffer;
  std::vector<PhysRange> ranges = dump.ranges();
  // The first few: an input can describe a range per page.
  ranges.resize(std::min<size_t>(ranges.size(), 8));
  for (const PhysRange& range : ranges) {
    if (range.size == 0) continue;
    for (uint64_t offset : {uint64_t{0}, range.size / 2, range.size - 1}) {
      size_t length = std::min<uint64_t>(buffer.size(), range.size - offset);
      (void)dump.read(range.start + offset, std::span(buffer).first(length));
    }
  }
}

}  // namespace coroner::fuzz
