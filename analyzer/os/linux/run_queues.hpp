// The scheduler's per-CPU run queues (per_cpu(runqueues, cpu), struct rq):
// the task running there, and the tasks queued on each scheduling class,
// as crash's runq shows them:
//   RT        rq->rt.active, a list of sched_rt_entity per priority
//             (rt_prio_array.queue[]); a group entity (my_q, RT_GROUP_SCHED)
//             stands for its rt_rq's own queues.
//   CFS       the red-black tree rq->cfs.tasks_timeline of sched_entity
//             (run_node), in vruntime order -- EEVDF (6.6+) keeps the same
//             tree; a group entity (my_q, FAIR_GROUP_SCHED) stands for its
//             cfs_rq's tree, and the cfs_rq's running entity (curr) is not
//             in the tree, so a running group is entered through it.
//   deadline  the tree rq->dl.root of sched_dl_entity (rb_node).
// Bounded: the trees and lists are walked with limits and a queue seen twice
// ends the descent; an unreadable queue costs only its own entries (listed
// in RunQueue::skipped).
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct QueuedTask {
  uint64_t task = 0;   // struct task_struct *
  int64_t prio = 0;    // task_struct.prio; for RT the queue's index
  unsigned depth = 0;  // task groups above it (0: queued on the CPU's own queue)
  uint64_t queue = 0;  // the cfs_rq / rt_rq it is queued on
  // The cfs_rq's running entity (cfs_rq->curr), which the tree leaves out:
  // only crash's -g view lists it, as [CURRENT].
  bool running = false;
};

// A task group's cfs_rq on one CPU (FAIR_GROUP_SCHED), entered through its
// group entity: the tasks of `cfs` from `first` on up to the next group's
// are queued there (or deeper).
struct CfsGroup {
  uint64_t cfs_rq = 0;
  uint64_t task_group = 0;  // cfs_rq->tg
  std::string name;         // its cgroup's name ("/" for the top), "" if unknown
  unsigned depth = 0;       // 1 for a child of the root group
  size_t first = 0;         // index into RunQueue::cfs
  bool throttled = false;   // cfs_rq->throttled (CFS bandwidth)
};

struct RunQueue {
  uint32_t cpu = 0;
  uint64_t address = 0;   // the struct rq
  uint64_t current = 0;   // rq->curr
  uint64_t clock = 0;     // rq->clock (ns)
  uint64_t rt_rq = 0;     // &rq->rt
  uint64_t rt_array = 0;  // &rq->rt.active
  uint64_t cfs_rq = 0;    // &rq->cfs
  uint64_t cfs_root = 0;  // &rq->cfs.tasks_timeline
  uint64_t dl_root = 0;   // &rq->dl.root
  std::vector<QueuedTask> rt, cfs, dl;
  std::vector<CfsGroup> cfs_groups;  // in the order they were entered
  std::vector<Error> skipped;  // queues that could not be read
};

// The run queue of each CPU in `cpus`. An error only when the kernel has
// no runqueues or no DWARF for them.
Expected<std::vector<RunQueue>> run_queues(const Program& program, const std::vector<uint32_t>& cpus);

// A task's last arrival on a CPU (sched_info.last_arrival, ns): 0 when the
// kernel keeps none (no CONFIG_SCHED_INFO), as crash prints it.
Expected<uint64_t> last_arrival(const Program& program, uint64_t task);

}  // namespace coroner::linux_kernel
