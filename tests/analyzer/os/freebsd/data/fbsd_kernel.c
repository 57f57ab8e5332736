/*
 * A miniature FreeBSD kernel for coroner's thread tests: the structures the
 * thread walk reads, declared with FreeBSD's member names (sys/sys/proc.h,
 * sys/sys/queue.h, sys/amd64/include/pcb.h, sys/arm64/include/pcb.h,
 * sys/sys/msgbuf.h), and the state of a panicked system in initialized
 * data: allproc, each proc's threads, dumptid and dumppcb (the panicking
 * thread, stopped in doadump), stoppcbs[] (a thread on another CPU), td_pcb
 * (a sleeping thread), the kernel stacks they point into as frame-pointer
 * chains of return addresses into the functions below, and the offset
 * symbols kgdb and LLDB read (proc_off_p_pid, ...).
 *
 * The tests compile it with Debian's clang-19 (--target=x86_64-unknown-freebsd
 * or aarch64-unknown-freebsd, -g; -DFREEBSD13_PCB for arm64's older pcb) and link it with ld.lld at a kernel address
 * the synthetic minidump maps (tests/analyzer/arch/freebsd_minidump_fixture.hpp);
 * test_freebsd_threads.cpp checks ps and bt against what is written here.
 */

typedef unsigned long uint64_t;
typedef long register_t;
typedef int pid_t;
typedef int lwpid_t;
typedef unsigned int u_int;
typedef unsigned long vm_offset_t;
typedef unsigned long uintptr_t;

#define offsetof(type, member) __builtin_offsetof(type, member)

#define LIST_HEAD(name, type) struct name { struct type *lh_first; }
#define LIST_ENTRY(type) struct { struct type *le_next; struct type **le_prev; }
#define TAILQ_HEAD(name, type) struct name { struct type *tqh_first; struct type **tqh_last; }
#define TAILQ_ENTRY(type) struct { struct type *tqe_next; struct type **tqe_prev; }

#define MAXCOMLEN 19
#define MAXCPU 4
#define NOCPU (-1)

#if defined(__x86_64__)
struct pcb {
  register_t pcb_r15;
  register_t pcb_r14;
  register_t pcb_r13;
  register_t pcb_r12;
  register_t pcb_rbp;
  register_t pcb_rsp;
  register_t pcb_rbx;
  register_t pcb_rip;
  register_t pcb_fsbase;
  register_t pcb_gsbase;
  register_t pcb_kgsbase;
  register_t pcb_cr0;
  register_t pcb_cr2;
  register_t pcb_cr3;
  register_t pcb_cr4;
  u_int pcb_flags;
};
#define PCB(pc, sp, fp) { .pcb_rip = (register_t)(pc), .pcb_rsp = (register_t)(sp), .pcb_rbp = (register_t)(fp) }
/* The return address of each function below: after push %rbp; mov %rsp,%rbp; call. */
#define RETURN_OFFSET 9
#elif defined(__aarch64__) && defined(FREEBSD13_PCB)
/* FreeBSD 13's layout: x0-x30 (PCB_LR 30), pcb_pc (unused by savectx), sp. */
#define PCB_LR 30
struct pcb {
  uint64_t pcb_x[PCB_LR + 1];
  uint64_t pcb_pc;
  uint64_t pcb_sp;
  uint64_t pcb_tpidr_el0;
  uint64_t pcb_tpidrro_el0;
  void *pcb_onfault;
  u_int pcb_flags;
};
#define PCB(pc, sp, fp) { .pcb_x = {[29] = (uint64_t)(fp), [PCB_LR] = (uint64_t)(pc)}, .pcb_sp = (uint64_t)(sp) }
#define RETURN_OFFSET 12
#elif defined(__aarch64__)
/* FreeBSD 14's layout: x19-x30 (PCB_FP 10 is x29, PCB_LR 11 is x30), then sp. */
#define PCB_FP 10
#define PCB_LR 11
struct pcb {
  uint64_t pcb_x[PCB_LR + 1];
  uint64_t pcb_sp;
  uint64_t pcb_tpidr_el0;
  uint64_t pcb_tpidrro_el0;
  uint64_t pcb_flags;
  void *pcb_onfault;
};
#define PCB(pc, sp, fp) { .pcb_x = {[PCB_FP] = (uint64_t)(fp), [PCB_LR] = (uint64_t)(pc)}, .pcb_sp = (uint64_t)(sp) }
/* After stp x29, x30, [sp, #-16]!; mov x29, sp; bl. */
#define RETURN_OFFSET 12
#else
#error "amd64 or arm64 only"
#endif

enum td_states { TDS_INACTIVE = 0x0, TDS_INHIBITED, TDS_CAN_RUN, TDS_RUNQ, TDS_RUNNING };
#define TDI_SUSPENDED 0x0001
#define TDI_SLEEPING 0x0002
#define TDI_SWAPPED 0x0004
#define TDI_LOCK 0x0008
#define TDI_IWAIT 0x0010

struct thread {
  void *td_lock;
  struct proc *td_proc;
  TAILQ_ENTRY(thread) td_plist;
  TAILQ_ENTRY(thread) td_runq;
  lwpid_t td_tid;
  int td_flags;
  int td_inhibitors;
  const char *td_wmesg;
  char td_name[MAXCOMLEN + 1];
  int td_oncpu;
  enum td_states td_state;
  struct pcb *td_pcb;
  vm_offset_t td_kstack;
  int td_kstack_pages;
};

enum p_states { PRS_NEW = 0, PRS_NORMAL, PRS_ZOMBIE };

struct proc {
  LIST_ENTRY(proc) p_list;
  TAILQ_HEAD(, thread) p_threads;
  void *p_ucred;
  int p_flag;
  enum p_states p_state;
  pid_t p_pid;
  LIST_ENTRY(proc) p_hash;
  struct proc *p_pptr;
  int p_numthreads;
  char p_comm[MAXCOMLEN + 1];
};

LIST_HEAD(proclist, proc);

struct msgbuf {
  char *msg_ptr;
  u_int msg_magic;
  u_int msg_size;
  u_int msg_wseq;
  u_int msg_rseq;
  u_int msg_cksum;
  u_int msg_seqmod;
  int msg_lastpri;
  u_int msg_flags;
};

/* The functions the stacks return into, each calling the next. */
#define FUNCTION(name, callee) void callee(void); void name(void) { callee(); }
void savectx(void) {}
FUNCTION(doadump, savectx)
FUNCTION(kern_reboot, doadump)
FUNCTION(vpanic, kern_reboot)
FUNCTION(panic, vpanic)
FUNCTION(trap_fatal, panic)
FUNCTION(trap_pfault, trap_fatal)
FUNCTION(trap, trap_pfault)
FUNCTION(cpustop_handler, savectx)
FUNCTION(ipi_nmi_handler, cpustop_handler)
FUNCTION(sched_idletd, ipi_nmi_handler)
FUNCTION(fork_exit, sched_idletd)
FUNCTION(mi_switch, savectx)
FUNCTION(sleepq_switch, mi_switch)
FUNCTION(sleepq_wait, sleepq_switch)
FUNCTION(_sleep, sleepq_wait)
FUNCTION(kern_wait6, _sleep)
FUNCTION(sys_wait4, kern_wait6)
FUNCTION(syscallenter, sys_wait4)
FUNCTION(ithread_loop, savectx)

#define RET(function) ((uintptr_t)function + RETURN_OFFSET)

/*
 * Kernel stacks: a frame record (saved frame pointer, return address) every
 * four words, the last one ending the chain with zeros.
 */
uintptr_t fxcrash_stack[32] = {
    [2] = 0x2222,                                      /* doadump's locals */
    [4] = (uintptr_t)&fxcrash_stack[8], RET(kern_reboot), /* doadump's record */
    [8] = (uintptr_t)&fxcrash_stack[12], RET(vpanic),
    [12] = (uintptr_t)&fxcrash_stack[16], RET(panic),
    [16] = (uintptr_t)&fxcrash_stack[20], RET(trap_fatal),
    [20] = (uintptr_t)&fxcrash_stack[24], RET(trap_pfault),
    [24] = (uintptr_t)&fxcrash_stack[28], RET(trap),
    [28] = 0, 0,
};
uintptr_t idle1_stack[16] = {
    [4] = (uintptr_t)&idle1_stack[8], RET(ipi_nmi_handler),
    [8] = (uintptr_t)&idle1_stack[12], RET(sched_idletd),
    [12] = 0, RET(fork_exit),
};
uintptr_t init_stack[28] = {
    [4] = (uintptr_t)&init_stack[8], RET(sleepq_switch),
    [8] = (uintptr_t)&init_stack[12], RET(sleepq_wait),
    [12] = (uintptr_t)&init_stack[16], RET(_sleep),
    [16] = (uintptr_t)&init_stack[20], RET(kern_wait6),
    [20] = (uintptr_t)&init_stack[24], RET(sys_wait4),
    [24] = 0, RET(syscallenter),
};

/* The return address ithread_loop's caller pushed: no frame record yet. */
uintptr_t intr_stack[8] = {[2] = RET(fork_exit)};

/* The panicking thread's registers, saved by doadump() (savectx). */
struct pcb dumppcb = PCB(RET(doadump), &fxcrash_stack[2], &fxcrash_stack[4]);
lwpid_t dumptid = 100042;
/* Each stopped CPU's registers, saved by cpustop_handler(). */
struct pcb stoppcbs[MAXCPU] = {
    [1] = PCB(RET(cpustop_handler), &idle1_stack[2], &idle1_stack[4]),
};
const int pcb_size = sizeof(struct pcb);
/* A switched-out thread's registers, saved by mi_switch() (cpu_switch). */
struct pcb init_pcb = PCB(RET(mi_switch), &init_stack[2], &init_stack[4]);
/* A thread stopped at ithread_loop's first instruction (the frame pointer unset). */
struct pcb intr_pcb = PCB(ithread_loop, &intr_stack[2], 0);
/* The panicking thread's stale pcb: its last switch, not the panic. */
struct pcb fxcrash_pcb = PCB(RET(mi_switch), 0, 0);
struct pcb idle_pcb[2];

extern struct proc proc0, init_proc, idle_proc, intr_proc, fxcrash_proc;
extern struct thread thread0, init_thread, idle_threads[2], intr_thread, fxcrash_threads[2];

/* allproc: the newest process first. */
struct proclist allproc = {&fxcrash_proc};

struct proc fxcrash_proc = {
    .p_list = {&intr_proc, &allproc.lh_first},
    .p_threads = {&fxcrash_threads[0], &fxcrash_threads[1].td_plist.tqe_next},
    .p_state = PRS_NORMAL, .p_pid = 42, .p_pptr = &init_proc, .p_numthreads = 2, .p_comm = "fxcrash",
};
struct thread fxcrash_threads[2] = {
    {.td_proc = &fxcrash_proc, .td_plist = {&fxcrash_threads[1], &fxcrash_proc.p_threads.tqh_first},
     .td_tid = 100042, .td_name = "fxcrash", .td_oncpu = 0, .td_state = TDS_RUNNING, .td_pcb = &fxcrash_pcb},
    {.td_proc = &fxcrash_proc, .td_plist = {0, &fxcrash_threads[0].td_plist.tqe_next},
     .td_tid = 100043, .td_name = "fxcrash worker", .td_oncpu = NOCPU, .td_state = TDS_RUNQ, .td_pcb = &idle_pcb[0]},
};

struct proc intr_proc = {
    .p_list = {&idle_proc, &fxcrash_proc.p_list.le_next},
    .p_threads = {&intr_thread, &intr_thread.td_plist.tqe_next},
    .p_state = PRS_NORMAL, .p_pid = 12, .p_pptr = &proc0, .p_numthreads = 1, .p_comm = "intr",
};
struct thread intr_thread = {
    .td_proc = &intr_proc, .td_plist = {0, &intr_proc.p_threads.tqh_first}, .td_tid = 100005,
    .td_inhibitors = TDI_IWAIT, .td_name = "swi4: clock", .td_oncpu = NOCPU, .td_state = TDS_INHIBITED,
    .td_pcb = &intr_pcb,
};

struct proc idle_proc = {
    .p_list = {&init_proc, &intr_proc.p_list.le_next},
    .p_threads = {&idle_threads[0], &idle_threads[1].td_plist.tqe_next},
    .p_state = PRS_NORMAL, .p_pid = 11, .p_pptr = &proc0, .p_numthreads = 2, .p_comm = "idle",
};
struct thread idle_threads[2] = {
    {.td_proc = &idle_proc, .td_plist = {&idle_threads[1], &idle_proc.p_threads.tqh_first},
     .td_tid = 100003, .td_name = "idle: cpu0", .td_oncpu = NOCPU, .td_state = TDS_CAN_RUN, .td_pcb = &idle_pcb[0]},
    {.td_proc = &idle_proc, .td_plist = {0, &idle_threads[0].td_plist.tqe_next},
     .td_tid = 100004, .td_name = "idle: cpu1", .td_oncpu = 1, .td_state = TDS_RUNNING, .td_pcb = &idle_pcb[1]},
};

struct proc init_proc = {
    .p_list = {&proc0, &idle_proc.p_list.le_next},
    .p_threads = {&init_thread, &init_thread.td_plist.tqe_next},
    .p_state = PRS_NORMAL, .p_pid = 1, .p_pptr = &proc0, .p_numthreads = 1, .p_comm = "init",
};
struct thread init_thread = {
    .td_proc = &init_proc, .td_plist = {0, &init_proc.p_threads.tqh_first}, .td_tid = 100002,
    .td_inhibitors = TDI_SLEEPING, .td_wmesg = "wait", .td_name = "init", .td_oncpu = NOCPU,
    .td_state = TDS_INHIBITED, .td_pcb = &init_pcb,
};

struct proc proc0 = {
    .p_list = {0, &init_proc.p_list.le_next},
    .p_threads = {&thread0, &thread0.td_plist.tqe_next},
    .p_state = PRS_NORMAL, .p_pid = 0, .p_numthreads = 1, .p_comm = "kernel",
};
struct thread thread0 = {
    .td_proc = &proc0, .td_plist = {0, &proc0.p_threads.tqh_first}, .td_tid = 100000,
    .td_inhibitors = TDI_SLEEPING, .td_wmesg = "-", .td_name = "swapper", .td_oncpu = NOCPU,
    .td_state = TDS_INHIBITED, .td_pcb = &idle_pcb[1],
};

char msgbuf_area[256] = "<6>coroner fbsd_kernel.c message buffer\n";
struct msgbuf msgbuf0 = {.msg_ptr = msgbuf_area, .msg_magic = 0x063062, .msg_size = sizeof(msgbuf_area)};
struct msgbuf *msgbufp = &msgbuf0;
int osreldate = 1500000;
/* vpanic() points panicstr at the formatted message. */
char panic_buf[256] = "page fault while in kernel mode";
const char *panicstr = panic_buf;
char version[] = "FreeBSD 15.0-CURRENT #0 coroner-test: Fri Dec  4 2026\n    root@crashbox:/usr/obj/sys/GENERIC\n";

/* The offsets kgdb and LLDB read instead of types (sys/kern/kern_proc.c, kern_thread.c). */
const int proc_off_p_comm = offsetof(struct proc, p_comm);
const int proc_off_p_list = offsetof(struct proc, p_list);
const int proc_off_p_pid = offsetof(struct proc, p_pid);
const int proc_off_p_threads = offsetof(struct proc, p_threads);
const int thread_off_td_name = offsetof(struct thread, td_name);
const int thread_off_td_oncpu = offsetof(struct thread, td_oncpu);
const int thread_off_td_pcb = offsetof(struct thread, td_pcb);
const int thread_off_td_plist = offsetof(struct thread, td_plist);
const int thread_off_td_tid = offsetof(struct thread, td_tid);
