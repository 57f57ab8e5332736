// `coroner gdbserver --listen` as clients meet it: one client at a time
// (another is refused meanwhile), several one after another, and a client
// sending garbage -- random bytes, truncated, oversized and malformed
// packets, bad checksums, unknown commands, huge lengths -- after which a
// normal session still gets right answers from the same server.
#include "analyzer/frontends/gdbstub/packet_framing.hpp"
#include "tests/analyzer/frontends/gdbstub/gdb_session.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>

namespace coroner::test {

namespace {

// A raw protocol client.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~Client() { close(fd_); }

  void send_raw(std::string_view bytes) { (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }

  // The payload of the next packet the server sends (acks skipped and
  // acknowledged); nullopt when the connection closes or nothing comes.
  std::optional<std::string> next_packet(int timeout_ms = 20000) {
    for (;;) {
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->kind != gdbstub::ReceivedEvent::Kind::packet) continue;
        std::string payload = std::move(it->payload);
        pending_.erase(pending_.begin(), it + 1);
        send_raw("+");
        return payload;
      }
      pending_.clear();
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
      char buf[4096];
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      reader_.feed(std::string_view(buf, static_cast<size_t>(n)), pending_);
    }
  }

  std::optional<std::string> request(std::string_view payload) {
    send_raw(gdbstub::encode_packet(payload));
    return next_packet();
  }

  // Whether the server closed the connection (within timeout_ms).
  bool closed(int timeout_ms = 5000) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    // End of file, or a reset when our last '+' reached a socket the server
    // had already closed.
    char c;
    return read(fd_, &c, 1) <= 0;
  }

 private:
  int fd_ = -1;
  gdbstub::PacketReader reader_;
  std::vector<gdbstub::ReceivedEvent> pending_;
};

// A normal session's answers: the stop reply, the threads, the crashing
// thread's registers and a memory sample of facts.json.
void check_normal_session(Client& client, const DumpCase& dump) {
  auto stop = client.request("?");
  REQUIRE(stop);
  CHECK(stop->starts_with("T05thread:"));
  auto threads = client.request("qfThreadInfo");
  REQUIRE(threads);
  CHECK(threads->starts_with("m1,"));
  auto registers = client.request("g");
  REQUIRE(registers);
  CHECK(registers->size() > 200);
  const auto& sample = dump.facts()["memory_samples"][0];
  auto memory = client.request(fmt::format("m{:x},8", hex_value(sample["vaddr"])));
  CHECK(memory == sample["first8"].get<std::string>());
}

}  // namespace

TEST_CASE("gdbserver --listen: one client at a time, several one after another", "[gdbstub]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  ServerProcess server(dump);
  {
    Client first(server.port());
    CHECK(first.request("qSupported:multiprocess+")->find("qXfer:features:read+") != std::string::npos);
    Client second(server.port());
    CHECK(second.closed());  // refused while the first is served
    check_normal_session(first, dump);
    CHECK(first.request("D") == "OK");
    CHECK(first.closed());
  }
  for (int i = 0; i < 2; ++i) {
    Client next(server.port());
    check_normal_session(next, dump);
    if (i == 0) next.send_raw(gdbstub::encode_packet("k"));  // leaves without a reply; the next one comes
  }
  CHECK(server.running());
}

TEST_CASE("gdbserver: random, truncated, oversized and malformed packets, then a normal session", "[gdbstub]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  ServerProcess server(dump);
  {
    Client fuzzer(server.port());
    std::mt19937_64 random(20);
    // Random bytes, including '$', '#' and '}' often enough to open packets.
    for (int round = 0; round < 200; ++round) {
      std::string noise(random() % 300, '\0');
      for (char& c : noise) c = "$#}*+-\x03"[random() % 8] ? static_cast<char>(random()) : '$';
      fuzzer.send_raw(noise);
    }
    fuzzer.send_raw("#00");  // close whatever packet the noise left open
    // Malformed packets with good checksums: each gets an answer.
    for (std::string_view packet : {"m", "m,", "mffffffffffffffff,ffffffffffffffff", "m0,ffffffffffffffff",
                                    "m1ffffffffffffffff,8", "p", "pzz", "p99999999999999999", "H", "Hg", "Hgzz",
                                    "qThreadExtraInfo,", "qXfer:features:read:target.xml:ffffffffffffffff,ffff",
                                    "qXfer:features:read", "qXfer:libraries:read::,", "qXfer::::", "vCont;c:1",
                                    "X0,ffffffffffffffff:", "M0,1:zz", "Z0,0,0", "unknown", "qUnknown", "T",
                                    "QStartNoAckMod", "D;zz"}) {
      INFO(packet);
      if (packet.starts_with("D")) continue;  // a detach would end this client
      auto reply = fuzzer.request(packet);
      REQUIRE(reply);
      CHECK((reply->empty() || reply->starts_with("E") || reply->starts_with("l") || reply->starts_with("m") ||
             reply->size() % 2 == 0));
    }
    // Bad checksums and an oversized packet are NAKed; truncated ones wait.
    fuzzer.send_raw("$g#00$qSupported#ff");
    fuzzer.send_raw("$" + std::string(gdbstub::kMaxPacketSize * 4, 'm') + "#00");
    fuzzer.send_raw("$m0,1");  // truncated: the client goes away mid-packet
  }
  CHECK(server.running());
  Client normal(server.port());
  check_normal_session(normal, dump);
  CHECK(server.running());
}

}  // namespace coroner::test
