#include "analyzer/os/freebsd/freebsd_threads.hpp"

#include <algorithm>
#include <set>

namespace coroner::freebsd_kernel {
namespace {

// FreeBSD's enum td_states and TDI_* inhibitor bits (sys/sys/proc.h), the
// same since FreeBSD 5; ddb's ps names them so.
constexpr uint32_t kTdsInactive = 0, kTdsInhibited = 1, kTdsCanRun = 2, kTdsRunQ = 3, kTdsRunning = 4;
constexpr uint32_t kPrsNew = 0, kPrsZombie = 2;
constexpr size_t kCommSize = 20;  // MAXCOMLEN + 1
constexpr size_t kMaxThreads = 1 << 20;

// Where the walk reads struct proc and struct thread.
struct Layout {
  uint64_t p_list = 0, p_threads = 0, p_pid = 0, p_comm = 0;
  uint64_t td_plist = 0, td_tid = 0, td_name = 0, td_oncpu = 0, td_pcb = 0;
  std::optional<uint64_t> p_state, td_state, td_inhibitors, td_wmesg;
};

// A member's offset from DWARF, else from the offset symbol the kernel
// exports for debuggers (an int holding offsetof()).
Expected<uint64_t> offset_of(const Program& program, std::string_view type, std::string_view member,
                             std::string_view symbol) {
  auto dwarf = program.member_offset(type, member);
  if (dwarf || symbol.empty()) return dwarf;
  if (const symbols::Symbol* exported = program.symbols().find(symbol))
    if (auto value = program.memory().read_u32(exported->address); value && static_cast<int32_t>(*value) >= 0)
      return uint64_t{*value};
  return dwarf.error();
}

std::optional<uint64_t> optional_offset(const Program& program, std::string_view type, std::string_view member) {
  auto offset = program.member_offset(type, member);
  return offset ? std::optional(*offset) : std::nullopt;
}

Expected<Layout> read_layout(const Program& program) {
  Layout l;
  // The list links' first members (le_next, tqh_first, tqe_next) are at
  // the links' own offsets (sys/sys/queue.h).
  CORONER_TRY(p_list, offset_of(program, "struct proc", "p_list", "proc_off_p_list"));
  CORONER_TRY(p_threads, offset_of(program, "struct proc", "p_threads", "proc_off_p_threads"));
  CORONER_TRY(p_pid, offset_of(program, "struct proc", "p_pid", "proc_off_p_pid"));
  CORONER_TRY(p_comm, offset_of(program, "struct proc", "p_comm", "proc_off_p_comm"));
  CORONER_TRY(td_plist, offset_of(program, "struct thread", "td_plist", "thread_off_td_plist"));
  CORONER_TRY(td_tid, offset_of(program, "struct thread", "td_tid", "thread_off_td_tid"));
  CORONER_TRY(td_name, offset_of(program, "struct thread", "td_name", "thread_off_td_name"));
  CORONER_TRY(td_oncpu, offset_of(program, "struct thread", "td_oncpu", "thread_off_td_oncpu"));
  CORONER_TRY(td_pcb, offset_of(program, "struct thread", "td_pcb", "thread_off_td_pcb"));
  l.p_list = p_list, l.p_threads = p_threads, l.p_pid = p_pid, l.p_comm = p_comm;
  l.td_plist = td_plist, l.td_tid = td_tid, l.td_name = td_name, l.td_oncpu = td_oncpu, l.td_pcb = td_pcb;
  // Without them (no DWARF), the state is unknown.
  l.p_state = optional_offset(program, "struct proc", "p_state");
  l.td_state = optional_offset(program, "struct thread", "td_state");
  l.td_inhibitors = optional_offset(program, "struct thread", "td_inhibitors");
  l.td_wmesg = optional_offset(program, "struct thread", "td_wmesg");
  return l;
}

std::string inhibited_state(uint32_t inhibitors) {
  // In ddb's order of precedence.
  if (inhibitors & 0x02) return "Sleep";
  if (inhibitors & 0x08) return "Lock";
  if (inhibitors & 0x01) return "Susp";
  if (inhibitors & 0x10) return "IWait";
  if (inhibitors & 0x04) return "Swapped";
  return "Inhibited";
}

std::string thread_state(const KernelMemory& memory, const Layout& l, const Thread& t, std::optional<uint32_t> p_state) {
  if (p_state == kPrsNew) return "New";
  if (p_state == kPrsZombie) return "Zombie";
  if (!l.td_state) return "?";
  auto state = memory.read_u32(t.address + *l.td_state);
  if (!state) return "?";
  switch (*state) {
    case kTdsInactive: return "Inactive";
    case kTdsCanRun: return "CanRun";
    case kTdsRunQ: return "RunQ";
    case kTdsRunning: return "Run";
    case kTdsInhibited: {
      auto inhibitors = l.td_inhibitors ? memory.read_u32(t.address + *l.td_inhibitors) : Expected<uint32_t>(0u);
      return inhibited_state(inhibitors ? *inhibitors : 0);
    }
    default: return fmt::format("?{}", *state);
  }
}

// A char array's text up to its NUL.
Expected<std::string> read_chars(const KernelMemory& memory, uint64_t address, size_t size) {
  std::string text(size, '\0');
  CORONER_CHECK(memory.read(address, std::as_writable_bytes(std::span(text.data(), text.size()))));
  text.resize(text.find('\0') == std::string::npos ? size : text.find('\0'));
  return text;
}

Expected<Thread> read_thread(const KernelMemory& memory, const Layout& l, uint64_t address, uint64_t proc,
                             int32_t pid, const std::string& comm, std::optional<uint32_t> p_state) {
  Thread t;
  t.address = address, t.proc = proc, t.pid = pid, t.comm = comm;
  CORONER_TRY(tid, memory.read_u32(address + l.td_tid));
  CORONER_TRY(name, read_chars(memory, address + l.td_name, kCommSize));
  CORONER_TRY(oncpu, memory.read_u32(address + l.td_oncpu));
  t.tid = static_cast<int32_t>(tid);
  t.name = std::move(name);
  if (static_cast<int32_t>(oncpu) >= 0) t.cpu = static_cast<int32_t>(oncpu);  // NOCPU is -1
  t.state = thread_state(memory, l, t, p_state);
  if (t.state == "Sleep" && l.td_wmesg)
    if (auto wmesg = memory.read_u64(address + *l.td_wmesg); wmesg && *wmesg)
      if (auto text = memory.read_string(*wmesg, 64)) t.wait_message = *text;
  return t;
}

// One process's threads, appended to list.
void read_proc_threads(const KernelMemory& memory, const Layout& l, uint64_t proc, ThreadList& list) {
  auto pid = memory.read_u32(proc + l.p_pid);
  auto comm = read_chars(memory, proc + l.p_comm, kCommSize);
  if (!pid || !comm) {
    list.skipped.push_back(fmt::format("proc {:#x}: {}: its threads are missing", proc,
                                       (!pid ? pid.error() : comm.error()).message()));
    return;
  }
  std::optional<uint32_t> p_state;
  if (l.p_state)
    if (auto state = memory.read_u32(proc + *l.p_state)) p_state = *state;
  std::set<uint64_t> seen;
  auto first = memory.read_u64(proc + l.p_threads);
  if (!first) {
    list.skipped.push_back(fmt::format("proc {:#x} (pid {}): p_threads: {}", proc, *pid, first.error().message()));
    return;
  }
  for (uint64_t td = *first; td; ) {
    if (!seen.insert(td).second || list.threads.size() >= kMaxThreads) {
      list.skipped.push_back(fmt::format("proc {:#x} (pid {}): its thread list loops at {:#x}", proc, *pid, td));
      return;
    }
    auto thread = read_thread(memory, l, td, proc, static_cast<int32_t>(*pid), *comm, p_state);
    auto next = memory.read_u64(td + l.td_plist);
    if (!thread || !next) {
      list.skipped.push_back(fmt::format("proc {:#x} (pid {}): thread {:#x}: {}: the threads after it are missing",
                                         proc, *pid, td, (!thread ? thread.error() : next.error()).message()));
      return;
    }
    list.threads.push_back(std::move(*thread));
    td = *next;
  }
}

Expected<uint64_t> pcb_member(const Program& program, std::string_view member, uint64_t fallback) {
  auto offset = program.member_offset("struct pcb", member);
  if (offset) return *offset;
  if (program.type_size("struct pcb")) return offset.error();
  return fallback;  // no DWARF for struct pcb: FreeBSD's own layout
}

// pc, sp and frame pointer as savectx() leaves them in a pcb.
Expected<void> read_pcb(const Program& program, ThreadContext& c) {
  const KernelMemory& memory = program.memory();
  uint64_t pc_at = 0, sp_at = 0, fp_at = 0;
  if (program.arch().machine() == Machine::x86_64) {
    // sys/amd64/include/pcb.h: r15 r14 r13 r12 rbp rsp rbx rip.
    CORONER_TRY(rip, pcb_member(program, "pcb_rip", 0x38));
    CORONER_TRY(rsp, pcb_member(program, "pcb_rsp", 0x28));
    CORONER_TRY(rbp, pcb_member(program, "pcb_rbp", 0x20));
    pc_at = rip, sp_at = rsp, fp_at = rbp;
  } else {
    // sys/arm64/include/pcb.h. Since FreeBSD 14 pcb_x holds x19-x30 (x29
    // at 10, the pc -- savectx's return address in x30 -- at 11), then
    // pcb_sp; FreeBSD 13's holds x0-x30, then pcb_pc (which savectx does
    // not set) and pcb_sp: its DWARF shows pcb_pc.
    CORONER_TRY(x, pcb_member(program, "pcb_x", 0));
    CORONER_TRY(sp, pcb_member(program, "pcb_sp", 0x60));
    if (program.member_offset("struct pcb", "pcb_pc")) pc_at = x + 30 * 8, fp_at = x + 29 * 8;
    else pc_at = x + 11 * 8, fp_at = x + 10 * 8;
    sp_at = sp;
  }
  CORONER_TRY(pc, memory.read_u64(c.pcb + pc_at));
  CORONER_TRY(sp, memory.read_u64(c.pcb + sp_at));
  CORONER_TRY(fp, memory.read_u64(c.pcb + fp_at));
  c.pc = pc, c.sp = sp, c.fp = fp;
  return {};
}

}  // namespace

Expected<ThreadList> read_threads(const FreeBsdKernel& kernel) {
  const Program& program = kernel.program();
  const KernelMemory& memory = program.memory();
  CORONER_TRY(layout, read_layout(program));
  CORONER_TRY(allproc, program.symbol_address("allproc"));
  ThreadList list;
  if (auto dumptid = program.symbol_address("dumptid"))
    if (auto tid = memory.read_u32(*dumptid)) list.dump_tid = static_cast<int32_t>(*tid);
  auto first = memory.read_u64(allproc);
  if (!first)
    return first.error().context(fmt::format("allproc ({:#x}; is the kernel file the dump's?)", allproc));
  std::set<uint64_t> seen;
  for (uint64_t proc = *first; proc;) {
    if (!seen.insert(proc).second || seen.size() > kMaxThreads) {
      list.skipped.push_back(fmt::format("allproc: the list loops at proc {:#x}", proc));
      break;
    }
    read_proc_threads(memory, layout, proc, list);
    auto next = memory.read_u64(proc + layout.p_list);
    if (!next) {
      list.skipped.push_back(fmt::format("allproc: proc {:#x}: {}: the processes after it are missing", proc,
                                         next.error().message()));
      break;
    }
    proc = *next;
  }
  for (Thread& t : list.threads) t.panicked = list.dump_tid == t.tid;
  // allproc holds the newest process first; list them by PID.
  std::stable_sort(list.threads.begin(), list.threads.end(), [](const Thread& a, const Thread& b) { return a.pid < b.pid; });
  return list;
}

Expected<ThreadContext> thread_context(const FreeBsdKernel& kernel, const Thread& thread) {
  const Program& program = kernel.program();
  ThreadContext c;
  if (thread.panicked) {
    CORONER_TRY(dumppcb, program.symbol_address("dumppcb"));
    c.pcb = dumppcb, c.source = "dumppcb";
  } else if (thread.cpu) {
    // The panic stopped the other CPUs, each saving its registers in stoppcbs[cpu].
    CORONER_TRY(stoppcbs, program.symbol_address("stoppcbs"));
    auto size = program.type_size("struct pcb");
    if (!size)
      if (const symbols::Symbol* exported = program.symbols().find("pcb_size"))
        if (auto value = program.memory().read_u32(exported->address)) size = uint64_t{*value};
    if (!size) return size.error().context("stoppcbs");
    c.pcb = stoppcbs + *thread.cpu * *size, c.source = fmt::format("stoppcbs[{}]", *thread.cpu);
  } else {
    CORONER_TRY(layout, read_layout(program));
    CORONER_TRY(pcb, program.memory().read_u64(thread.address + layout.td_pcb));
    c.pcb = pcb, c.source = "td_pcb";
  }
  if (auto read = read_pcb(program, c); !read) return read.error().context(c.source);
  return c;
}

}  // namespace coroner::freebsd_kernel
