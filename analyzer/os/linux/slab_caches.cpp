#include "analyzer/os/linux/slab_caches.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/cached_layout.hpp"
#include "analyzer/os/linux/list_walk.hpp"
#include "analyzer/os/linux/page_map.hpp"

#include <bit>
#include <cstdio>
#include <unordered_set>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxCaches = 1 << 16;
constexpr size_t kMaxPartialSlabs = size_t{1} << 22;
constexpr uint64_t kMaxObjectsPerSlab = 1 << 15;  // slab.objects is 15 bits
constexpr uint64_t kSlabRedZone = 0x400;          // SLAB_RED_ZONE
constexpr uint64_t kSlabStoreUser = 0x10000;      // SLAB_STORE_USER: SLUB keeps the full slabs listed

// A bitfield inside a structure: the byte that holds its first bit.
struct BitField {
  uint64_t byte = 0;
  unsigned shift = 0, width = 0;
};

struct SlubLayout {
  uint64_t cache_list = 0, cache_name = 0, cache_object_size = 0, cache_size = 0, cache_offset = 0, cache_oo = 0;
  uint64_t cache_cpu_slab = 0, cache_node = 0, node_slots = 0, cache_flags = 0;
  std::optional<uint64_t> cache_random, cache_red_left_pad;
  uint64_t cpu_freelist = 0, cpu_slab = 0;
  std::optional<uint64_t> cpu_partial;  // CONFIG_SLUB_CPU_PARTIAL
  uint64_t node_nr_partial = 0, node_partial = 0, node_nr_slabs = 0, node_total_objects = 0;
  std::optional<uint64_t> node_full;  // SLUB_DEBUG
  uint64_t slab_cache = 0, slab_freelist = 0, slab_list = 0, slab_next = 0;
  BitField inuse, objects;
  bool swab_free_pointer = false;  // SLAB_FREELIST_HARDENED mixes in the byte-swapped address (5.7+)
  std::vector<std::pair<uint32_t, uint64_t>> cpu_offsets;  // possible CPU -> __per_cpu_offset
  uint64_t page_size = 0;
};

Expected<BitField> bit_field(const Program& program, std::string_view type, std::string_view member) {
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(location, debug->find_member(type, member));
  return BitField{location.bit_offset / 8, static_cast<unsigned>(location.bit_offset % 8),
                  static_cast<unsigned>(location.bit_size ? location.bit_size : 16)};
}

Expected<uint64_t> read_bits(const KernelMemory& memory, uint64_t object, const BitField& field) {
  CORONER_TRY(word, memory.read_u32(object + field.byte));
  return (word >> field.shift) & ((uint64_t{1} << field.width) - 1);
}

// "6.1.192" -> 6 * 256 + 1.
unsigned kernel_version(const Program& program) {
  std::string release = program.vmcoreinfo().osrelease();
  unsigned major = 0, minor = 0;
  std::sscanf(release.c_str(), "%u.%u", &major, &minor);
  return major * 256 + minor;
}

Expected<SlubLayout> read_slub_layout(const Program& program) {
  SlubLayout l;
  auto member = [&](std::string_view type, std::string_view name) { return program.member_offset(type, name); };
  if (!member("struct kmem_cache", "cpu_slab"))
    return make_error(Errc::unsupported, "kmem_cache has no cpu_slab: only SLUB caches are supported");
  // struct slab (5.17+) overlays struct page, whose fields it took over.
  const std::string slab = member("struct slab", "slab_cache") ? "struct slab" : "struct page";
  CORONER_TRY(list, member("struct kmem_cache", "list"));
  CORONER_TRY(name, member("struct kmem_cache", "name"));
  CORONER_TRY(object_size, member("struct kmem_cache", "object_size"));
  CORONER_TRY(size, member("struct kmem_cache", "size"));
  CORONER_TRY(offset, member("struct kmem_cache", "offset"));
  CORONER_TRY(oo, member("struct kmem_cache", "oo"));
  CORONER_TRY(cpu_slab, member("struct kmem_cache", "cpu_slab"));
  CORONER_TRY(node, member("struct kmem_cache", "node"));
  CORONER_TRY(flags, member("struct kmem_cache", "flags"));
  // node[MAX_NUMNODES]: the nodes' kmem_cache_node pointers.
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(node_member, debug->find_member("struct kmem_cache", "node"));
  CORONER_TRY(node_type, symbols::underlying(node_member.type));
  CORONER_TRY(node_bytes, node_type->size());
  l.cache_list = list, l.cache_name = name, l.cache_object_size = object_size, l.cache_size = size;
  l.cache_offset = offset, l.cache_oo = oo, l.cache_cpu_slab = cpu_slab, l.cache_node = node, l.cache_flags = flags;
  // A kmem_cache is allocated only up to node[nr_node_ids].
  l.node_slots = node_bytes / 8;
  if (auto ids = kernel_object(program, "nr_node_ids")) {
    CORONER_TRY(count, ids->read_unsigned());
    l.node_slots = std::min<uint64_t>(l.node_slots, count);
  }
  if (auto random = member("struct kmem_cache", "random")) l.cache_random = *random;
  if (auto pad = member("struct kmem_cache", "red_left_pad")) l.cache_red_left_pad = *pad;
  CORONER_TRY(cpu_freelist, member("struct kmem_cache_cpu", "freelist"));
  auto cpu_current = member("struct kmem_cache_cpu", "slab");
  if (!cpu_current) cpu_current = member("struct kmem_cache_cpu", "page");
  if (!cpu_current) return cpu_current.error();
  l.cpu_freelist = cpu_freelist, l.cpu_slab = *cpu_current;
  if (auto partial = member("struct kmem_cache_cpu", "partial")) l.cpu_partial = *partial;
  CORONER_TRY(nr_partial, member("struct kmem_cache_node", "nr_partial"));
  CORONER_TRY(partial, member("struct kmem_cache_node", "partial"));
  auto nr_slabs = member("struct kmem_cache_node", "nr_slabs");
  auto total_objects = member("struct kmem_cache_node", "total_objects");
  if (!nr_slabs || !total_objects)
    return make_error(Errc::unsupported, "kmem_cache_node has no nr_slabs: the kernel was built without "
                      "CONFIG_SLUB_DEBUG, which SLUB's counts need");
  l.node_nr_partial = nr_partial, l.node_partial = partial, l.node_nr_slabs = *nr_slabs;
  l.node_total_objects = *total_objects;
  if (auto full = member("struct kmem_cache_node", "full")) l.node_full = *full;
  CORONER_TRY(slab_cache, member(slab, "slab_cache"));
  CORONER_TRY(slab_freelist, member(slab, "freelist"));
  auto slab_list = member(slab, "slab_list");  // 5.0+
  if (!slab_list) slab_list = member(slab, "lru");
  if (!slab_list) return slab_list.error();
  l.slab_cache = slab_cache, l.slab_freelist = slab_freelist, l.slab_list = *slab_list;
  if (l.cpu_partial) {
    CORONER_TRY(next, member(slab, "next"));
    l.slab_next = next;
  }
  CORONER_TRY(inuse, bit_field(program, slab, "inuse"));
  CORONER_TRY(objects, bit_field(program, slab, "objects"));
  l.inuse = inuse, l.objects = objects;
  l.swab_free_pointer = kernel_version(program) >= (5 * 256 + 7);
  CORONER_TRY(cpus, possible_cpus(program));
  auto offsets = kernel_object(program, "__per_cpu_offset");
  for (uint32_t cpu : cpus) {
    uint64_t offset = 0;
    if (offsets) {  // a UP kernel has one per-CPU area, at offset 0
      CORONER_TRY(slot, offsets->index(cpu));
      CORONER_TRY(value, slot.read_unsigned());
      offset = value;
    }
    l.cpu_offsets.emplace_back(cpu, offset);
  }
  l.page_size = program.arch().page_size();
  return l;
}

Expected<const SlubLayout*> slub_layout(const Program& program) {
  struct Cached {
    Expected<SlubLayout> layout;
  };
  const Cached& c = program.extension<Cached>([&] { return new Cached{read_slub_layout(program)}; });
  if (!c.layout) return c.layout.error();
  return &*c.layout;
}

// What a cache's free pointers need: where in an object, and how hardened.
struct FreePointer {
  uint64_t offset = 0, random = 0;
  bool hardened = false, swab = false;
  uint64_t limit = kMaxObjectsPerSlab;
};

uint64_t decode(const FreePointer& fp, uint64_t stored, uint64_t at) {
  if (!fp.hardened) return stored;
  return stored ^ fp.random ^ (fp.swab ? __builtin_bswap64(at) : at);
}

// The objects of a freelist from `first`; an error for a chain longer than
// a slab or one that loops.
Expected<std::vector<uint64_t>> free_chain(const KernelMemory& memory, const FreePointer& fp, uint64_t first) {
  std::vector<uint64_t> chain;
  std::unordered_set<uint64_t> seen;
  for (uint64_t q = first; q != 0 && !(q & 1);) {
    if (!seen.insert(q).second || chain.size() >= fp.limit)
      return make_error(Errc::corrupt, "freelist from {:#x} loops or is longer than a slab (at {:#x})", first, q);
    chain.push_back(q);
    CORONER_TRY(stored, memory.read_u64(q + fp.offset));
    q = decode(fp, stored, q + fp.offset);
  }
  return chain;
}

struct CacheHead {
  SlabCache info;
  uint64_t cpu_slab = 0;  // the per-CPU pointer
  uint64_t red_left_pad = 0;
  uint64_t flags = 0;
  FreePointer fp;
};

Expected<CacheHead> read_cache_head(const Program& program, const SlubLayout& l, uint64_t cache) {
  const KernelMemory& memory = program.memory();
  CacheHead h;
  h.info.address = cache;
  CORONER_TRY(name, memory.read_u64(cache + l.cache_name));
  auto text = memory.read_string(name, 256);
  h.info.name = text ? *text : "(unknown)";
  CORONER_TRY(object_size, memory.read_u32(cache + l.cache_object_size));
  CORONER_TRY(size, memory.read_u32(cache + l.cache_size));
  CORONER_TRY(offset, memory.read_u32(cache + l.cache_offset));
  CORONER_TRY(oo, memory.read_u32(cache + l.cache_oo));
  CORONER_TRY(cpu_slab, memory.read_u64(cache + l.cache_cpu_slab));
  CORONER_TRY(flags, memory.read_u32(cache + l.cache_flags));
  h.info.object_size = object_size, h.info.size = size;
  h.info.objects_per_slab = oo & 0xffff;
  h.info.slab_bytes = l.page_size << (oo >> 16);
  h.cpu_slab = cpu_slab;
  h.flags = flags;
  h.fp.offset = offset;
  h.fp.swab = l.swab_free_pointer;
  if (l.cache_random) {
    CORONER_TRY(random, memory.read_u64(cache + *l.cache_random));
    h.fp.hardened = true, h.fp.random = random;
  }
  if (l.cache_red_left_pad && (flags & kSlabRedZone)) {
    CORONER_TRY(pad, memory.read_u32(cache + *l.cache_red_left_pad));
    h.red_left_pad = pad;
  }
  return h;
}

struct SlabCounters {
  uint64_t inuse = 0, objects = 0;
};

Expected<SlabCounters> read_counters(const KernelMemory& memory, const SlubLayout& l, uint64_t slab) {
  CORONER_TRY(inuse, read_bits(memory, slab, l.inuse));
  CORONER_TRY(objects, read_bits(memory, slab, l.objects));
  if (objects == 0) return make_error(Errc::corrupt, "slab {:#x} holds no objects", slab);
  return SlabCounters{inuse, objects};
}

// Free objects of the CPU partial slabs chained from `first` by slab.next.
Expected<uint64_t> cpu_partial_free(const KernelMemory& memory, const SlubLayout& l, uint64_t first) {
  uint64_t free = 0;
  std::unordered_set<uint64_t> seen;
  for (uint64_t slab = first; slab;) {
    if (!seen.insert(slab).second || seen.size() > kMaxPartialSlabs)
      return make_error(Errc::corrupt, "CPU partial slabs from {:#x} loop at {:#x}", first, slab);
    CORONER_TRY(c, read_counters(memory, l, slab));
    free += c.objects - std::min(c.inuse, c.objects);
    CORONER_TRY(next, memory.read_u64(slab + l.slab_next));
    slab = next;
  }
  return free;
}

// crash's counts (see the header).
Expected<void> count_objects(const Program& program, const SlubLayout& l, CacheHead& h) {
  const KernelMemory& memory = program.memory();
  uint64_t free = 0, total = 0, slabs = 0;
  for (const auto& [cpu, offset] : l.cpu_offsets) {
    uint64_t kcc = h.cpu_slab + offset;
    CORONER_TRY(slab, memory.read_u64(kcc + l.cpu_slab));
    if (slab == 0) continue;
    CORONER_TRY(freelist, memory.read_u64(kcc + l.cpu_freelist));
    CORONER_TRY(c, read_counters(memory, l, slab));
    CORONER_TRY(chain, free_chain(memory, h.fp, freelist));
    free += c.objects - std::min(c.inuse, c.objects) + chain.size();
    if (l.cpu_partial) {
      CORONER_TRY(partial, memory.read_u64(kcc + *l.cpu_partial));
      CORONER_TRY(partial_free, cpu_partial_free(memory, l, partial));
      free += partial_free;
    }
  }
  for (uint64_t n = 0; n < l.node_slots; ++n) {
    CORONER_TRY(node, memory.read_u64(h.info.address + l.cache_node + n * 8));
    if (node == 0) continue;
    CORONER_TRY(nr_slabs, memory.read_u64(node + l.node_nr_slabs));
    CORONER_TRY(total_objects, memory.read_u64(node + l.node_total_objects));
    slabs += nr_slabs, total += total_objects;
    ListBudget budget{kMaxPartialSlabs};
    CORONER_CHECK(walk_list(memory, "partial list", node + l.node_partial, l.slab_list, budget,
                            [&](uint64_t slab) -> Expected<void> {
                              CORONER_TRY(c, read_counters(memory, l, slab));
                              free += c.objects - std::min(c.inuse, c.objects);
                              return {};
                            }));
  }
  h.info.total = total, h.info.slabs = slabs;
  h.info.allocated = total >= free ? total - free : 0;
  return {};
}

Expected<SlabCache> counted_cache(const Program& program, const SlubLayout& l, uint64_t cache) {
  CORONER_TRY(head, read_cache_head(program, l, cache));
  if (auto counted = count_objects(program, l, head); !counted) {
    head.info.error = counted.error().context(head.info.name);
    head.info.allocated.reset(), head.info.total.reset(), head.info.slabs.reset();
  }
  return head.info;
}

// The node of a page frame: the pglist_data of node_data[] that spans it
// (0 on kernels without NUMA).
unsigned node_of_pfn(const Program& program, uint64_t pfn) {
  auto nodes = kernel_object(program, "node_data");
  if (!nodes) return 0;
  auto start = program.member_offset("struct pglist_data", "node_start_pfn");
  auto spanned = program.member_offset("struct pglist_data", "node_spanned_pages");
  auto bytes = nodes->byte_size();
  if (!start || !spanned || !bytes) return 0;
  for (uint64_t n = 0; n < *bytes / 8; ++n) {
    auto pgdat = program.memory().read_u64(*nodes->address() + n * 8);
    if (!pgdat || *pgdat == 0) continue;
    auto first = program.memory().read_u64(*pgdat + *start);
    auto count = program.memory().read_u64(*pgdat + *spanned);
    if (first && count && pfn >= *first && pfn - *first < *count) return static_cast<unsigned>(n);
  }
  return 0;
}

Expected<Slab> read_slab_of(const Program& program, const SlubLayout& l, const CacheHead& h, uint64_t slab) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(pages, PageMap::of(program));
  auto pfn = pages->pfn_of_page(slab);
  if (!pfn) return make_error(Errc::not_found, "{}: slab {:#x} is not a struct page", h.info.name, slab);
  Slab s;
  s.slab = slab;
  s.memory = pages->direct_map_base() + *pfn * l.page_size;
  s.node = node_of_pfn(program, *pfn);
  CORONER_TRY(c, read_counters(memory, l, slab));
  CORONER_TRY(freelist, memory.read_u64(slab + l.slab_freelist));
  CORONER_TRY(chain, free_chain(memory, h.fp, freelist));
  std::unordered_set<uint64_t> free(chain.begin(), chain.end());
  s.objects = c.objects;
  s.allocated = std::min(c.inuse, c.objects);
  for (const auto& [cpu, offset] : l.cpu_offsets) {
    uint64_t kcc = h.cpu_slab + offset;
    auto current = memory.read_u64(kcc + l.cpu_slab);
    if (!current || *current != slab) continue;
    // The CPU's lockless freelist holds its free objects; objects freed
    // from other CPUs went to slab.freelist.
    s.cpu = cpu;
    CORONER_TRY(cpu_freelist, memory.read_u64(kcc + l.cpu_freelist));
    CORONER_TRY(cpu_chain, free_chain(memory, h.fp, cpu_freelist));
    free.insert(cpu_chain.begin(), cpu_chain.end());
    uint64_t free_count = cpu_chain.size() + (freelist ? c.objects - s.allocated : 0);
    s.allocated = c.objects - std::min(free_count, c.objects);
    break;
  }
  s.free = s.objects - s.allocated;
  for (uint64_t i = 0; i < c.objects; ++i) {
    uint64_t object = s.memory + i * h.info.size + h.red_left_pad;
    s.object_list.push_back({object, free.count(object) > 0});
  }
  return s;
}

}  // namespace

Expected<SlabCache> read_slab_cache(const Program& program, uint64_t cache) {
  CORONER_TRY(l, slub_layout(program));
  return counted_cache(program, *l, cache);
}

Expected<SlabCacheList> slab_caches(const Program& program) {
  CORONER_TRY(l, slub_layout(program));
  CORONER_TRY(head, program.symbol_address("slab_caches"));
  std::vector<uint64_t> addresses;
  ListBudget budget{kMaxCaches};
  CORONER_CHECK(walk_list(program.memory(), "slab_caches", head, l->cache_list, budget, [&](uint64_t cache) {
    addresses.push_back(cache);
    return Expected<void>();
  }));
  SlabCacheList list;
  for (uint64_t cache : addresses) {
    auto counted = counted_cache(program, *l, cache);
    if (counted) list.caches.push_back(std::move(*counted));
    else list.skipped.push_back(counted.error().context(fmt::format("kmem_cache {:#x}", cache)));
  }
  return list;
}

Expected<Slab> read_slab(const Program& program, const SlabCache& cache, uint64_t slab) {
  CORONER_TRY(l, slub_layout(program));
  CORONER_TRY(head, read_cache_head(program, *l, cache.address));
  return read_slab_of(program, *l, head, slab);
}

Expected<CacheSlabs> cache_slabs(const Program& program, const SlabCache& cache) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(l, slub_layout(program));
  CORONER_TRY(head, read_cache_head(program, *l, cache.address));
  CacheSlabs result;
  result.cache = cache;
  auto failed = [&](const Error& e, std::string_view where) {
    result.errors.push_back(e.context(fmt::format("{}: {}", cache.name, where)));
  };
  std::vector<uint64_t> cpu_slabs_per_node(l->node_slots, 0);
  for (const auto& [cpu, offset] : l->cpu_offsets) {
    CpuSlabs c;
    c.cpu = cpu, c.kmem_cache_cpu = head.cpu_slab + offset;
    std::string where = fmt::format("CPU {}", cpu);
    auto slab = memory.read_u64(c.kmem_cache_cpu + l->cpu_slab);
    if (!slab) failed(slab.error(), where);
    if (slab && *slab) {
      auto s = read_slab_of(program, *l, head, *slab);
      if (!s) {
        failed(s.error(), where);
        result.cpus.push_back(std::move(c));
        continue;
      }
      if (s->node < cpu_slabs_per_node.size()) ++cpu_slabs_per_node[s->node];
      c.slab = std::move(*s);
    }
    if (l->cpu_partial) {
      auto partial = memory.read_u64(c.kmem_cache_cpu + *l->cpu_partial);
      std::unordered_set<uint64_t> seen;
      for (uint64_t next = partial.value_or(0); next && seen.insert(next).second && seen.size() <= kMaxPartialSlabs;) {
        auto s = read_slab_of(program, *l, head, next);
        if (!s) {
          failed(s.error(), where + " partial");
          break;
        }
        c.partial.push_back(std::move(*s));
        auto following = memory.read_u64(next + l->slab_next);
        next = following.value_or(0);
      }
    }
    result.cpus.push_back(std::move(c));
  }
  // A list of slabs (slab_list) from the list_head at `head_address`.
  auto slab_list = [&](uint64_t head_address, std::string_view where, std::vector<Slab>& out) {
    ListBudget budget{kMaxPartialSlabs};
    auto walked = walk_list(memory, where, head_address, l->slab_list, budget, [&](uint64_t slab) -> Expected<void> {
      CORONER_TRY(s, read_slab_of(program, *l, head, slab));
      out.push_back(std::move(s));
      return {};
    });
    if (!walked) failed(walked.error(), where);
  };
  for (uint64_t n = 0; n < l->node_slots; ++n) {
    auto node = memory.read_u64(cache.address + l->cache_node + n * 8);
    if (!node || *node == 0) continue;
    NodeSlabs ns;
    ns.node = static_cast<unsigned>(n), ns.kmem_cache_node = *node, ns.per_cpu = cpu_slabs_per_node[n];
    auto nr_slabs = memory.read_u64(*node + l->node_nr_slabs);
    auto nr_partial = memory.read_u64(*node + l->node_nr_partial);
    if (!nr_slabs || !nr_partial) {
      failed(!nr_slabs ? nr_slabs.error() : nr_partial.error(), fmt::format("node {}", n));
      continue;
    }
    ns.nr_slabs = *nr_slabs, ns.nr_partial = *nr_partial;
    slab_list(*node + l->node_partial, fmt::format("node {} partial list", n), ns.partial);
    if (l->node_full && (head.flags & kSlabStoreUser)) {
      ns.full.emplace();
      slab_list(*node + *l->node_full, fmt::format("node {} full list", n), *ns.full);
    }
    result.nodes.push_back(std::move(ns));
  }
  return result;
}

Expected<std::optional<SlabAddress>> find_slab_address(const Program& program, uint64_t address) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(l, slub_layout(program));
  CORONER_TRY(pages, PageMap::of(program));
  auto phys = memory.to_physical(address);
  if (!phys) return std::optional<SlabAddress>();
  auto page = pages->page_of_pfn(*phys / l->page_size);
  if (!page) return std::optional<SlabAddress>();
  CORONER_TRY(slab, pages->head_of(memory, *page));
  auto slab_flag = pages->flag_bit("slab");
  if (!slab_flag) return make_error(Errc::unsupported, "enum pageflags has no PG_slab");
  CORONER_TRY(flags, memory.read_u64(slab + pages->layout().flags));
  if (!((flags >> *slab_flag) & 1)) return std::optional<SlabAddress>();
  CORONER_TRY(cache, memory.read_u64(slab + l->slab_cache));
  CORONER_TRY(head, read_cache_head(program, *l, cache));
  SlabAddress found;
  CORONER_TRY(counted, counted_cache(program, *l, cache));
  found.cache = std::move(counted);
  CORONER_TRY(s, read_slab_of(program, *l, head, slab));
  found.slab = std::move(s);
  // The object whose [start, start + size) holds the address (by the
  // address in the direct map, where the slab's objects are).
  uint64_t in_direct_map = pages->direct_map_base() + *phys;
  for (const SlabObject& object : found.slab.object_list)
    if (in_direct_map >= object.address - head.red_left_pad &&
        in_direct_map < object.address - head.red_left_pad + head.info.size)
      found.object = object;
  return std::optional<SlabAddress>(std::move(found));
}

}  // namespace coroner::linux_kernel
