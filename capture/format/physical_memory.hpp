// The one interface every dump reader offers: physical memory that either
// yields bytes or says which address could not be read and why.
#pragma once

#include "capture/format/error.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace coroner {

// [start, start + size) in physical address space.
struct PhysRange {
  uint64_t start = 0;
  uint64_t size = 0;
  uint64_t end() const { return start + size; }
};

class PhysicalMemory {
 public:
  virtual ~PhysicalMemory() = default;

  // Fills `out` with the bytes at physical address `paddr`. Fails with the
  // first address that could not be read: Errc::not_in_dump,
  // Errc::excluded_by_filter, Errc::truncated, Errc::corrupt or Errc::io.
  // Safe to call from several threads at once.
  virtual Expected<void> read(uint64_t paddr, std::span<std::byte> out) const = 0;

  // The physical ranges the dump describes (RAM the crashed system had),
  // sorted and non-overlapping. Pages inside them may still be filtered out.
  virtual std::vector<PhysRange> ranges() const = 0;
};

}  // namespace coroner
