// A task's user address space: its page table and its VMAs in address
// order. The VMAs live in the maple tree
// mm->mm_mt from 6.1, in the list mm->mmap (vm_next) before; which one is
// chosen by DWARF. Every walk is bounded and cycle-safe.
#pragma once

#include "analyzer/os/linux/kernel_trees.hpp"
#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace coroner::linux_kernel {

// mm->pgd: the virtual address of the top-level page table (crash's PGD
// column). RSS and TOTAL_VM come from task_memory() (task_memory.hpp).
Expected<uint64_t> page_table_address(const Program& program, uint64_t mm);

struct Vma {
  uint64_t address = 0;  // struct vm_area_struct *
  uint64_t start = 0, end = 0;
  uint64_t flags = 0;    // vm_flags
  uint64_t file = 0;     // struct file * (0: anonymous)
  uint64_t pgoff = 0;    // vm_pgoff: the file offset of start, in pages
};

// The VMAs of the mm_struct at `mm`, in address order. An unreadable VMA or
// link ends the list: `stopped` says where, the VMAs before it are kept.
struct VmaList {
  std::vector<Vma> vmas;
  std::optional<Error> stopped;
};
Expected<VmaList> list_vmas(const Program& program, uint64_t mm);

// Offsets from DWARF (read once per program) and which structure holds the
// VMAs: the maple tree mm_struct.mm_mt (6.1+), else the list mm_struct.mmap.
struct VmaLayout {
  uint64_t start = 0, end = 0, flags = 0, file = 0, pgoff = 0;  // vm_area_struct
  std::optional<uint64_t> mm_mt;       // mm_struct.mm_mt
  MapleTreeLayout maple;               // with mm_mt
  uint64_t mmap = 0, next = 0;         // mm_struct.mmap, vm_area_struct.vm_next (before 6.1)
};
Expected<VmaLayout> vma_layout(const Program& program);
Expected<VmaList> list_vmas(const KernelMemory& memory, const VmaLayout& layout, uint64_t mm);

}  // namespace coroner::linux_kernel
