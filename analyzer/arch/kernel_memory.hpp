// Virtual memory of the dumped system: physical memory seen through the
// architecture's page tables (the kernel's, or a task's for user space).
#pragma once

#include "analyzer/arch/arch.hpp"
#include "capture/format/physical_memory.hpp"

#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace coroner {

// Which address space to read: physical, kernel virtual, or user virtual
// through the page tables rooted at `root`.
enum class AddressKind { kernel_virtual, user_virtual, physical };

class KernelMemory {
 public:
  KernelMemory(const PhysicalMemory& phys, const arch::Arch& arch) : phys_(phys), arch_(arch) {}

  const PhysicalMemory& physical() const { return phys_; }
  const arch::Arch& arch() const { return arch_; }

  // The walk for `vaddr` through the tables at `root` (default: the kernel's).
  arch::Translation translate(uint64_t vaddr, std::optional<uint64_t> root = std::nullopt) const;

  // Physical address of `vaddr`; errors name the address and the level
  // where the walk stopped.
  Expected<uint64_t> to_physical(uint64_t vaddr, std::optional<uint64_t> root = std::nullopt) const;

  // Reads virtual memory page by page. Errors name the virtual address
  // that failed and the reason (not mapped, excluded by the dump filter,
  // not in the dump).
  Expected<void> read(uint64_t vaddr, std::span<std::byte> out, std::optional<uint64_t> root = std::nullopt) const;

  template <typename T>
  Expected<T> read_value(uint64_t vaddr, std::optional<uint64_t> root = std::nullopt) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value{};
    CORONER_CHECK(read(vaddr, std::as_writable_bytes(std::span(&value, 1)), root));
    return value;
  }
  Expected<uint64_t> read_u64(uint64_t vaddr) const { return read_value<uint64_t>(vaddr); }
  Expected<uint32_t> read_u32(uint64_t vaddr) const { return read_value<uint32_t>(vaddr); }

  // A NUL-terminated string of at most `max` bytes.
  Expected<std::string> read_string(uint64_t vaddr, size_t max = 4096) const;

  // `length` bytes at `vaddr`, page by page: a page that cannot be read
  // reads as zeros (a filtered dump leaves out pages of zeros and free
  // memory); nullopt when no page can be read.
  std::optional<std::vector<std::byte>> read_allowing_gaps(uint64_t vaddr, uint64_t length) const;

 private:
  arch::EntryReader entry_reader() const;

  const PhysicalMemory& phys_;
  const arch::Arch& arch_;
  // Recently translated pages: (root, virtual page) -> physical page.
  mutable std::mutex tlb_mutex_;
  mutable std::unordered_map<uint64_t, std::unordered_map<uint64_t, uint64_t>> tlb_;
};

}  // namespace coroner
