// What the views of kmem share: crash's slab cache line (kmem -s, and the
// first lines of kmem ADDRESS for a slab object) and its struct page line
// (kmem -p, the last lines of kmem ADDRESS), as text and as JSON.
#pragma once

#include "analyzer/os/linux/memory_summary.hpp"
#include "analyzer/os/linux/page_map.hpp"
#include "analyzer/os/linux/slab_caches.hpp"
#include "commands/command.hpp"

#include <string>

namespace coroner::commands {

inline constexpr std::string_view kSlabCacheHeader = "CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n";
inline constexpr std::string_view kSlabHeader = "  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE\n";
inline constexpr std::string_view kPageHeader = "      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS\n";

// CACHE OBJSIZE ALLOCATED TOTAL SLABS SSIZE NAME ("?" for counts that could
// not be gathered).
std::string slab_cache_line(const linux_kernel::SlabCache& cache);
nlohmann::json slab_cache_json(const linux_kernel::SlabCache& cache);

// A slab's line under kSlabHeader, and an object's: "  [ADDRESS]" when
// allocated, "   ADDRESS  " when free ("(cpu N cache)" after it on a CPU's
// current slab).
std::string slab_line(const linux_kernel::Slab& slab);
std::string slab_object_line(const linux_kernel::Slab& slab, const linux_kernel::SlabObject& object);
// The slab's counts; with its objects when `objects`.
nlohmann::json slab_json(const linux_kernel::Slab& slab, bool objects);

// PAGE PHYSICAL MAPPING INDEX CNT FLAGS.
std::string page_line(const linux_kernel::PageMap& pages, const linux_kernel::PageInfo& page);
nlohmann::json page_json(const linux_kernel::PageMap& pages, const linux_kernel::PageInfo& page);
// The struct page `address` is, else the one of the frame it maps to;
// nullopt when neither (a failed read of the page is added to `errors`).
std::optional<linux_kernel::PageInfo> page_of(const Program& program, const linux_kernel::PageMap& pages,
                                              uint64_t address, std::vector<std::string>& errors);

// A zone's lines of kmem -f (ZONE NAME SIZE FREE MEM_MAP START_PADDR
// START_MAPNR) and a free list's columns (AREA SIZE FREE_AREA_STRUCT).
std::string zone_free_area_lines(const linux_kernel::PageMap& pages, const linux_kernel::ZoneInfo& zone);
std::string free_area_line(const linux_kernel::PageMap& pages, const linux_kernel::FreeList& list);

// kmem -p [ADDRESS], -g [FLAGS], -z, -f, -F (kmem_pages.cpp).
Expected<void> show_pages(CommandContext& ctx, std::optional<uint64_t> address);
Expected<void> show_page_flags(CommandContext& ctx, std::optional<uint64_t> flags);
Expected<void> show_zones(CommandContext& ctx);
// -F: each free list's blocks too (their first struct page).
Expected<void> show_free_lists(CommandContext& ctx, bool blocks);

// kmem -n, -m MEMBERS (kmem_nodes.cpp).
Expected<void> show_memory_nodes(CommandContext& ctx);
Expected<void> show_page_members(CommandContext& ctx, std::string_view members);

// kmem -S [CACHE]: every slab of the cache (of every cache) with its
// objects (kmem_slabs.cpp).
Expected<void> show_cache_slabs(CommandContext& ctx, const std::vector<linux_kernel::SlabCache>& caches);

// What kmem says of one address (kmem_address.cpp).
Expected<void> show_kmem_address(CommandContext& ctx, uint64_t address);

}  // namespace coroner::commands
