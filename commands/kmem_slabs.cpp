// kmem -S [CACHE]: the slabs of a cache with their objects, as crash lists
// them: each CPU's kmem_cache_cpu, its current slab (every object, free or
// [allocated]) and its partial slabs, then each node's counts (SLABS
// PARTIAL PER-CPU), its partial list and its full list (or "(not
// tracked)").
#include "commands/kmem_views.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

// A slab with every object, as crash's verbose slab view.
void print_slab_objects(std::ostream& out, const linux_kernel::Slab& slab) {
  out << kSlabHeader << slab_line(slab) << "  FREE / [ALLOCATED]\n";
  for (const linux_kernel::SlabObject& object : slab.object_list) out << slab_object_line(slab, object);
}

// A node's list: the header once, then a line per slab.
void print_slab_list(std::ostream& out, const std::vector<linux_kernel::Slab>& slabs) {
  if (slabs.empty()) {
    out << "  (empty)\n";
    return;
  }
  out << kSlabHeader;
  for (const linux_kernel::Slab& slab : slabs) out << slab_line(slab);
}

void print_cache_slabs(std::ostream& out, const linux_kernel::CacheSlabs& c) {
  out << kSlabCacheHeader << slab_cache_line(c.cache);
  for (const linux_kernel::CpuSlabs& cpu : c.cpus) {
    out << fmt::format("CPU {} KMEM_CACHE_CPU:\n  {:x}\nCPU {} SLAB:\n", cpu.cpu, cpu.kmem_cache_cpu, cpu.cpu);
    if (cpu.slab) print_slab_objects(out, *cpu.slab);
    else out << "  (empty)\n";
    out << fmt::format("CPU {} PARTIAL:\n", cpu.cpu);
    if (cpu.partial.empty()) out << "  (empty)\n";
    for (const linux_kernel::Slab& slab : cpu.partial) print_slab_objects(out, slab);
  }
  for (const linux_kernel::NodeSlabs& node : c.nodes) {
    out << "KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU\n";
    out << fmt::format("{:x}  {:>4}  {:>5}  {:>7}  {:>7}\n", node.kmem_cache_node, node.node, node.nr_slabs,
                       node.nr_partial, node.per_cpu);
    out << fmt::format("NODE {} PARTIAL:\n", node.node);
    print_slab_list(out, node.partial);
    out << fmt::format("NODE {} FULL:\n", node.node);
    if (node.full) print_slab_list(out, *node.full);
    else out << "  (not tracked)\n";
  }
  out << '\n';
  for (const Error& e : c.errors) out << "kmem: " << e.message() << '\n';
}

nlohmann::json cache_slabs_json(const linux_kernel::CacheSlabs& c) {
  nlohmann::json j = slab_cache_json(c.cache);
  auto slabs = [](const std::vector<linux_kernel::Slab>& list, bool objects) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& s : list) a.push_back(slab_json(s, objects));
    return a;
  };
  nlohmann::json cpus = nlohmann::json::array();
  for (const auto& cpu : c.cpus)
    cpus.push_back({{"cpu", cpu.cpu},
                    {"kmem_cache_cpu", hex(cpu.kmem_cache_cpu)},
                    {"slab", cpu.slab ? slab_json(*cpu.slab, true) : nlohmann::json(nullptr)},
                    {"partial", slabs(cpu.partial, true)}});
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : c.nodes)
    nodes.push_back({{"node", n.node},
                     {"kmem_cache_node", hex(n.kmem_cache_node)},
                     {"slabs", n.nr_slabs},
                     {"partial_count", n.nr_partial},
                     {"per_cpu", n.per_cpu},
                     {"partial", slabs(n.partial, false)},
                     {"full", n.full ? slabs(*n.full, false) : nlohmann::json(nullptr)}});
  j["cpus"] = cpus, j["nodes"] = nodes;
  if (!c.errors.empty()) {
    std::vector<std::string> errors;
    for (const Error& e : c.errors) errors.push_back(e.message());
    j["slab_errors"] = errors;
  }
  return j;
}

}  // namespace

Expected<void> show_cache_slabs(CommandContext& ctx, const std::vector<linux_kernel::SlabCache>& caches) {
  nlohmann::json list = nlohmann::json::array();
  for (const linux_kernel::SlabCache& cache : caches) {
    CORONER_TRY(slabs, linux_kernel::cache_slabs(ctx.program, cache));
    if (ctx.json()) list.push_back(cache_slabs_json(slabs));
    else print_cache_slabs(ctx.out, slabs);
  }
  if (ctx.json()) ctx.emit({{"caches", list}});
  return {};
}

}  // namespace coroner::commands
