#include "analyzer/frontends/gdbstub/remote_session.hpp"

#include "analyzer/frontends/gdbstub/packet_framing.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace coroner::gdbstub {

namespace {

constexpr std::string_view kError = "E01";
// Room a reply's payload may fill (hex doubles memory; escapes can double
// XML in the worst case).
constexpr size_t kReplyRoom = kMaxPacketSize / 2 - 16;

// "ADDR,LENGTH" (m, qXfer offsets).
std::optional<std::pair<uint64_t, uint64_t>> address_and_length(std::string_view text) {
  size_t comma = text.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  auto address = parse_hex_number(text.substr(0, comma));
  auto length = parse_hex_number(text.substr(comma + 1));
  if (!address || !length) return std::nullopt;
  return std::pair{*address, *length};
}

// A thread id of H and T packets: hex, or -1 (all threads).
std::optional<uint64_t> thread_argument(std::string_view text) {
  if (text == "-1") return UINT64_MAX;
  return parse_hex_number(text);
}

}  // namespace

RemoteSession::RemoteSession(const DebugTarget& target) : target_(target), general_thread_(target.stop_thread()) {}

bool RemoteSession::known_thread(uint64_t id) const {
  const auto& threads = target_.threads();
  return std::any_of(threads.begin(), threads.end(), [&](const RemoteThread& t) { return t.id == id; });
}

std::string RemoteSession::stop_reply(uint64_t thread) const { return fmt::format("T05thread:{:x};", thread); }

SessionReply RemoteSession::handle(std::string_view packet) {
  if (packet.empty()) return {std::string()};
  switch (packet[0]) {
    case '?': return {stop_reply(target_.stop_thread())};
    case 'q': return {query(packet)};
    case 'Q':
      if (packet == "QStartNoAckMode") return {"OK", false, true};
      return {std::string()};
    case 'H': return {set_thread(packet)};
    case 'T': {
      auto id = parse_hex_number(packet.substr(1));
      return {id && known_thread(*id) ? "OK" : std::string(kError)};
    }
    case 'g': return {packet.size() == 1 ? read_registers() : std::string(kError)};
    case 'p': return {read_register(packet.substr(1))};
    case 'm': return {read_memory(packet.substr(1))};
    case 'D': return {"OK", true};
    case 'k': return {std::nullopt, true};
    case 'v':
      if (packet == "vCont?") return {"vCont;c;C;s;S"};
      // A dump does not run: resuming, stepping, restarting are refused.
      if (packet.starts_with("vCont") || packet.starts_with("vRun") || packet.starts_with("vAttach") ||
          packet.starts_with("vKill"))
        return {std::string(kError)};
      return {std::string()};
    // Writes (memory, registers), breakpoints and resuming: read only.
    case 'M': case 'X': case 'G': case 'P': case 'Z': case 'z':
    case 'c': case 'C': case 's': case 'S': case 'R': case 'A': case 'I': case 'i':
      return {std::string(kError)};
    default: return {std::string()};
  }
}

std::string RemoteSession::query(std::string_view packet) {
  if (packet.starts_with("qSupported"))
    return fmt::format("PacketSize={:x};QStartNoAckMode+;qXfer:features:read+;qXfer:libraries:read+{}",
                       kMaxPacketSize, target_.auxv() ? ";qXfer:auxv:read+" : "");
  if (packet == "qAttached" || packet.starts_with("qAttached:")) return "1";
  if (packet == "qC") return fmt::format("QC{:x}", general_thread_);
  if (packet == "qOffsets") return target_.offsets().value_or("");
  if (packet == "qSymbol::") return "OK";
  if (packet == "qfThreadInfo" || packet == "qsThreadInfo") {
    if (packet == "qfThreadInfo") next_thread_batch_ = 0;
    const auto& threads = target_.threads();
    if (next_thread_batch_ >= threads.size()) return "l";
    std::string reply = "m";
    while (next_thread_batch_ < threads.size() && reply.size() < kReplyRoom) {
      if (reply.size() > 1) reply += ',';
      reply += fmt::format("{:x}", threads[next_thread_batch_++].id);
    }
    return reply;
  }
  if (packet.starts_with("qThreadExtraInfo,")) {
    auto id = parse_hex_number(packet.substr(17));
    const auto& threads = target_.threads();
    auto found = std::find_if(threads.begin(), threads.end(), [&](const RemoteThread& t) { return id == t.id; });
    return found == threads.end() ? std::string(kError) : to_hex(found->extra_info);
  }
  if (packet.starts_with("qThreadStopInfo")) {  // LLDB
    auto id = parse_hex_number(packet.substr(15));
    return id && known_thread(*id) ? stop_reply(*id) : std::string(kError);
  }
  if (packet.starts_with("qXfer:")) return transfer(packet.substr(6));
  return {};
}

std::string RemoteSession::set_thread(std::string_view packet) {
  if (packet.size() < 3) return std::string(kError);
  auto id = thread_argument(packet.substr(2));
  if (!id) return std::string(kError);
  if (*id == 0 || *id == UINT64_MAX) return "OK";  // any / all: keep the current one
  if (!known_thread(*id)) return std::string(kError);
  if (packet[1] == 'g') general_thread_ = *id;
  return "OK";
}

std::string RemoteSession::read_registers() const {
  const auto& registers = target_.description().registers;
  std::vector<std::optional<uint64_t>> values = target_.registers(general_thread_);
  std::string reply;
  for (size_t i = 0; i < registers.size(); ++i) {
    size_t bytes = registers[i].bits / 8;
    reply += values[i] ? little_endian_hex(*values[i], bytes) : std::string(bytes * 2, 'x');
  }
  return reply;
}

std::string RemoteSession::read_register(std::string_view packet) const {
  auto number = parse_hex_number(packet);
  const auto& registers = target_.description().registers;
  if (!number || *number >= registers.size()) return std::string(kError);
  auto value = target_.registers(general_thread_).at(*number);
  size_t bytes = registers[*number].bits / 8;
  return value ? little_endian_hex(*value, bytes) : std::string(bytes * 2, 'x');
}

std::string RemoteSession::read_memory(std::string_view packet) const {
  auto request = address_and_length(packet);
  if (!request) return std::string(kError);
  // A shorter answer than asked is allowed: gdb asks again for the rest.
  std::vector<std::byte> bytes(std::min<uint64_t>(request->second, kReplyRoom));
  if (bytes.empty()) return {};
  size_t read = target_.read_memory(general_thread_, request->first, bytes);
  if (read == 0) return std::string(kError);
  return to_hex(std::span(bytes.data(), read));
}

// qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH
std::string RemoteSession::transfer(std::string_view packet) const {
  size_t colon = packet.find(':');
  if (colon == std::string_view::npos) return std::string(kError);
  std::string_view object = packet.substr(0, colon);
  std::string_view rest = packet.substr(colon + 1);
  if (!rest.starts_with("read:")) return {};
  rest.remove_prefix(5);
  size_t annex_end = rest.find(':');
  if (annex_end == std::string_view::npos) return std::string(kError);
  std::string_view annex = rest.substr(0, annex_end);
  auto range = address_and_length(rest.substr(annex_end + 1));
  if (!range) return std::string(kError);
  std::string document;
  if (object == "features") {
    if (annex != "target.xml") return "E00";
    document = target_.description().xml;
  } else if (object == "libraries") {
    document = target_.libraries();
  } else if (object == "auxv") {
    auto auxv = target_.auxv();
    if (!auxv) return "E00";
    document = std::move(*auxv);
  } else {
    return {};
  }
  if (range->first >= document.size()) return "l";
  uint64_t length = std::min<uint64_t>({range->second, kReplyRoom, document.size() - range->first});
  bool last = range->first + length >= document.size();
  return (last ? "l" : "m") + document.substr(range->first, length);
}

}  // namespace coroner::gdbstub
