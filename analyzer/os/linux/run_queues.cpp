#include "analyzer/os/linux/run_queues.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/cached_layout.hpp"
#include "analyzer/os/linux/kernel_trees.hpp"
#include "analyzer/os/linux/list_walk.hpp"

#include <set>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxQueued = 1 << 20;  // tasks on one CPU's queues, far above PID_MAX_LIMIT per CPU
constexpr unsigned kMaxGroupDepth = 64;  // task group nesting (cgroup depth is far lower in practice)

struct RunQueueLayout {
  uint64_t rq_curr = 0, rq_clock = 0, rq_cfs = 0, rq_rt = 0, rq_dl = 0;
  uint64_t cfs_timeline = 0, cfs_curr = 0;
  uint64_t se_run_node = 0;
  std::optional<uint64_t> se_my_q;  // FAIR_GROUP_SCHED
  uint64_t cfs_tg = 0;  // with se_my_q
  std::optional<uint64_t> cfs_throttled_member;  // CFS_BANDWIDTH
  uint64_t tg_css = 0, css_cgroup = 0, cgroup_kn = 0, kn_parent = 0, kn_name = 0;
  uint64_t rt_active = 0, prio_queue = 0;
  unsigned prio_queues = 0;  // MAX_RT_PRIO
  uint64_t list_head_size = 0;
  uint64_t rt_se_run_list = 0;
  std::optional<uint64_t> rt_se_my_q;  // RT_GROUP_SCHED
  uint64_t dl_root = 0, dl_se_rb_node = 0;
  uint64_t task_se = 0, task_rt = 0, task_dl = 0, task_prio = 0;
  std::optional<uint64_t> task_last_arrival;  // SCHED_INFO
  RbTreeLayout rb;
};

std::optional<uint64_t> optional_offset(const Program& program, std::string_view type, std::string_view member) {
  auto offset = program.member_offset(type, member);
  return offset ? std::optional(*offset) : std::nullopt;
}

Expected<RunQueueLayout> read_run_queue_layout(const Program& program) {
  RunQueueLayout l;
  CORONER_TRY(curr, program.member_offset("struct rq", "curr"));
  CORONER_TRY(clock, program.member_offset("struct rq", "clock"));
  CORONER_TRY(cfs, program.member_offset("struct rq", "cfs"));
  CORONER_TRY(rt, program.member_offset("struct rq", "rt"));
  CORONER_TRY(dl, program.member_offset("struct rq", "dl"));
  l.rq_curr = curr, l.rq_clock = clock, l.rq_cfs = cfs, l.rq_rt = rt, l.rq_dl = dl;
  // tasks_timeline is an rb_root_cached since 4.14, an rb_root before: the
  // rb_root comes first either way.
  CORONER_TRY(timeline, program.member_offset("struct cfs_rq", "tasks_timeline"));
  CORONER_TRY(cfs_curr, program.member_offset("struct cfs_rq", "curr"));
  CORONER_TRY(run_node, program.member_offset("struct sched_entity", "run_node"));
  l.cfs_timeline = timeline, l.cfs_curr = cfs_curr, l.se_run_node = run_node;
  l.se_my_q = optional_offset(program, "struct sched_entity", "my_q");
  if (l.se_my_q) {
    CORONER_TRY(tg, program.member_offset("struct cfs_rq", "tg"));
    l.cfs_tg = tg;
    l.cfs_throttled_member = optional_offset(program, "struct cfs_rq", "throttled");
    // The group's name, as cgroup v2 (kernfs, 3.15+) keeps it; none before.
    auto css = program.member_offset("struct task_group", "css");
    auto cgroup = program.member_offset("struct cgroup_subsys_state", "cgroup");
    auto kn = program.member_offset("struct cgroup", "kn");
    auto parent = program.member_offset("struct kernfs_node", "parent");
    auto name = program.member_offset("struct kernfs_node", "name");
    if (css && cgroup && kn && parent && name)
      l.tg_css = *css, l.css_cgroup = *cgroup, l.cgroup_kn = *kn, l.kn_parent = *parent, l.kn_name = *name;
  }
  CORONER_TRY(active, program.member_offset("struct rt_rq", "active"));
  CORONER_TRY(queue, program.member_offset("struct rt_prio_array", "queue"));
  CORONER_TRY(array_size, program.type_size("struct rt_prio_array"));
  CORONER_TRY(list_head_size, program.type_size("struct list_head"));
  // queue[MAX_RT_PRIO] is the array's last member.
  l.rt_active = active, l.prio_queue = queue, l.list_head_size = list_head_size;
  l.prio_queues = static_cast<unsigned>((array_size - queue) / list_head_size);
  CORONER_TRY(run_list, program.member_offset("struct sched_rt_entity", "run_list"));
  l.rt_se_run_list = run_list;
  l.rt_se_my_q = optional_offset(program, "struct sched_rt_entity", "my_q");
  CORONER_TRY(dl_root, program.member_offset("struct dl_rq", "root"));
  CORONER_TRY(dl_node, program.member_offset("struct sched_dl_entity", "rb_node"));
  l.dl_root = dl_root, l.dl_se_rb_node = dl_node;
  CORONER_TRY(se, program.member_offset("struct task_struct", "se"));
  CORONER_TRY(task_rt, program.member_offset("struct task_struct", "rt"));
  CORONER_TRY(task_dl, program.member_offset("struct task_struct", "dl"));
  CORONER_TRY(prio, program.member_offset("struct task_struct", "prio"));
  l.task_se = se, l.task_rt = task_rt, l.task_dl = task_dl, l.task_prio = prio;
  l.task_last_arrival = optional_offset(program, "struct task_struct", "sched_info.last_arrival");
  CORONER_TRY(rb, rbtree_layout(program));
  l.rb = rb;
  return l;
}

Expected<RunQueueLayout> run_queue_layout(const Program& program) {
  return cached_layout(program, read_run_queue_layout);
}

class QueueWalk {
 public:
  QueueWalk(const KernelMemory& memory, const RunQueueLayout& layout, RunQueue& rq)
      : memory_(memory), l_(layout), rq_(rq) {}

  // The CFS tree of the cfs_rq at `cfs_rq`, entering group entities.
  void cfs(uint64_t cfs_rq, unsigned depth) {
    if (!enter(cfs_rq, depth, "cfs_rq")) return;
    if (depth > 0) rq_.cfs_groups.push_back(group(cfs_rq, depth));
    // The running entity is not in the tree: a group is entered through
    // it, a task is the running one.
    auto curr = memory_.read_u64(cfs_rq + l_.cfs_curr);
    if (!curr) return skip(curr.error(), "cfs_rq", cfs_rq);
    if (*curr) {
      auto my_q = l_.se_my_q ? memory_.read_u64(*curr + *l_.se_my_q) : Expected<uint64_t>(0);
      if (!my_q) return skip(my_q.error(), "cfs_rq", cfs_rq);
      if (*my_q) cfs(*my_q, depth + 1);
      else add(rq_.cfs, *curr - l_.task_se, depth, cfs_rq, std::nullopt, /*running=*/true);
    }
    auto nodes = walk_rbtree(memory_, l_.rb, cfs_rq + l_.cfs_timeline, RbOrder::linear, false, kMaxQueued);
    if (!nodes) return skip(nodes.error(), "cfs_rq", cfs_rq);
    for (const RbNode& node : *nodes) {
      uint64_t se = node.address - l_.se_run_node;
      if (l_.se_my_q) {
        auto my_q = memory_.read_u64(se + *l_.se_my_q);
        if (!my_q) {
          skip(my_q.error(), "sched_entity", se);
          continue;
        }
        if (*my_q) {
          cfs(*my_q, depth + 1);
          continue;
        }
      }
      add(rq_.cfs, se - l_.task_se, depth, cfs_rq);
    }
  }

  // The priority queues of the rt_prio_array at `array`.
  void rt(uint64_t array, unsigned depth) {
    if (!enter(array, depth, "rt_prio_array")) return;
    for (unsigned prio = 0; prio < l_.prio_queues; ++prio) {
      uint64_t head = array + l_.prio_queue + prio * l_.list_head_size;
      ListBudget budget{kMaxQueued};
      auto walked = walk_list(memory_, "rt_prio_array queue", head, l_.rt_se_run_list, budget,
                              [&](uint64_t rt_se) -> Expected<void> {
        if (l_.rt_se_my_q) {
          CORONER_TRY(my_q, memory_.read_u64(rt_se + *l_.rt_se_my_q));
          if (my_q) {
            rt(my_q + l_.rt_active, depth + 1);
            return {};
          }
        }
        add(rq_.rt, rt_se - l_.task_rt, depth, array - l_.rt_active, prio);
        return {};
      });
      if (!walked) skip(walked.error(), fmt::format("RT queue {} of rt_prio_array", prio), array);
    }
  }

  void dl(uint64_t root) {
    auto nodes = walk_rbtree(memory_, l_.rb, root, RbOrder::linear, false, kMaxQueued);
    if (!nodes) return skip(nodes.error(), "dl_rq", root - l_.dl_root);
    for (const RbNode& node : *nodes) add(rq_.dl, node.address - l_.dl_se_rb_node - l_.task_dl, 0, root - l_.dl_root);
  }

 private:
  bool enter(uint64_t queue, unsigned depth, std::string_view what) {
    if (depth > kMaxGroupDepth) {
      skip(make_error(Errc::corrupt, "task groups nested deeper than {}", kMaxGroupDepth), what, queue);
      return false;
    }
    if (!seen_.insert(queue).second) {
      skip(make_error(Errc::corrupt, "reached twice (a loop)"), what, queue);
      return false;
    }
    return true;
  }

  CfsGroup group(uint64_t cfs_rq, unsigned depth) {
    CfsGroup g{cfs_rq, 0, "", depth, rq_.cfs.size(), false};
    g.task_group = memory_.read_u64(cfs_rq + l_.cfs_tg).value_or(0);
    if (l_.cfs_throttled_member) g.throttled = memory_.read_u32(cfs_rq + *l_.cfs_throttled_member).value_or(0) != 0;
    if (g.task_group && l_.kn_name) {
      auto cgroup = memory_.read_u64(g.task_group + l_.tg_css + l_.css_cgroup);
      auto kn = cgroup && *cgroup ? memory_.read_u64(*cgroup + l_.cgroup_kn) : Expected<uint64_t>(0);
      auto parent = kn && *kn ? memory_.read_u64(*kn + l_.kn_parent) : Expected<uint64_t>(0);
      auto name = kn && *kn ? memory_.read_u64(*kn + l_.kn_name) : Expected<uint64_t>(0);
      if (parent && *kn && *parent == 0) g.name = "/";
      else if (name && *name) g.name = memory_.read_string(*name, 256).value_or("");
    }
    return g;
  }

  void add(std::vector<QueuedTask>& to, uint64_t task, unsigned depth, uint64_t queue,
           std::optional<int64_t> rt_prio = std::nullopt, bool running = false) {
    QueuedTask q{task, 0, depth, queue, running};
    if (rt_prio) {
      q.prio = *rt_prio;
    } else if (auto prio = memory_.read_value<int32_t>(task + l_.task_prio)) {
      q.prio = *prio;
    } else {
      return skip(prio.error(), "queued task", task);
    }
    to.push_back(q);
  }

  void skip(const Error& e, std::string_view what, uint64_t address) {
    rq_.skipped.push_back(e.context(fmt::format("CPU {}: {} {:#x}", rq_.cpu, what, address)));
  }

  const KernelMemory& memory_;
  const RunQueueLayout& l_;
  RunQueue& rq_;
  std::set<uint64_t> seen_;
};

}  // namespace

Expected<std::vector<RunQueue>> run_queues(const Program& program, const std::vector<uint32_t>& cpus) {
  CORONER_TRY(l, run_queue_layout(program));
  CORONER_TRY(runqueues, find_kernel_global(program, "runqueues"));
  const KernelMemory& memory = program.memory();
  std::vector<RunQueue> result;
  for (uint32_t cpu : cpus) {
    RunQueue& rq = result.emplace_back();
    rq.cpu = cpu;
    auto object = per_cpu(runqueues, cpu);
    if (!object || !object->address()) {
      rq.skipped.push_back(object ? make_error(Errc::not_found, "CPU {}: no per-CPU runqueue", cpu)
                                  : object.error().context(fmt::format("CPU {}: runqueue", cpu)));
      continue;
    }
    rq.address = *object->address();
    rq.rt_rq = rq.address + l.rq_rt;
    rq.rt_array = rq.rt_rq + l.rt_active;
    rq.cfs_rq = rq.address + l.rq_cfs;
    rq.cfs_root = rq.cfs_rq + l.cfs_timeline;
    rq.dl_root = rq.address + l.rq_dl + l.dl_root;
    auto current = memory.read_u64(rq.address + l.rq_curr);
    auto clock = memory.read_u64(rq.address + l.rq_clock);
    if (!current || !clock) {
      rq.skipped.push_back((!current ? current.error() : clock.error()).context(fmt::format("CPU {}: rq", cpu)));
      continue;
    }
    rq.current = *current, rq.clock = *clock;
    QueueWalk walk(memory, l, rq);
    walk.rt(rq.rt_array, 0);
    walk.cfs(rq.cfs_rq, 0);
    walk.dl(rq.dl_root);
  }
  return result;
}

Expected<uint64_t> last_arrival(const Program& program, uint64_t task) {
  CORONER_TRY(l, run_queue_layout(program));
  if (!l.task_last_arrival) return uint64_t{0};
  return program.memory().read_u64(task + *l.task_last_arrival);
}

}  // namespace coroner::linux_kernel
