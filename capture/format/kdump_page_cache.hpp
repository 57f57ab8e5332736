// A small thread-safe cache of decompressed kdump pages, keyed by pfn, with
// CLOCK (second chance) eviction. Callers decompress outside the lock; two
// threads missing the same page both decompress it and the second insert
// is a no-op.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

namespace coroner {

class KdumpPageCache {
 public:
  KdumpPageCache(size_t page_size, size_t pages);

  // Copies bytes [offset, offset + out.size()) of page `pfn` into `out`;
  // false when the page is not cached.
  bool copy_out(uint64_t pfn, size_t offset, std::span<std::byte> out);
  // `page` holds page_size bytes.
  void insert(uint64_t pfn, std::span<const std::byte> page);

 private:
  struct Slot {
    uint64_t pfn = 0;
    bool used = false;
    bool referenced = false;
  };

  std::mutex mutex_;
  size_t page_size_;
  std::vector<Slot> slots_;
  std::vector<std::byte> data_;  // slot i at i * page_size_
  std::unordered_map<uint64_t, size_t> slot_of_;
  size_t hand_ = 0;
};

}  // namespace coroner
