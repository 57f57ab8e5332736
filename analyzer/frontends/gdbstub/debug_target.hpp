// What the gdb stub serves, whatever it comes from (the kernel of a dump,
// or one process of it): threads, their registers, memory, and where the
// debugged objects are loaded. The command dispatch (remote_session.hpp)
// speaks the protocol over this.
#pragma once

#include "analyzer/frontends/gdbstub/target_description.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace coroner::gdbstub {

struct RemoteThread {
  uint64_t id = 0;         // the protocol's thread id (never 0 or -1)
  std::string extra_info;  // qThreadExtraInfo: "pid comm [state] cpu N"
};

class DebugTarget {
 public:
  virtual ~DebugTarget() = default;
  virtual const TargetDescription& description() const = 0;
  // Every thread, in the order gdb lists them.
  virtual const std::vector<RemoteThread>& threads() const = 0;
  // The thread the `?` stop reply names (the crashing one).
  virtual uint64_t stop_thread() const = 0;
  // The thread's registers in description().registers order; nullopt for
  // one the dump does not give (gdb shows <unavailable>).
  virtual std::vector<std::optional<uint64_t>> registers(uint64_t thread) const = 0;
  // Reads memory as `thread` sees it, into out from its start; returns how
  // many bytes could be read before the first unreadable one.
  virtual size_t read_memory(uint64_t thread, uint64_t address, std::span<std::byte> out) const = 0;
  // The qOffsets answer ("Text=...;Data=...;Bss=..."), nullopt when there is none to give.
  virtual std::optional<std::string> offsets() const = 0;
  // The qXfer:libraries:read document.
  virtual std::string libraries() const = 0;
  // The process's auxiliary vector (qXfer:auxv:read), nullopt for none.
  virtual std::optional<std::string> auxv() const { return std::nullopt; }
};

}  // namespace coroner::gdbstub
