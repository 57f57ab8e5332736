// SLUB's caches (struct kmem_cache on the slab_caches list) with crash's
// counts, and the slab and object an address belongs to. Slabs are struct
// slab since 5.17 and fields of struct page before; which one, and every
// offset, comes from DWARF.
//
// Counts as crash's `kmem -s` makes them (it emulates the kernel's
// slab_objects()): TOTAL is the sum of the nodes' total_objects and SLABS of
// their nr_slabs (both kept with CONFIG_SLUB_DEBUG), and the free objects
// are those of each CPU's slab (its free count, plus its lockless
// freelist), of each CPU's partial slabs and of the nodes' partial lists;
// ALLOCATED is TOTAL minus them.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct SlabCache {
  uint64_t address = 0;
  std::string name;
  uint64_t object_size = 0;  // what the user asked for (kmem_cache.object_size)
  uint64_t size = 0;         // the object's stride in a slab, metadata included
  uint64_t objects_per_slab = 0;
  uint64_t slab_bytes = 0;   // PAGE_SIZE << order
  // Counts; nullopt when some slab could not be read (crash prints "?"),
  // with the reason in `error`.
  std::optional<uint64_t> allocated, total, slabs;
  std::optional<Error> error;
};

// Every cache in list order; a cache whose kmem_cache cannot be read costs
// only itself (in `skipped`).
struct SlabCacheList {
  std::vector<SlabCache> caches;
  std::vector<Error> skipped;
};
Expected<SlabCacheList> slab_caches(const Program& program);

// One cache, read and counted (an error only when its kmem_cache cannot be
// read).
Expected<SlabCache> read_slab_cache(const Program& program, uint64_t cache);

struct SlabObject {
  uint64_t address = 0;
  bool free = false;
};

// A slab (struct slab, or struct page before 5.17) as crash shows it.
struct Slab {
  uint64_t slab = 0;      // the struct slab / head struct page
  uint64_t memory = 0;    // its first object's page in the direct map
  unsigned node = 0;
  uint64_t objects = 0, allocated = 0, free = 0;
  std::optional<uint32_t> cpu;  // the CPU whose current slab it is
  std::vector<SlabObject> object_list;  // in address order
};

Expected<Slab> read_slab(const Program& program, const SlabCache& cache, uint64_t slab);

// Every slab of a cache as crash's `kmem -S` lists them: each CPU's
// current slab and partial slabs, then each node's partial list and, where
// SLUB keeps one (SLAB_STORE_USER caches of SLUB_DEBUG kernels), its list
// of full slabs. A slab that cannot be read ends its list, with the
// reason in `errors`.
struct CpuSlabs {
  uint32_t cpu = 0;
  uint64_t kmem_cache_cpu = 0;
  std::optional<Slab> slab;
  std::vector<Slab> partial;
};
struct NodeSlabs {
  unsigned node = 0;
  uint64_t kmem_cache_node = 0;
  uint64_t nr_slabs = 0, nr_partial = 0, per_cpu = 0;  // per_cpu: CPU slabs on this node
  std::vector<Slab> partial;
  std::optional<std::vector<Slab>> full;  // nullopt: not tracked
};
struct CacheSlabs {
  SlabCache cache;
  std::vector<CpuSlabs> cpus;
  std::vector<NodeSlabs> nodes;
  std::vector<Error> errors;
};
Expected<CacheSlabs> cache_slabs(const Program& program, const SlabCache& cache);

// What an address in a slab page is: the cache, the slab, and the object
// that holds it. nullopt when the address is not in a slab page.
struct SlabAddress {
  SlabCache cache;
  Slab slab;
  SlabObject object;  // the object holding the address; address 0 if in no object (padding)
};
Expected<std::optional<SlabAddress>> find_slab_address(const Program& program, uint64_t address);

}  // namespace coroner::linux_kernel
