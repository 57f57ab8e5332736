// How the dumped kernel's memory is used, as crash's `kmem -i` and
// `kmem -V` show it: the kernel's counters (totalram, the vm_stat arrays
// named by their enums, zones' free pages, hugetlb pools, swap devices,
// the overcommit limit) plus what crash counts itself (shared pages from a
// walk of every struct page, block device pages from the block device
// inodes).
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct VmStatCounter {
  std::string name;  // the enumerator: "NR_FREE_PAGES"
  int64_t value = 0;
};

// The global counters: vm_zone_stat and vm_node_stat (4.8+) or vm_stat
// (before), and vm_numa_stat (4.14+ with NUMA).
struct VmStat {
  std::string zone_array;  // "vm_zone_stat", or "vm_stat" on older kernels
  std::vector<VmStatCounter> zone, node, numa;
  // The per-CPU vm_event_states summed over the CPUs (CONFIG_VM_EVENT_COUNTERS).
  std::vector<VmStatCounter> events;
  // The counter with this name in any of them.
  std::optional<int64_t> find(std::string_view name) const;
};
Expected<VmStat> vm_stat(const Program& program);

// A zone of each node (pglist_data.node_zones), as crash's `kmem -z`
// shows it.
struct ZoneInfo {
  unsigned node = 0, index = 0;
  uint64_t address = 0;  // the struct zone
  std::string name;      // "DMA32"
  uint64_t spanned = 0, present = 0;
  uint64_t start_pfn = 0, node_start_pfn = 0;
  uint64_t min = 0, low = 0, high = 0;  // _watermark[WMARK_*] (watermark before 5.0)
  std::vector<VmStatCounter> vm_stat;   // the zone's own counters
  bool several_nodes = false;           // the kernel has more than one node
};
Expected<std::vector<ZoneInfo>> zones(const Program& program);

// A memory node (pglist_data), as crash's `kmem -n` shows it.
struct MemoryNode {
  unsigned id = 0;
  uint64_t pgdat = 0;
  uint64_t start_pfn = 0, spanned = 0, present = 0;  // node_start_pfn, node_spanned_pages, node_present_pages
};
Expected<std::vector<MemoryNode>> memory_nodes(const Program& program);

// One free list of a zone's buddy allocator: free_area[order].free_list[type]
// and how many blocks of 2^order pages it holds.
struct FreeList {
  unsigned order = 0, type = 0;
  uint64_t list = 0;  // the list_head
  uint64_t blocks = 0;
  std::vector<uint64_t> heads;  // each block's first struct page, when asked for
};
// Every free list of the zone, by order then migrate type; a list that
// cannot be walked ends the walk (the error in `errors`).
// With `heads`, each block's first struct page too.
Expected<std::vector<FreeList>> free_lists(const Program& program, const ZoneInfo& zone, std::vector<Error>& errors,
                                           bool heads = false);

// The free block (on a buddy free list) that holds the page frame `pfn`:
// its zone, list and first struct page; nullopt when the frame is not free.
struct FreeBlock {
  ZoneInfo zone;
  FreeList list;
  uint64_t head = 0;  // the block's first struct page
  uint64_t index = 0; // the frame's page within the block, from 0
};
Expected<std::optional<FreeBlock>> free_block_of(const Program& program, uint64_t pfn);

// The hugetlb pools (hstates[] with an order), as `kmem -h` lists them;
// an error on a kernel without hugetlbfs.
struct HugePool {
  uint64_t hstate = 0;
  unsigned order = 0;          // pages per huge page: 1 << order
  uint64_t free = 0, total = 0;  // huge pages
  std::string name;            // "hugepages-2048kB"
};
Expected<std::vector<HugePool>> huge_pools(const Program& program);

struct MemorySummary {
  uint64_t page_size = 0;
  uint64_t total_ram = 0;  // totalram_pages
  uint64_t free = 0;       // the zones' NR_FREE_PAGES
  uint64_t shared = 0;     // pages not reserved with more than one reference
  uint64_t buffers = 0;    // the block devices' page cache
  uint64_t cached = 0;     // NR_FILE_PAGES less swap cache and buffers
  uint64_t slab = 0;       // NR_SLAB_RECLAIMABLE(_B) + NR_SLAB_UNRECLAIMABLE(_B)
  uint64_t huge_total = 0, huge_free = 0;  // in base pages
  bool has_swap = false;   // CONFIG_SWAP
  uint64_t swap_total = 0, swap_used = 0;
  std::optional<uint64_t> commit_limit;  // with sysctl_overcommit_memory
  int64_t committed = 0;                 // vm_committed_as (not below 0)
  // Parts that could not be read and were left at 0 (struct pages not in
  // the dump, say).
  std::vector<Error> skipped;
};
Expected<MemorySummary> memory_summary(const Program& program);

}  // namespace coroner::linux_kernel
