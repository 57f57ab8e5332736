#include "analyzer/frontends/gdbstub/connection.hpp"

#include "analyzer/frontends/gdbstub/packet_framing.hpp"
#include "analyzer/frontends/gdbstub/remote_session.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ostream>

namespace coroner::gdbstub {

namespace {

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void refuse_pending(int listen_fd) {
  int client = accept(listen_fd, nullptr, nullptr);
  if (client >= 0) close(client);
}

}  // namespace

void serve_client(const DebugTarget& target, int in_fd, int out_fd, int refuse_fd) {
  RemoteSession session(target);
  PacketReader reader;
  std::vector<ReceivedEvent> events;
  std::string last_sent;  // for a '-' from the client
  bool acks = true;
  char buffer[4096];
  bool leaving = false;  // the client has closed its end: what it sent is still answered
  for (;;) {
    pollfd fds[2] = {{in_fd, POLLIN | POLLRDHUP, 0}, {refuse_fd, POLLIN, 0}};
    if (poll(fds, refuse_fd >= 0 && !leaving ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    leaving = leaving || (fds[0].revents & (POLLRDHUP | POLLHUP));
    // A client that connects while this one is served is refused; one that
    // comes as this one leaves waits for its turn.
    if (refuse_fd >= 0 && !leaving && (fds[1].revents & POLLIN)) refuse_pending(refuse_fd);
    if (!(fds[0].revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))) continue;
    ssize_t n = read(in_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    events.clear();
    reader.feed(std::string_view(buffer, static_cast<size_t>(n)), events);
    for (ReceivedEvent& event : events) {
      switch (event.kind) {
        case ReceivedEvent::Kind::ack:
        case ReceivedEvent::Kind::interrupt:  // nothing runs: nothing to stop
          break;
        case ReceivedEvent::Kind::nack:
          if (!last_sent.empty() && !write_all(out_fd, last_sent)) return;
          break;
        case ReceivedEvent::Kind::bad_packet:
          if (acks && !write_all(out_fd, "-")) return;
          break;
        case ReceivedEvent::Kind::packet: {
          if (acks && !write_all(out_fd, "+")) return;
          SessionReply reply = session.handle(event.payload);
          if (reply.payload) {
            last_sent = encode_packet(*reply.payload);
            if (!write_all(out_fd, last_sent)) return;
          }
          if (reply.start_no_ack) acks = false;
          if (reply.close) return;
          break;
        }
      }
    }
  }
}

Expected<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress address;
  std::string_view port = text;
  if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (!host.empty()) address.host = std::string(host);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || error != std::errc() || end != port.data() + port.size() || value > 65535)
    return make_error(Errc::invalid_argument, "--listen takes HOST:PORT or PORT, not {}", text);
  address.port = static_cast<uint16_t>(value);
  return address;
}

Expected<void> serve_tcp(const DebugTarget& target, const ListenAddress& address, std::ostream& log) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  if (int status = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); status != 0)
    return make_error(Errc::invalid_argument, "cannot listen on {}: {}", address.host, gai_strerror(status));
  int listen_fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  int yes = 1;
  if (listen_fd >= 0) setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (listen_fd < 0 || bind(listen_fd, found->ai_addr, found->ai_addrlen) != 0 || listen(listen_fd, 4) != 0) {
    int error = errno;
    freeaddrinfo(found);
    if (listen_fd >= 0) close(listen_fd);
    return make_error(Errc::io, "cannot listen on {}:{}: {}", address.host, address.port, std::strerror(error));
  }
  freeaddrinfo(found);
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&bound), &length);
  uint16_t bound_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                                         : reinterpret_cast<sockaddr_in&>(bound).sin_port);
  log << "Listening on " << address.host << ':' << bound_port << std::endl;
  for (;;) {
    int client = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      int error = errno;
      close(listen_fd);
      return make_error(Errc::io, "accept: {}", std::strerror(error));
    }
    int no_delay = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof no_delay);
    serve_client(target, client, client, listen_fd);
    close(client);
  }
}

}  // namespace coroner::gdbstub
