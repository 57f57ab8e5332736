// The one interface every dump reader offers: physical memory that either
// yields bytes or says which address could not be read and why.
#pragma once

#include "capture/format/error.hpp"

#include <algorithm>
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

// Splits a read at `page_size` boundaries and hands each part to
// `read_in_page(paddr, part)` in order; the first failure ends it. A range
// that wraps around the address space is Errc::not_in_dump.
template <typename ReadInPage>
Expected<void> read_page_by_page(uint64_t paddr, std::span<std::byte> out, uint64_t page_size,
                                 ReadInPage&& read_in_page) {
  if (out.size() > UINT64_MAX - paddr)
    return make_error(Errc::not_in_dump, "physical address range {:#x} + {:#x} wraps around", paddr, out.size());
  size_t done = 0;
  while (done < out.size()) {
    uint64_t at = paddr + done;
    size_t n = static_cast<size_t>(std::min<uint64_t>(page_size - at % page_size, out.size() - done));
    Expected<void> part = read_in_page(at, out.subspan(done, n));
    if (!part) return part;
    done += n;
  }
  return {};
}

}  // namespace coroner
