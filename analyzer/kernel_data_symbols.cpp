#include "analyzer/kernel_data_symbols.hpp"

#include "analyzer/arch/aarch64/adrp_references.hpp"

#include <algorithm>
#include <array>

namespace coroner {

namespace {

struct Method {
  std::string_view name, how;
};

// The table README "Without a vmlinux" shows: a global, and how it is found.
constexpr std::array<Method, 28> kMethods = {{
    {"__per_cpu_offset", "from nr_iowait_cpu()'s code, with runqueues: every CPU's runqueue has its cpu and an "
                         "idle task swapper/CPU"},
    {"runqueues", "from nr_iowait_cpu()'s code, checked with __per_cpu_offset"},
    {"__per_cpu_start", "runqueues less its offset in BTF's .data..percpu"},
    {"init_task", "CPU 0's runqueue's idle task: swapper/0, pid 0, its task list links agree"},
    {"init_stack", "init_task's stack; its size: the user registers at the top of user tasks' stacks"},
    {"__start_init_task", "init_stack"},
    {"__end_init_task", "init_stack + the stack size"},
    {"init_nsproxy", "init_task's nsproxy"},
    {"init_uts_ns", "init_nsproxy's uts_ns: sysname Linux, release as VMCOREINFO's"},
    {"init_pid_ns", "init_nsproxy's pid_ns_for_children, level 0"},
    {"init_net", "init_nsproxy's net_ns"},
    {"init_user_ns", "init_uts_ns's user_ns, level 0"},
    {"init_fs", "init_task's fs"},
    {"modules", "from module_kallsyms_lookup_name()'s code: a list of struct module whose links agree"},
    {"nr_cpu_ids", "from set_cpus_allowed_common()'s code: the number of CPUs with a runqueue"},
    {"__cpu_possible_mask", "from pci_irq_get_affinity()'s or cpupri_init()'s code: the CPUs with a runqueue"},
    {"__cpu_online_mask", "from smp_call_function()'s or get_idle_time()'s code: some of the possible CPUs"},
    {"__cpu_present_mask", "from cpudl_set()'s code: some of the possible CPUs"},
    {"__cpu_active_mask", "from rq_attach_root()'s or sched_getaffinity()'s code: some of the possible CPUs"},
    {"high_memory", "the one word in the image's data and bss that holds the direct map's address of the end of the "
                    "last node (node_data)"},
    {"_totalram_pages", "from generic_online_page()'s or si_meminfo()'s code: at most the pages below high_memory"},
    {"avenrun", "from get_avenrun()'s code: the array it reads three load averages from"},
    {"node_data", "from inc_node_page_state()'s code: node i's pg_data_t has node_id i and memory"},
    {"tainted_mask", "from get_taint()'s code: taint flags only"},
    {"tick_nsec", "from ntp_update_frequency()'s code: 1e9 / HZ for an HZ of 100, 250, 300 or 1000"},
    {"jiffies_64", "from __round_jiffies()'s code: ticks since 300 s before 2^32, under ten years"},
    {"jiffies", "jiffies_64 (the same word on 64-bit kernels)"},
    {"shadow_timekeeper", "from update_wall_time()'s code: the timekeeper other than tk_core's (whose xtime_sec "
                          "ktime_get_real_seconds() reads) with the same wall clock"},
}};

constexpr uint32_t kMaxCpus = 8192;
constexpr uint64_t kMaxListLength = 100000;

// The members the search reads, from BTF.
struct Layout {
  uint64_t rq_cpu, rq_idle;
  uint64_t task_comm, task_tasks, task_pid, task_mm, task_stack, task_nsproxy, task_fs;
  uint64_t regs_pc, regs_sp, regs_pstate;
  uint64_t nsproxy_uts, nsproxy_pid_ns, nsproxy_net, uts_name, uts_user_ns, utsname_release;
  uint64_t pid_ns_level, user_ns_level;
  uint64_t module_list, module_name, module_state;
};

Expected<Layout> read_layout(symbols::DebugInfo& info) {
  Layout l;
  const std::array<std::tuple<uint64_t*, std::string_view, std::string_view>, 23> members = {{
      {&l.rq_cpu, "struct rq", "cpu"},
      {&l.rq_idle, "struct rq", "idle"},
      {&l.task_comm, "struct task_struct", "comm"},
      {&l.task_tasks, "struct task_struct", "tasks"},
      {&l.task_pid, "struct task_struct", "pid"},
      {&l.task_mm, "struct task_struct", "mm"},
      {&l.task_stack, "struct task_struct", "stack"},
      {&l.task_nsproxy, "struct task_struct", "nsproxy"},
      {&l.task_fs, "struct task_struct", "fs"},
      {&l.regs_pc, "struct pt_regs", "pc"},
      {&l.regs_sp, "struct pt_regs", "sp"},
      {&l.regs_pstate, "struct pt_regs", "pstate"},
      {&l.nsproxy_uts, "struct nsproxy", "uts_ns"},
      {&l.nsproxy_pid_ns, "struct nsproxy", "pid_ns_for_children"},
      {&l.nsproxy_net, "struct nsproxy", "net_ns"},
      {&l.uts_name, "struct uts_namespace", "name"},
      {&l.uts_user_ns, "struct uts_namespace", "user_ns"},
      {&l.utsname_release, "struct new_utsname", "release"},
      {&l.pid_ns_level, "struct pid_namespace", "level"},
      {&l.user_ns_level, "struct user_namespace", "level"},
      {&l.module_list, "struct module", "list"},
      {&l.module_name, "struct module", "name"},
      {&l.module_state, "struct module", "state"},
  }};
  for (const auto& [field, type, member] : members) {
    CORONER_TRY(offset, info.member_offset(type, member));
    *field = offset;
  }
  return l;
}

class Finder {
 public:
  Finder(const Program& program, symbols::DebugInfo& info, const Layout& layout)
      : program_(program), info_(info), memory_(program.memory()), l_(layout) {}

  std::vector<symbols::Symbol> found;

  // The addresses the code of these functions forms (kallsyms gives them).
  std::vector<uint64_t> references(std::initializer_list<std::string_view> functions) const {
    std::vector<uint64_t> all;
    for (std::string_view name : functions) {
      const symbols::Symbol* f = program_.symbols().find(name);
      if (!f) continue;
      std::vector<std::byte> code(std::clamp<uint64_t>(f->size, 64, 8192));
      if (!memory_.read(f->address, code)) continue;
      for (uint64_t a : arch::adrp_references(code, f->address))
        if (std::find(all.begin(), all.end(), a) == all.end() && !known(a)) all.push_back(a);
    }
    return all;
  }

  bool known(uint64_t address) const {
    return std::any_of(found.begin(), found.end(), [&](const symbols::Symbol& s) { return s.address == address; });
  }

  std::optional<uint64_t> address_of(std::string_view name) const {
    for (const symbols::Symbol& s : found)
      if (s.name == name) return s.address;
    return std::nullopt;
  }

  void add(std::string_view name, uint64_t address, uint64_t size) {
    found.push_back({std::string(name), address, size, 'D', std::string(kFoundDataSection), false, true});
  }

  void add_typed(std::string_view name, uint64_t address, std::string_view type) {
    auto size = info_.type_size(type);
    add(name, address, size ? *size : 0);
  }

  std::optional<uint64_t> u64(uint64_t address) const {
    auto v = memory_.read_u64(address);
    return v ? std::optional(*v) : std::nullopt;
  }

  std::optional<std::string> text(uint64_t address, size_t max) const {
    std::vector<char> bytes(max);
    if (!memory_.read(address, std::as_writable_bytes(std::span(bytes)))) return std::nullopt;
    auto end = std::find(bytes.begin(), bytes.end(), '\0');
    if (end == bytes.end()) return std::nullopt;
    return std::string(bytes.begin(), end);
  }

  std::optional<std::string> comm(uint64_t task) const { return text(task + l_.task_comm, 16); }

  // The CPUs 0..n-1 whose runqueue (runqueues + offsets[cpu]) says it is
  // theirs and has an idle task named swapper/CPU.
  uint32_t runqueue_cpus(uint64_t offsets, uint64_t runqueues) const {
    const uint64_t rq_cpu = l_.rq_cpu, rq_idle = l_.rq_idle;
    uint32_t cpu = 0;
    for (; cpu < kMaxCpus; ++cpu) {
      auto delta = u64(offsets + 8 * cpu);
      if (!delta) break;
      const uint64_t rq = runqueues + *delta;
      auto id = memory_.read_u32(rq + rq_cpu);
      auto idle = u64(rq + rq_idle);
      if (!id || *id != cpu || !idle || comm(*idle) != fmt::format("swapper/{}", cpu)) break;
    }
    return cpu;
  }

  Expected<void> find_per_cpu() {
    CORONER_TRY(variable, info_.find_variable("runqueues"));
    if (!variable.per_cpu || !variable.address)
      return make_error(Errc::not_found, "BTF has no per-CPU runqueues");
    const auto refs = references({"nr_iowait_cpu", "idle_cpu", "available_idle_cpu"});
    for (uint64_t offsets : refs)
      for (uint64_t runqueues : refs) {
        if (offsets == runqueues) continue;
        const uint32_t n = runqueue_cpus(offsets, runqueues);
        if (n == 0) continue;
        cpus_ = n;
        add("__per_cpu_offset", offsets, 8ull * n);
        add_typed("runqueues", runqueues, "struct rq");
        add("__per_cpu_start", runqueues - *variable.address, 0);
        rq0_ = runqueues + *u64(offsets);
        return {};
      }
    return make_error(Errc::not_found,
                      "no per-CPU offsets and runqueues among the {} addresses nr_iowait_cpu's and idle_cpu's code "
                      "forms",
                      refs.size());
  }

  Expected<void> find_init_task() {
    const uint64_t tasks = l_.task_tasks;
    auto task = u64(rq0_ + l_.rq_idle);
    auto pid = task ? memory_.read_value<int32_t>(*task + l_.task_pid) : Expected<int32_t>(0);
    auto next = task ? u64(*task + tasks) : std::nullopt;
    auto back = next ? u64(*next + 8) : std::nullopt;
    if (!task || comm(*task) != "swapper/0" || !pid || *pid != 0 || !back || *back != *task + tasks)
      return make_error(Errc::corrupt, "CPU 0's idle task is not a swapper/0 with pid 0 on a task list");
    add_typed("init_task", *task, "struct task_struct");
    return {};
  }

  // THREAD_SIZE: a user task's stack ends with the registers it entered the
  // kernel with (pc and sp user addresses, pstate EL0).
  std::optional<uint64_t> stack_size(uint64_t init_task) const {
    const uint64_t tasks = l_.task_tasks, mm = l_.task_mm;
    const uint64_t stack = l_.task_stack;
    auto regs_size = info_.type_size("struct pt_regs");
    if (!regs_size) return std::nullopt;
    const uint64_t pc = l_.regs_pc, sp = l_.regs_sp;
    const uint64_t pstate = l_.regs_pstate;
    std::optional<uint64_t> size;
    int checked = 0;
    uint64_t link = init_task + tasks;
    for (uint64_t i = 0; i < kMaxListLength && checked < 3; ++i) {
      auto next = u64(link);
      if (!next || *next == init_task + tasks) break;
      link = *next;
      const uint64_t task = *next - tasks;
      auto task_mm = u64(task + mm);
      auto base = u64(task + stack);
      if (!task_mm || !*task_mm || !base) continue;
      std::optional<uint64_t> fits;
      for (uint64_t candidate : {16384, 32768, 65536}) {
        const uint64_t regs = *base + candidate - *regs_size;
        auto user_pc = u64(regs + pc), user_sp = u64(regs + sp), state = u64(regs + pstate);
        if (user_pc && user_sp && state && *user_pc && *user_pc >> 48 == 0 && *user_sp && *user_sp >> 48 == 0 &&
            (*state & 0xf) == 0) {
          fits = candidate;
          break;
        }
      }
      if (!fits || (size && *size != *fits)) return std::nullopt;
      size = fits;
      ++checked;
    }
    return size;
  }

  void find_init_stack(uint64_t init_task) {
    auto stack = u64(init_task + l_.task_stack);
    auto size = stack_size(init_task);
    if (!stack || !size) return;
    add("init_stack", *stack, *size);
    add("__start_init_task", *stack, 0);
    add("__end_init_task", *stack + *size, 0);
  }

  void find_namespaces(uint64_t init_task) {
    auto nsproxy = u64(init_task + l_.task_nsproxy);
    if (!nsproxy) return;
    auto uts = u64(*nsproxy + l_.nsproxy_uts);
    const uint64_t name = l_.uts_name;
    const uint64_t field = l_.utsname_release;
    if (!uts || text(*uts + name, 65) != "Linux" ||
        text(*uts + name + field, 65) != program_.vmcoreinfo().osrelease())
      return;
    add_typed("init_nsproxy", *nsproxy, "struct nsproxy");
    add_typed("init_uts_ns", *uts, "struct uts_namespace");
    auto level0 = [&](uint64_t address, uint64_t level_offset) {
      auto level = memory_.read_u32(address + level_offset);
      return level && *level == 0;
    };
    if (auto pid_ns = u64(*nsproxy + l_.nsproxy_pid_ns);
        pid_ns && level0(*pid_ns, l_.pid_ns_level))
      add_typed("init_pid_ns", *pid_ns, "struct pid_namespace");
    if (auto user_ns = u64(*uts + l_.uts_user_ns);
        user_ns && level0(*user_ns, l_.user_ns_level))
      add_typed("init_user_ns", *user_ns, "struct user_namespace");
    if (auto net = u64(*nsproxy + l_.nsproxy_net); net && *net)
      add_typed("init_net", *net, "struct net");
    if (auto fs = u64(init_task + l_.task_fs); fs && *fs)
      add_typed("init_fs", *fs, "struct fs_struct");
  }

  // The number of modules on the list headed at head, or nullopt when
  // head is not such a list.
  std::optional<uint64_t> module_list(uint64_t head) const {
    const uint64_t list = l_.module_list, name = l_.module_name;
    const uint64_t state = l_.module_state;
    uint64_t count = 0;
    for (uint64_t link = head; count < kMaxListLength;) {
      auto next = u64(link);
      if (!next || u64(*next + 8) != link) return std::nullopt;
      if (*next == head) return count;
      const uint64_t module = *next - list;
      auto s = memory_.read_u32(module + state);
      auto n = text(module + name, 56);
      if (!s || *s > 3 || !n || n->empty() ||
          !std::all_of(n->begin(), n->end(), [](char c) { return c > ' ' && c < 127; }))
        return std::nullopt;
      link = *next;
      ++count;
    }
    return std::nullopt;
  }

  void find_modules() {
    // The head lies in the kernel image (after its code), the modules not.
    const symbols::Symbol* etext = program_.symbols().find("_etext");
    std::optional<uint64_t> empty;
    for (uint64_t head : references({"module_kallsyms_lookup_name", "module_kallsyms_on_each_symbol"})) {
      if (!etext || head < etext->address || head - etext->address > (256u << 20)) continue;
      auto count = module_list(head);
      if (count && *count) return add_typed("modules", head, "struct list_head");
      if (count && !empty) empty = head;
    }
    if (empty) add_typed("modules", *empty, "struct list_head");
  }

  std::optional<std::vector<bool>> cpu_mask(uint64_t address) const {
    auto size = info_.type_size("struct cpumask");
    if (!size || *size > 8192) return std::nullopt;
    std::vector<uint8_t> bytes(*size);
    if (!memory_.read(address, std::as_writable_bytes(std::span(bytes)))) return std::nullopt;
    std::vector<bool> bits(*size * 8);
    for (size_t i = 0; i < bits.size(); ++i) bits[i] = (bytes[i / 8] >> (i % 8)) & 1;
    return bits;
  }

  void find_cpu_masks() {
    for (uint64_t a : references({"set_cpus_allowed_common", "group_balance_cpu"}))
      if (auto ids = memory_.read_u32(a); ids && *ids == cpus_) {
        add("nr_cpu_ids", a, 4);
        break;
      }
    std::vector<bool> possible;
    for (uint64_t a : references({"pci_irq_get_affinity", "cpupri_init", "cpudl_init"})) {
      auto bits = cpu_mask(a);
      if (!bits) continue;
      bool exact = true;
      for (size_t i = 0; i < bits->size(); ++i) exact &= (*bits)[i] == (i < cpus_);
      if (!exact) continue;
      add_typed("__cpu_possible_mask", a, "struct cpumask");
      possible = *bits;
      break;
    }
    if (possible.empty()) return;
    auto subset = [&](std::string_view name, std::initializer_list<std::string_view> functions) {
      for (uint64_t a : references(functions)) {
        auto bits = cpu_mask(a);
        if (!bits) continue;
        bool any = false, inside = true;
        for (size_t i = 0; i < bits->size(); ++i) any |= (*bits)[i], inside &= !(*bits)[i] || possible[i];
        if (any && inside) return add_typed(name, a, "struct cpumask");
      }
    };
    subset("__cpu_online_mask", {"smp_call_function", "get_idle_time"});
    subset("__cpu_present_mask", {"cpudl_set", "cpudl_clear"});
    subset("__cpu_active_mask", {"rq_attach_root", "sched_getaffinity"});
  }

  void find_nodes() {
    auto node_id = info_.member_offset("struct pglist_data", "node_id");
    auto present = info_.member_offset("struct pglist_data", "node_present_pages");
    if (!node_id || !present) return;
    for (uint64_t a : references({"inc_node_page_state", "dec_node_page_state"})) {
      // node_data[]: node i's pg_data_t, or NULL; node 0 has memory.
      uint64_t slots = 0;
      for (uint64_t i = 0; i < 1024; ++i) {
        auto pgdat = u64(a + 8 * i);
        if (!pgdat) break;
        if (*pgdat == 0) continue;
        auto id = memory_.read_value<int32_t>(*pgdat + *node_id);
        auto pages = u64(*pgdat + *present);
        if (!id || *id != static_cast<int32_t>(i) || !pages || *pages == 0) break;
        slots = i + 1;
      }
      if (slots && u64(a).value_or(0)) return add("node_data", a, 8 * slots);
    }
  }

  // tick_nsec is 1e9 / HZ (NTP moves it by parts per million); jiffies_64
  // starts 300 s of ticks before 2^32 and counts HZ a second from there.
  void find_ticks() {
    std::optional<uint64_t> hz;
    for (uint64_t a : references({"ntp_update_frequency"})) {
      auto tick = u64(a);
      if (!tick || *tick == 0) continue;
      for (uint64_t rate : {100, 250, 300, 1000}) {
        const uint64_t nominal = 1000000000 / rate;
        if (*tick > nominal - nominal / 1000 && *tick < nominal + nominal / 1000) hz = rate;
      }
      if (hz) {
        add("tick_nsec", a, 8);
        break;
      }
    }
    if (!hz) return;
    const uint64_t initial = static_cast<uint32_t>(0 - 300 * *hz), ten_years = 10ull * 365 * 86400 * *hz;
    for (uint64_t a : references({"__round_jiffies", "__round_jiffies_up"}))
      if (auto jiffies = u64(a); jiffies && *jiffies >= initial && *jiffies - initial < ten_years) {
        add("jiffies_64", a, 8);
        return add("jiffies", a, 8);
      }
  }

  void find_taint() {
    for (uint64_t a : references({"get_taint", "test_taint"}))
      if (auto mask = u64(a); mask && *mask < (uint64_t{1} << 20)) return add("tainted_mask", a, 8);
  }

  // high_memory holds the direct map's address of the end of RAM (the end
  // of the last node's span): the one word in the image's data and bss
  // that holds it.
  void find_memory_size() {
    auto start_pfn = info_.member_offset("struct pglist_data", "node_start_pfn");
    auto spanned = info_.member_offset("struct pglist_data", "node_spanned_pages");
    auto nodes = address_of("node_data");
    auto base = program_.arch().linear_map_base();
    auto data = address_of("init_stack");
    if (!start_pfn || !spanned || !nodes || !base || !data) return;
    uint64_t end_pfn = 0;
    for (const symbols::Symbol& s : found)
      if (s.name == "node_data")
        for (uint64_t i = 0; i < s.size / 8; ++i)
          if (auto pgdat = u64(*nodes + 8 * i); pgdat && *pgdat) {
            auto first = u64(*pgdat + *start_pfn), count = u64(*pgdat + *spanned);
            if (first && count) end_pfn = std::max(end_pfn, *first + *count);
          }
    if (end_pfn == 0) return;
    const uint64_t page = program_.arch().page_size(), value = *base + end_pfn * page;
    std::optional<uint64_t> high;
    std::vector<uint64_t> words(page / 8);
    for (uint64_t at = *data; at < *data + (16u << 20); at += page) {
      if (!memory_.read(at, std::as_writable_bytes(std::span(words)))) continue;
      for (size_t i = 0; i < words.size(); ++i) {
        if (words[i] != value) continue;
        if (high) return;  // two candidates: neither is certain
        high = at + 8 * i;
      }
    }
    if (!high) return;
    add("high_memory", *high, 8);
    for (uint64_t a : references({"generic_online_page", "si_meminfo"}))
      if (auto pages = u64(a); pages && *pages && *pages <= end_pfn && *pages >= end_pfn / 4)
        return add("_totalram_pages", a, 8);
  }

  // timekeeping_advance() (in update_wall_time()) forms the addresses of
  // two timekeepers, tk_core's and shadow_timekeeper, which hold the same
  // time; ktime_get_real_seconds() reads tk_core's xtime_sec.
  void find_timekeeper() {
    auto xtime = info_.member_offset("struct timekeeper", "xtime_sec");
    if (!xtime) return;
    std::optional<uint64_t> core;
    for (uint64_t a : references({"ktime_get_real_seconds"}))
      if (auto seconds = u64(a); seconds && plausible_wall_clock(static_cast<int64_t>(*seconds))) core = a;
    if (!core) return;
    const uint64_t now = *u64(*core);
    std::optional<uint64_t> shadow;
    for (uint64_t a : references({"update_wall_time", "timekeeping_advance"})) {
      auto seconds = u64(a + *xtime);
      if (a + *xtime == *core || !seconds || *seconds + 1 < now || *seconds > now + 1) continue;
      if (shadow) return;  // two candidates: neither is certain
      shadow = a;
    }
    if (shadow) add_typed("shadow_timekeeper", *shadow, "struct timekeeper");
  }

  void find_load_average() {
    const auto refs = references({"get_avenrun"});
    for (uint64_t a : refs) {
      // Its code reads avenrun[0], [1] and [2].
      bool loads = std::count(refs.begin(), refs.end(), a + 8) && std::count(refs.begin(), refs.end(), a + 16);
      for (int i = 0; i < 3; ++i) {
        auto v = u64(a + 8 * i);
        loads &= v && *v < (uint64_t{1} << 32);
      }
      if (loads) return add("avenrun", a, 24);
    }
  }

 private:
  const Program& program_;
  symbols::DebugInfo& info_;
  const KernelMemory& memory_;
  const Layout& l_;
  uint32_t cpus_ = 0;
  uint64_t rq0_ = 0;
};

}  // namespace

std::string_view data_symbol_method(std::string_view name) {
  for (const Method& m : kMethods)
    if (m.name == name) return m.how;
  return {};
}

Expected<std::vector<symbols::Symbol>> find_data_symbols(const Program& program) {
  if (program.arch().machine() != Machine::aarch64)
    return make_error(Errc::unsupported, "globals without data symbols are found from arm64 code only");
  CORONER_TRY(info, program.debug_info());
  auto layout = read_layout(*info);
  if (!layout) return layout.error().context("globals without data symbols");
  Finder finder(program, *info, *layout);
  CORONER_CHECK(finder.find_per_cpu());
  CORONER_CHECK(finder.find_init_task());
  const uint64_t init_task = *finder.address_of("init_task");
  finder.find_init_stack(init_task);
  finder.find_namespaces(init_task);
  finder.find_modules();
  finder.find_cpu_masks();
  finder.find_nodes();
  finder.find_memory_size();
  finder.find_load_average();
  finder.find_taint();
  finder.find_ticks();
  finder.find_timekeeper();
  return std::move(finder.found);
}

}  // namespace coroner
