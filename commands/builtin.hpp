// The commands' descriptors, one per command file; registry.cpp lists them.
#pragma once

#include "commands/command.hpp"

namespace coroner::commands {

Command sys_command();
Command rd_command();
Command vtop_command();
Command sym_command();
Command set_command();
Command help_command();
Command quit_command();
// print.cpp, struct.cpp, whatis.cpp
Command p_command();
Command px_command();
Command pd_command();
Command struct_command();
Command union_command();
Command whatis_command();
Command ptype_command();
// list.cpp, tree.cpp, search.cpp, eval.cpp
Command list_command();
Command tree_command();
Command search_command();
Command eval_command();
Command ascii_command();
// mod.cpp, dis.cpp
Command mod_command();
Command dis_command();
// bt.cpp, foreach.cpp, ps.cpp, task.cpp (set.cpp: set_command above)
Command bt_command();
Command foreach_command();
Command ps_command();
Command task_command();
// log.cpp
Command log_command();
// vm.cpp, files.cpp, sig.cpp
Command vm_command();
Command files_command();
Command sig_command();
// runq.cpp, mount.cpp, irq.cpp, swap.cpp, timer.cpp, waitq.cpp, ipcs.cpp
Command ipcs_command();
Command runq_command();
Command mount_command();
Command irq_command();
Command swap_command();
Command timer_command();
Command waitq_command();
// net.cpp, ptov.cpp, ptob.cpp (ptob and btop), mach.cpp, dev.cpp
Command dev_command();
Command mach_command();
Command net_command();
Command ptov_command();
Command ptob_command();
Command btop_command();
// pte.cpp
Command pte_command();
// kmem.cpp (kmem_address.cpp, kmem_views.cpp)
Command kmem_command();
// extend.cpp
Command extend_command();

}  // namespace coroner::commands
