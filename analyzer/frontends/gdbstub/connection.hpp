// Where the stub meets its clients: a pair of file descriptors (--stdio, as
// `target remote | coroner gdbserver --stdio ...` runs it) or a TCP
// listener (--listen), serving one client at a time -- others are refused
// while one is connected -- and the next one after it leaves.
#pragma once

#include "analyzer/frontends/gdbstub/debug_target.hpp"
#include "capture/format/error.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>

namespace coroner::gdbstub {

// Serves one client on in_fd/out_fd until it detaches, kills or closes the
// connection. `refuse_fd`, when not -1, is a listening socket whose new
// connections are closed at once meanwhile.
void serve_client(const DebugTarget& target, int in_fd, int out_fd, int refuse_fd = -1);

struct ListenAddress {
  std::string host = "127.0.0.1";
  uint16_t port = 1234;
};

// "HOST:PORT", ":PORT" or "PORT" (host 127.0.0.1); the error says what is wrong.
Expected<ListenAddress> parse_listen_address(std::string_view text);

// Listens on `address` and serves clients one after another, for ever
// (until killed). Tells `log` the port ("Listening on 127.0.0.1:PORT"; port
// 0 asks for a free one). An error when the address cannot be bound.
Expected<void> serve_tcp(const DebugTarget& target, const ListenAddress& address, std::ostream& log);

}  // namespace coroner::gdbstub
