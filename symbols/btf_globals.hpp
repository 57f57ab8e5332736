// The C types of kernel globals that BTF does not describe. BTF carries
// types, functions and per-CPU variables (those only since pahole 1.18;
// Debian 11's 5.10 has none), but no other variable (pahole
// leaves them out), so from BTF alone `p init_uts_ns` has an address
// (kallsyms) and no type. These are the globals the kernel model and
// everyday sessions read, whose declarations have kept the same C type from
// Linux 4.18 to 6.x; any other global is reached by casting its address.
#pragma once

#include <optional>
#include <string_view>

namespace coroner::symbols {

struct KnownGlobal {
  std::string_view type;  // a spelling TypeGraph::find_type takes: "struct task_struct", "unsigned long"
  bool array = false;     // declared "type name[]": the length comes from the symbol's size
  bool per_cpu = false;   // DEFINE_PER_CPU: BTF has it only when pahole wrote per-CPU variables (not Linux 5.10's)
};

std::optional<KnownGlobal> known_global(std::string_view name);

}  // namespace coroner::symbols
