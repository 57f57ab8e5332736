// The gdb stub's input: the remote protocol's framing (PacketReader: '$',
// '#', checksums, '}' escapes, the size limit) over the input cut in two
// pieces, and every packet it yields handed to the command dispatch
// (RemoteSession) over a small target with two threads and 16 readable
// bytes, as a client's packets reach a live session.
#include "analyzer/frontends/gdbstub/packet_framing.hpp"
#include "analyzer/frontends/gdbstub/remote_session.hpp"

#include <string_view>

namespace {

using namespace coroner::gdbstub;

class SmallTarget : public DebugTarget {
 public:
  explicit SmallTarget(coroner::Machine machine) : description_(describe_target(machine, 48)) {}
  const TargetDescription& description() const override { return description_; }
  const std::vector<RemoteThread>& threads() const override { return threads_; }
  uint64_t stop_thread() const override { return 1; }
  std::vector<std::optional<uint64_t>> registers(uint64_t thread) const override {
    std::vector<std::optional<uint64_t>> values(description_.registers.size());
    values[0] = thread;
    return values;
  }
  size_t read_memory(uint64_t, uint64_t address, std::span<std::byte> out) const override {
    size_t n = 0;
    while (n < out.size() && address + n >= 0x1000 && address + n < 0x1010) out[n++] = std::byte{0xaa};
    return n;
  }
  std::optional<std::string> offsets() const override { return "Text=0;Data=0;Bss=0"; }
  std::string libraries() const override { return "<library-list/>"; }

 private:
  TargetDescription description_;
  std::vector<RemoteThread> threads_ = {{1, "1 init [RU] cpu 0"}, {2, "2 kthreadd [IN] cpu 1"}};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SmallTarget x86_64(coroner::Machine::x86_64), aarch64(coroner::Machine::aarch64);
  if (size == 0) return 0;
  // The first byte picks the architecture and where the stream is cut.
  const SmallTarget& target = data[0] & 1 ? aarch64 : x86_64;
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t cut = stream.empty() ? 0 : data[0] % (stream.size() + 1);
  RemoteSession session(target);
  PacketReader reader;
  std::vector<ReceivedEvent> events;
  reader.feed(stream.substr(0, cut), events);
  reader.feed(stream.substr(cut), events);
  for (const ReceivedEvent& event : events) {
    if (event.kind != ReceivedEvent::Kind::packet) continue;
    SessionReply reply = session.handle(event.payload);
    if (reply.payload) (void)encode_packet(*reply.payload);
  }
  // The session also takes payloads that never went through the framing.
  (void)session.handle(stream);
  return 0;
}
