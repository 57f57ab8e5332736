// The remote protocol's framing (checksums, escapes, acks, the size limit)
// and the command dispatch over a small fake target: read-only answers,
// thread lists, qXfer pieces.
#include "analyzer/frontends/gdbstub/packet_framing.hpp"
#include "analyzer/frontends/gdbstub/remote_session.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

namespace coroner::gdbstub {

namespace {

std::vector<ReceivedEvent> feed(PacketReader& reader, std::string_view bytes) {
  std::vector<ReceivedEvent> events;
  reader.feed(bytes, events);
  return events;
}

// Two threads, memory readable in [0x1000, 0x1010) only.
class FakeTarget : public DebugTarget {
 public:
  FakeTarget() : description_(describe_target(Machine::x86_64, 0)) {}
  const TargetDescription& description() const override { return description_; }
  const std::vector<RemoteThread>& threads() const override { return threads_; }
  uint64_t stop_thread() const override { return 7; }
  std::vector<std::optional<uint64_t>> registers(uint64_t thread) const override {
    std::vector<std::optional<uint64_t>> values(description_.registers.size());
    values[0] = thread;  // rax
    return values;
  }
  size_t read_memory(uint64_t, uint64_t address, std::span<std::byte> out) const override {
    size_t n = 0;
    while (n < out.size() && address + n >= 0x1000 && address + n < 0x1010) out[n] = std::byte(address + n), ++n;
    return n;
  }
  std::optional<std::string> offsets() const override { return "Text=10;Data=10;Bss=10"; }
  std::string libraries() const override { return "<library-list/>"; }

 private:
  TargetDescription description_;
  std::vector<RemoteThread> threads_ = {{7, "7 a [RU] cpu 0"}, {0x400001, "0 swapper/0 [RU] cpu 0"}};
};

}  // namespace

TEST_CASE("gdbstub framing: checksums, escapes, acks, interrupts", "[gdbstub]") {
  CHECK(encode_packet("OK") == "$OK#9a");
  CHECK(encode_packet("a}b#").substr(0, 8) == "$a}]b}\x03#");
  PacketReader reader;
  auto events = feed(reader, "+$OK#9a-\x03");
  REQUIRE(events.size() == 4);
  CHECK(events[0].kind == ReceivedEvent::Kind::ack);
  CHECK(events[1].kind == ReceivedEvent::Kind::packet);
  CHECK(events[1].payload == "OK");
  CHECK(events[2].kind == ReceivedEvent::Kind::nack);
  CHECK(events[3].kind == ReceivedEvent::Kind::interrupt);
  // An escaped payload round-trips; a packet may arrive in pieces.
  std::string packet = encode_packet("x}$#*y");
  CHECK(feed(reader, packet.substr(0, 3)).empty());
  events = feed(reader, packet.substr(3));
  REQUIRE(events.size() == 1);
  CHECK(events[0].payload == "x}$#*y");
  // Bad checksum, bad checksum digits, oversized: dropped whole.
  CHECK(feed(reader, "$OK#00")[0].kind == ReceivedEvent::Kind::bad_packet);
  CHECK(feed(reader, "$OK#zz")[0].kind == ReceivedEvent::Kind::bad_packet);
  std::string huge = "$" + std::string(kMaxPacketSize + 10, 'a') + "#00";
  CHECK(feed(reader, huge)[0].kind == ReceivedEvent::Kind::bad_packet);
  CHECK(feed(reader, "$OK#9a")[0].payload == "OK");
}

TEST_CASE("gdbstub framing: hex helpers are strict", "[gdbstub]") {
  CHECK(parse_hex_number("ffffffffffffffff") == UINT64_MAX);
  CHECK_FALSE(parse_hex_number("1ffffffffffffffff"));
  CHECK_FALSE(parse_hex_number(""));
  CHECK_FALSE(parse_hex_number("-1"));
  CHECK(from_hex("4f4b") == "OK");
  CHECK_FALSE(from_hex("4f4"));
  CHECK_FALSE(from_hex("zz"));
  CHECK(little_endian_hex(0x1234, 4) == "34120000");
  CHECK(to_hex(std::string_view("OK")) == "4f4b");
}

TEST_CASE("gdbstub session: read only, threads, registers, memory, qXfer", "[gdbstub]") {
  FakeTarget target;
  RemoteSession session(target);
  auto reply = [&](std::string_view packet) { return session.handle(packet).payload.value_or("<none>"); };
  CHECK(reply("?") == "T05thread:7;");
  CHECK(reply("qAttached") == "1");
  CHECK(reply("qfThreadInfo") == "m7,400001");
  CHECK(reply("qsThreadInfo") == "l");
  CHECK(reply("qThreadExtraInfo,7") == to_hex(std::string_view("7 a [RU] cpu 0")));
  CHECK(reply("qThreadExtraInfo,99") == "E01");
  CHECK(reply("qOffsets") == "Text=10;Data=10;Bss=10");
  CHECK(reply("Hg400001") == "OK");
  CHECK(reply("g").starts_with("0100400000000000"));
  CHECK(reply("p0") == "0100400000000000");
  CHECK(reply("p1") == "xxxxxxxxxxxxxxxx");
  CHECK(reply("pffff") == "E01");
  CHECK(reply("Hg99") == "E01");
  CHECK(reply("T7") == "OK");
  CHECK(reply("T99") == "E01");
  // Memory: partial answers, an unreadable start is an error.
  CHECK(reply("m100e,4") == "0e0f");
  CHECK(reply("m2000,4") == "E01");
  CHECK(reply("m1000,ffffffffffffffff").size() == 32);
  CHECK(reply("m1000") == "E01");
  // Writes, breakpoints, resuming: refused.
  for (std::string_view refused : {"M1000,1:00", "X1000,1:a", "G00", "P0=00", "Z0,1000,1", "z0,1000,1", "c", "s",
                                   "vCont;c", "vRun;", "C05"})
    CHECK(reply(refused) == "E01");
  CHECK(reply("vCont?") == "vCont;c;C;s;S");
  CHECK(reply("qNoSuchThing") == "");
  CHECK(reply("") == "");
  // Documents in pieces: m while more follows, l for the last piece.
  const std::string& xml = target.description().xml;
  std::string first = reply("qXfer:features:read:target.xml:0,10");
  CHECK(first == "m" + xml.substr(0, 16));
  CHECK(reply(fmt::format("qXfer:features:read:target.xml:{:x},ffff", xml.size() - 4)) == "l" + xml.substr(xml.size() - 4));
  CHECK(reply("qXfer:features:read:target.xml:ffffffffffffffff,1") == "l");
  CHECK(reply("qXfer:features:read:other.xml:0,10") == "E00");
  CHECK(reply("qXfer:features:read:target.xml:zz") == "E01");
  CHECK(reply("qXfer:libraries:read::0,1000") == "l<library-list/>");
  // No auxiliary vector (the kernel): not offered, refused.
  CHECK(reply("qSupported:xmlRegisters=i386").find("auxv") == std::string::npos);
  CHECK(reply("qXfer:auxv:read::0,100") == "E00");
  CHECK(session.handle("D").close);
  SessionReply kill = session.handle("k");
  CHECK(kill.close);
  CHECK_FALSE(kill.payload);
}

}  // namespace coroner::gdbstub
