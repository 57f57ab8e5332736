// Free pages of kernels whose struct page does not say "free" (before
// 2.6.38, no PAGE_BUDDY_MAPCOUNT_VALUE): the buddy allocator's lists,
// zone by zone, from contig_page_data or node_data[].
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "analyzer/os/linux/mem_map.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <functional>
#include <vector>

namespace coroner::capture {

// The mem_map locator is shared with the analyzer (analyzer/os/linux).
using linux_kernel::MemMapLocator;
using linux_kernel::MemMapSpan;

// Calls `on_block(pfn, order)` for every block on a free list. `spans` are
// the mem_maps of RAM (to turn a struct page address into a pfn);
// `max_blocks` bounds the walk (the number of RAM pages). Errors name the
// missing VMCOREINFO key, or the list and address that is broken (a
// struct page outside every mem_map, prev not pointing back, a cycle).
Expected<void> walk_free_lists(const VmcoreInfo& info, const KernelMemory& memory, std::vector<MemMapSpan> spans,
                               uint64_t struct_page_size, uint64_t max_blocks,
                               const std::function<void(uint64_t pfn, unsigned order)>& on_block);

}  // namespace coroner::capture
