#include "analyzer/os/linux/layout_inference/task_layout_inference.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_set>

namespace coroner::linux_kernel::inference {

namespace {

constexpr uint64_t kTaskWindow = 16384;  // more than any task_struct's size but x86_64's FPU state at its end
constexpr uint64_t kRqWindow = 16384;
constexpr uint32_t kStackEndMagic = 0x57AC6E9D;  // end_of_stack() of every task (set_task_stack_end_magic)
constexpr uint32_t kPfKthread = 0x00200000;
constexpr uint32_t kMaxPid = 4194304;  // PID_MAX_LIMIT
constexpr uint32_t kSigchld = 17;
constexpr size_t kCommLength = 16;
constexpr size_t kMaxListLength = 1 << 20;
constexpr uint64_t kMaxSignalOffset = 4096;
constexpr uint64_t kMaxCurrDistance = 64;  // rq.curr before rq.idle
// The share of tasks a member's test must hold for: a task that was being
// created or torn down at the crash may hold anything.
constexpr double kQuorum = 0.9;

Error unfound(std::string_view member, std::string_view why) {
  return make_error(Errc::not_found, "task_struct.{} not found in memory: {}", member, why);
}

class TaskSearch {
 public:
  explicit TaskSearch(const MemoryProbe& probe) : probe_(probe) {}

  Expected<TaskOffsets> run() {
    auto init = probe_.symbol("init_task");
    if (!init) return unfound("comm", "no init_task in kallsyms");
    init_ = probe_.snapshot(*init, kTaskWindow);
    if (init_.empty()) return unfound("comm", fmt::format("init_task {:#x} is not in the dump", *init));
    CORONER_CHECK(find_comm());
    CORONER_CHECK(find_task_list());
    CORONER_CHECK(find_pid());
    CORONER_CHECK(find_stack());
    CORONER_CHECK(find_runqueue());
    CORONER_CHECK(find_cpu());
    CORONER_CHECK(find_parent());
    CORONER_CHECK(find_threads());
    CORONER_CHECK(find_mm());
    CORONER_CHECK(find_exit_state());
    CORONER_CHECK(probe_.program().arch().machine() == Machine::x86_64 ? find_x86_64_frame() : find_aarch64_frame());
    for (const Snapshot* t : everyone()) {
      o_.all_tasks.push_back(t->address());
      if (t != &init_ && !(t->u32(o_.flags) & kPfKthread)) o_.user_tasks.push_back(t->address());
    }
    return o_;
  }

 private:
  // init_task's comm: "swapper", or "swapper/0" once the boot CPU idles.
  Expected<void> find_comm() {
    for (uint64_t at = 0; at + kCommLength <= init_.size(); ++at)
      if (auto comm = init_.text(at, kCommLength); comm && comm->starts_with("swapper")) {
        o_.comm = at;
        return {};
      }
    return unfound("comm", "no \"swapper\" in init_task");
  }

  // tasks: the list_head at which init_task's neighbours link back to it
  // and every entry is a task with a comm; the longest such ring.
  Expected<void> find_task_list() {
    std::vector<uint64_t> best;
    for (uint64_t at = 0; at + 16 <= init_.size(); at += 8) {
      const uint64_t self = init_.address() + at, next = init_.u64(at), prev = init_.u64(at + 8);
      if (next == self || !MemoryProbe::kernel_address(next) || !MemoryProbe::kernel_address(prev)) continue;
      if (probe_.u64(next + 8) != self || probe_.u64(prev) != self) continue;
      std::vector<uint64_t> ring;
      std::unordered_set<uint64_t> seen;  // a ring that loops short of init_task is no list of it
      bool whole = true;
      for (uint64_t link = next; link != self;) {
        if (ring.size() >= kMaxListLength || !seen.insert(link).second ||
            !probe_.text(link - at + o_.comm, kCommLength)) {
          whole = false;
          break;
        }
        ring.push_back(link - at);
        auto following = probe_.u64(link);
        if (!following) {
          whole = false;
          break;
        }
        link = *following;
      }
      if (whole && ring.size() >= 2 && ring.size() > best.size()) best = std::move(ring), o_.tasks = at;
    }
    if (best.empty()) return unfound("tasks", "no list through init_task links tasks");
    for (uint64_t task : best) leaders_.push_back(probe_.snapshot(task, kTaskWindow));
    return {};
  }

  // pid, then tgid: 0 in init_task, 1 in the first task forked, distinct,
  // and equal to each other in the leaders the list links.
  Expected<void> find_pid() {
    for (uint64_t at = 0; at + 8 <= o_.comm; at += 4) {
      if (init_.u32(at) != 0 || init_.u32(at + 4) != 0 || leaders_[0].u32(at) != 1) continue;
      std::set<uint32_t> seen;
      const bool fits = std::all_of(leaders_.begin(), leaders_.end(), [&](const Snapshot& t) {
        const uint32_t pid = t.u32(at);
        return pid > 0 && pid <= kMaxPid && t.u32(at + 4) == pid && seen.insert(pid).second;
      });
      if (fits) {
        o_.pid = at;
        return {};
      }
    }
    return unfound("pid", "no field holds 0 in init_task, 1 in init and distinct PIDs in the others");
  }

  // stack: init_stack in init_task, STACK_END_MAGIC at the end of the
  // others'. The state comes before it and the flags after its usage count
  // (4.18 to 6.x: state; stack; usage; flags).
  Expected<void> find_stack() {
    auto init_stack = probe_.symbol("init_stack");
    if (!init_stack) return unfound("stack", "no init_stack in kallsyms");
    for (uint64_t at = 8; at + 8 <= init_.size(); at += 8) {
      if (init_.u64(at) != *init_stack) continue;
      if (!held_by_most(leaders_, [&](const Snapshot& t) { return probe_.u32(t.u64(at)) == kStackEndMagic; })) continue;
      o_.stack = at, o_.state = at - 8, o_.flags = at + 12;
      if (!(init_.u32(o_.flags) & kPfKthread) || (leaders_[0].u32(o_.flags) & kPfKthread))
        return unfound("flags", "PF_KTHREAD is not set in init_task alone of init_task and init");
      return {};
    }
    return unfound("stack", "no field holds init_stack in init_task and the stack end magic's address in the others");
  }

  // rq.idle: init_task in CPU 0's runqueue, swapper/N in CPU N's. curr
  // comes before it: right before (4.18 to 6.11), or before dl_server
  // (6.12): the nearest field that holds a task on every CPU.
  Expected<void> find_runqueue() {
    auto runqueues = probe_.symbol("runqueues");
    if (!runqueues) return make_error(Errc::not_found, "struct rq not found in memory: no runqueues in kallsyms");
    std::vector<Snapshot> rqs;
    for (uint32_t cpu : probe_.cpus()) {
      auto rq = probe_.per_cpu(*runqueues, cpu);
      rqs.push_back(rq ? probe_.snapshot(*rq, kRqWindow) : Snapshot());
    }
    std::optional<uint64_t> idle;
    for (uint64_t at = 8; at + 8 <= rqs[0].size(); at += 8) {
      if (rqs[0].u64(at) != init_.address()) continue;
      bool fits = true;
      for (size_t i = 1; i < rqs.size() && fits; ++i)
        fits = probe_.text(rqs[i].u64(at) + o_.comm, kCommLength) == fmt::format("swapper/{}", probe_.cpus()[i]);
      if (fits) idle = at;  // the last: curr is init_task too when CPU 0 idles
    }
    if (!idle) return make_error(Errc::not_found, "struct rq not found in memory: no runqueue member holds init_task");
    o_.rq_idle = *idle;
    for (size_t i = 1; i < rqs.size(); ++i) idle_.push_back(probe_.snapshot(rqs[i].u64(*idle), kTaskWindow));
    for (uint64_t at = *idle - 8; at + kMaxCurrDistance >= *idle && at > 0; at -= 8)
      if (std::all_of(rqs.begin(), rqs.end(), [&](const Snapshot& rq) { return is_task(rq.u64(at)); })) {
        o_.rq_curr = at;
        return {};
      }
    return make_error(Errc::not_found, "struct rq not found in memory: no field before idle holds every CPU's task");
  }

  // cpu (thread_info.cpu from 5.16, task_struct.cpu before): N in CPU N's
  // idle task, below the CPU count in every task.
  Expected<void> find_cpu() {
    const uint32_t count = probe_.cpus().back() + 1;
    std::vector<uint64_t> candidates;
    for (uint64_t at = 0; at + 4 <= o_.comm; at += 4) {
      bool fits = init_.u32(at) == 0;
      for (size_t i = 0; i < idle_.size() && fits; ++i) fits = idle_[i].u32(at) == probe_.cpus()[i + 1];
      fits =
          fits && std::all_of(leaders_.begin(), leaders_.end(), [&](const Snapshot& t) { return t.u32(at) < count; });
      if (fits) candidates.push_back(at);
    }
    if (candidates.empty()) return unfound("cpu", "no field holds N in CPU N's idle task");
    o_.cpu = candidates.front();
    // One CPU: every field of zeros fits; thread_info.cpu is the last of
    // thread_info, right before the state.
    if (idle_.empty())
      for (uint64_t at : candidates)
        if (at < o_.state) o_.cpu = at;
    return {};
  }

  // real_parent: a task, never the task itself but in init_task, soon after
  // the tgid; parent follows it, then children, sibling, group_leader.
  Expected<void> find_parent() {
    std::unordered_set<uint64_t> tasks{init_.address()};
    for (const Snapshot& t : leaders_) tasks.insert(t.address());
    for (uint64_t at = o_.pid + 8; at < o_.pid + 128; at += 8) {
      if (init_.u64(at) != init_.address()) continue;
      // (A parent may be a thread, which the list does not link.)
      if (!held_by_most(leaders_,
                        [&](const Snapshot& t) { return tasks.count(t.u64(at)) && t.u64(at) != t.address(); }))
        continue;
      o_.real_parent = at;
      for (uint64_t leader = at + 16; leader < at + 256; leader += 8)
        if (init_.u64(leader) == init_.address() &&
            std::all_of(leaders_.begin(), leaders_.end(),
                        [&](const Snapshot& t) { return t.u64(leader) == t.address(); })) {
          o_.group_leader = leader;
          return {};
        }
      return unfound("group_leader", "no field after real_parent points to the task itself");
    }
    return unfound("real_parent", "no field after the tgid points to another task");
  }

  // thread_node: a ring through each leader's threads and one node that is
  // not a task, signal->thread_head; signal is the pointer a constant
  // distance before that node in every leader.
  Expected<void> find_threads() {
    const uint64_t tgid = o_.pid + 4;
    // The leaders the list links (init_task's tgid 0 is no test of a thread).
    std::vector<const Snapshot*> groups;
    for (const Snapshot& t : leaders_) groups.push_back(&t);
    for (uint64_t at = o_.group_leader + 8; at < o_.group_leader + 512; at += 8) {
      std::vector<uint64_t> heads, threads;
      bool fits = true;
      for (const Snapshot* leader : groups) {
        const uint64_t self = leader->address() + at;
        std::optional<uint64_t> head;
        std::unordered_set<uint64_t> seen;
        for (uint64_t link = leader->u64(at), steps = 0; fits && link != self; ++steps) {
          if (steps > kMaxListLength || !MemoryProbe::kernel_address(link) || !seen.insert(link).second)
            fits = false;
          else if (probe_.u32(link - at + tgid) == leader->u32(tgid) &&
                   probe_.u32(link - at + o_.pid) != leader->u32(tgid))
            threads.push_back(link - at);
          else if (head)
            fits = false;
          else
            head = link;
          if (fits) {
            auto following = probe_.u64(link);
            if (!following)
              fits = false;
            else
              link = *following;
          }
        }
        if (!fits || !head) {
          fits = false;
          break;
        }
        heads.push_back(*head);
      }
      if (!fits) continue;
      for (uint64_t signal = 0; signal + 8 <= init_.size(); signal += 8) {
        if (signal == at || signal == at + 8) continue;  // the ring's own links point at the head too
        const uint64_t base = groups[0]->u64(signal);
        if (!MemoryProbe::kernel_address(base) || heads[0] < base || heads[0] - base >= kMaxSignalOffset) continue;
        const uint64_t distance = heads[0] - base;
        bool same = true;
        for (size_t i = 1; i < groups.size() && same; ++i) same = heads[i] - groups[i]->u64(signal) == distance;
        if (!same) continue;
        o_.thread_node = at, o_.signal = signal, o_.thread_head = distance;
        for (uint64_t thread : threads) threads_.push_back(probe_.snapshot(thread, kTaskWindow));
        return {};
      }
    }
    return unfound("thread_node", "no ring through every thread group and its signal_struct");
  }

  // mm, then active_mm: NULL in kernel threads, the same mm_struct twice
  // in user processes; soon after the tasks list.
  Expected<void> find_mm() {
    std::vector<const Snapshot*> kernel{&init_}, user;
    for (const Snapshot& t : leaders_) (t.u32(o_.flags) & kPfKthread ? kernel : user).push_back(&t);
    if (user.empty()) return unfound("mm", "the dump has no user process");
    for (uint64_t at = o_.tasks + 16; at < o_.tasks + 512; at += 8) {
      const bool fits = std::all_of(kernel.begin(), kernel.end(), [&](const Snapshot* t) { return t->u64(at) == 0; }) &&
                        std::all_of(user.begin(), user.end(), [&](const Snapshot* t) {
                          return MemoryProbe::kernel_address(t->u64(at)) && t->u64(at + 8) == t->u64(at);
                        });
      if (fits) {
        o_.mm = at;
        return {};
      }
    }
    return unfound("mm", "no field is NULL in kernel threads and an mm_struct twice in user processes");
  }

  // exit_state, exit_code, exit_signal, pdeath_signal: 0, 0, SIGCHLD (or 0
  // in what the kernel started itself), 0. Before them, with
  // SPLIT_RSS_COUNTING (before 6.2), the task's struct task_rss_stat.
  Expected<void> find_exit_state() {
    for (uint64_t at = o_.mm + 16; at < o_.mm + 256; at += 4) {
      size_t sigchld = 0;
      const bool fits = std::all_of(leaders_.begin(), leaders_.end(), [&](const Snapshot& t) {
        sigchld += t.u32(at + 8) == kSigchld;
        return t.u32(at) == 0 && t.u32(at + 4) == 0 && (t.u32(at + 8) == kSigchld || t.u32(at + 8) == 0);
      });
      if (!fits || sigchld * 2 < leaders_.size()) continue;
      o_.exit_state = at;
      // struct task_rss_stat {int events; int count[4]} is 20 bytes, after
      // active_mm (6.1) or after struct vmacache's 40 (4.18 to 6.0).
      const uint64_t gap = at - (o_.mm + 16);
      if (gap % 40 == 20) o_.rss_stat = at - 20;
      return {};
    }
    return unfound("exit_state", "no fields after mm hold 0, 0, SIGCHLD");
  }

  // x86_64: thread.sp lies inside the task's own stack; the frame
  // __switch_to_asm pushed there ends with a return address into the
  // kernel's text.
  Expected<void> find_x86_64_frame() {
    const auto all = everyone();
    for (uint64_t at = o_.comm + kCommLength; at + 8 <= kTaskWindow; at += 8) {
      if (!held_by_most(all, [&](const Snapshot* t) { return in_own_stack(*t, t->u64(at)); })) continue;
      o_.thread_sp = at;
      for (uint64_t slot = 8; slot < 128; slot += 8)
        if (held_by_most(all, [&](const Snapshot* t) {
              auto word = probe_.u64(t->u64(at) + slot);
              return word && probe_.kernel_text(*word);
            })) {
          o_.frame_return = slot;
          return {};
        }
      return unfound("thread.sp", "the frames it points to hold no return address");
    }
    return unfound("thread.sp", "no field points into every task's own stack");
  }

  // arm64: thread.cpu_context ends with fp, sp, pc: sp inside the task's
  // stack, pc in the kernel's text, fp inside the stack or 0.
  Expected<void> find_aarch64_frame() {
    const arch::Arch& arch = probe_.program().arch();
    const auto all = everyone();
    for (uint64_t at = o_.comm + kCommLength + 88; at + 16 <= kTaskWindow; at += 8) {
      const bool fits = held_by_most(all, [&](const Snapshot* t) {
        const uint64_t fp = t->u64(at - 8);
        return in_own_stack(*t, t->u64(at)) && (fp == 0 || in_own_stack(*t, fp)) &&
               probe_.kernel_text(arch.strip_pointer_auth(t->u64(at + 8)));
      });
      if (fits) {
        o_.cpu_context = at - 88;  // x19-x28, then fp
        return {};
      }
    }
    return unfound("thread.cpu_context", "no fp, sp, pc point into every task's stack and the kernel's text");
  }

  // A task_struct: a comm, and its stack ends with the magic.
  bool is_task(uint64_t address) const {
    if (!MemoryProbe::kernel_address(address) || !probe_.text(address + o_.comm, kCommLength)) return false;
    auto stack = probe_.u64(address + o_.stack);
    return stack && probe_.u32(*stack) == kStackEndMagic;
  }

  bool in_own_stack(const Snapshot& task, uint64_t address) const {
    const uint64_t stack = task.u64(o_.stack);
    return stack != 0 && address > stack && address < stack + probe_.stack_size();
  }

  std::vector<const Snapshot*> everyone() const {
    std::vector<const Snapshot*> all{&init_};
    for (const auto* group : {&leaders_, &threads_, &idle_})
      for (const Snapshot& t : *group) all.push_back(&t);
    return all;
  }

  template <typename Tasks, typename Test>
  static bool held_by_most(const Tasks& tasks, Test test) {
    const size_t held = static_cast<size_t>(std::count_if(tasks.begin(), tasks.end(), test));
    return held > 0 && static_cast<double>(held) >= kQuorum * static_cast<double>(tasks.size());
  }

  const MemoryProbe& probe_;
  TaskOffsets o_;
  Snapshot init_;
  std::vector<Snapshot> leaders_, threads_,
      idle_;  // idle_: CPUs other than the first
};

}  // namespace

Expected<TaskOffsets> infer_task_offsets(const MemoryProbe& probe) { return TaskSearch(probe).run(); }

}  // namespace coroner::linux_kernel::inference
