// The command dispatch of the gdb remote protocol for one client: each
// packet's payload in, the reply's payload out, over a DebugTarget. Read
// only: writes of memory or registers, breakpoints and resuming answer an
// error packet; a malformed or unknown packet answers an error or the empty
// "unsupported" reply, never more.
#pragma once

#include "analyzer/frontends/gdbstub/debug_target.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace coroner::gdbstub {

struct SessionReply {
  std::optional<std::string> payload;  // none for `k`
  bool close = false;                  // D, k: the client is done
  bool start_no_ack = false;           // QStartNoAckMode: no '+' after this reply
};

class RemoteSession {
 public:
  explicit RemoteSession(const DebugTarget& target);

  SessionReply handle(std::string_view packet);

 private:
  std::string query(std::string_view packet);
  std::string set_thread(std::string_view packet);
  std::string read_registers() const;
  std::string read_register(std::string_view packet) const;
  std::string read_memory(std::string_view packet) const;
  std::string transfer(std::string_view packet) const;
  std::string stop_reply(uint64_t thread) const;
  bool known_thread(uint64_t id) const;

  const DebugTarget& target_;
  uint64_t general_thread_;        // Hg: registers and memory
  size_t next_thread_batch_ = 0;   // qsThreadInfo: where the list continues
};

}  // namespace coroner::gdbstub
