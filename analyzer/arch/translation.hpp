// A page-table walk as data (after libkdumpfile's addrxlat): the walker
// never reads files, it asks its caller for each table entry, and returns
// every level it visited so `vtop` can print them and tests can check them.
#pragma once

#include "capture/format/error.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace coroner::arch {

// Reads the 64-bit little-endian table entry at physical address `paddr`.
using EntryReader = std::function<Expected<uint64_t>(uint64_t paddr)>;

struct WalkStep {
  std::string level;      // "PGD", "P4D", "PUD", "PMD", "PTE" (crash's names)
  uint64_t table = 0;     // physical address of the table
  unsigned index = 0;     // index of the entry within the table
  uint64_t entry_addr = 0;  // physical address of the entry
  uint64_t entry = 0;     // raw entry value
  std::string flags;      // decoded flag names, e.g. "PRESENT|RW|NX"
};

struct Translation {
  uint64_t vaddr = 0;
  uint64_t root = 0;        // physical address of the top-level table
  std::vector<WalkStep> steps;
  // Set when the walk reached a page; the error explains why not otherwise.
  std::optional<uint64_t> paddr;
  uint64_t page_size = 0;   // size of the mapping found (4K, 2M, 1G, 16K, 32M, ...)
  std::optional<Error> error;
};

}  // namespace coroner::arch
