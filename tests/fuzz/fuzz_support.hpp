// What the fuzz targets share: the fuzzer's bytes as a dump file or as
// physical memory, and a tour of everything an opened dump offers, so that
// a reader's lazy paths (page descriptors, decompression) run too.
#pragma once

#include "analyzer/arch/translation.hpp"
#include "capture/format/byte_source.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/physical_memory.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace coroner::fuzz {

inline std::span<const std::byte> input_bytes(const uint8_t* data, size_t size) {
  return std::as_bytes(std::span(data, size));
}

// The input as a mapped file would be: views as well as copies.
class InputSource final : public ByteSource {
 public:
  explicit InputSource(std::span<const std::byte> bytes) : bytes_(bytes) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return bytes_.size(); }
  Expected<void> read_at(uint64_t offset, std::span<std::byte> out) const override;
  std::span<const std::byte> view(uint64_t offset, uint64_t size) const override;

 private:
  std::string name_ = "fuzz-input";
  std::span<const std::byte> bytes_;
};

// Physical memory in which every address holds data: address A reads byte
// A mod size of the input, so whatever tables or lists the input describes
// point back into it, loops included. Empty input: nothing is readable.
class CyclicMemory final : public PhysicalMemory {
 public:
  explicit CyclicMemory(std::span<const std::byte> bytes) : bytes_(bytes) {}
  Expected<void> read(uint64_t paddr, std::span<std::byte> out) const override;
  std::vector<PhysRange> ranges() const override { return {{0, bytes_.size()}}; }

 private:
  std::span<const std::byte> bytes_;
};

// Page-table entries read from `memory` (little-endian, as both machines store them).
arch::EntryReader entry_reader(const PhysicalMemory& memory);

// Asks `dump` for its notes, registers, VMCOREINFO and description, and
// reads a few bytes at the start, middle and end of its first physical ranges.
void exercise_dump(const Dump& dump);

}  // namespace coroner::fuzz
