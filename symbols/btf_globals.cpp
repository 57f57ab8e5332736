#include "symbols/btf_globals.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace coroner::symbols {

namespace {

// Sorted by name.
constexpr std::array<std::pair<std::string_view, KnownGlobal>, 51> kGlobals = {{
    {"__cpu_active_mask", {"struct cpumask"}},
    {"__cpu_online_mask", {"struct cpumask"}},
    {"__cpu_possible_mask", {"struct cpumask"}},
    {"__cpu_present_mask", {"struct cpumask"}},
    {"__per_cpu_offset", {"unsigned long", true}},
    {"_totalram_pages", {"atomic_long_t"}},
    {"contig_page_data", {"struct pglist_data"}},
    {"cpu_info", {"struct cpuinfo_x86", false, true}},
    {"current_task", {"struct task_struct *", false, true}},
    {"high_memory", {"void *"}},
    {"hrtimer_bases", {"struct hrtimer_cpu_base", false, true}},
    {"hstates", {"struct hstate", true}},
    {"init_fs", {"struct fs_struct"}},
    {"init_mm", {"struct mm_struct"}},
    {"init_net", {"struct net"}},
    {"init_nsproxy", {"struct nsproxy"}},
    {"init_pid_ns", {"struct pid_namespace"}},
    {"init_stack", {"unsigned long", true}},
    {"init_task", {"struct task_struct"}},
    {"init_user_ns", {"struct user_namespace"}},
    {"init_uts_ns", {"struct uts_namespace"}},
    {"jiffies", {"unsigned long"}},
    {"jiffies_64", {"u64"}},
    {"major_names", {"struct blk_major_name *", true}},
    {"modules", {"struct list_head"}},
    {"node_data", {"pg_data_t *", true}},
    {"nr_cpu_ids", {"unsigned int"}},
    {"nr_irqs", {"int"}},
    {"nr_node_ids", {"unsigned int"}},
    {"nr_swapfiles", {"unsigned int"}},
    {"nr_swapper_spaces", {"unsigned int", true}},
    {"pageflag_names", {"struct trace_print_flags", true}},
    {"panic_cpu", {"atomic_t"}},
    {"prb", {"struct printk_ringbuffer *"}},
    {"runqueues", {"struct rq", false, true}},
    {"slab_caches", {"struct list_head"}},
    {"super_blocks", {"struct list_head"}},
    {"swap_info", {"struct swap_info_struct *", true}},
    {"swapper_spaces", {"struct address_space *", true}},
    {"sys_call_table", {"unsigned long", true}},
    {"taint_flags", {"struct taint_flag", true}},
    {"tainted_mask", {"unsigned long"}},
    {"timer_bases", {"struct timer_base", true, true}},
    {"tnts", {"struct tnt", true}},
    {"totalram_pages", {"unsigned long"}},
    {"vm_event_states", {"struct vm_event_state", false, true}},
    {"vm_node_stat", {"atomic_long_t", true}},
    {"vm_numa_event", {"atomic_long_t", true}},
    {"vm_zone_stat", {"atomic_long_t", true}},
    {"vmap_area_list", {"struct list_head"}},
    {"vmcoreinfo_data", {"unsigned char *"}},
}};

}  // namespace

std::optional<KnownGlobal> known_global(std::string_view name) {
  static_assert(std::is_sorted(kGlobals.begin(), kGlobals.end(),
                               [](const auto& a, const auto& b) { return a.first < b.first; }));
  auto it = std::lower_bound(kGlobals.begin(), kGlobals.end(), name,
                             [](const auto& entry, std::string_view key) { return entry.first < key; });
  if (it == kGlobals.end() || it->first != name) return std::nullopt;
  return it->second;
}

}  // namespace coroner::symbols
