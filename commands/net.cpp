// net: crash's network command. Without options the network devices of
// the current task's namespace (NET_DEVICE NAME IP ADDRESS(ES)); -n for a
// given task's namespace, -a the ARP cache, -s a task's open sockets
// (FD SOCKET SOCK FAMILY:TYPE SOURCE-PORT DESTINATION-PORT), -N an IPv4
// address given as a number.
#include "analyzer/os/linux/net_devices.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/task_output.hpp"
#include "commands/task_selection.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "net [-a] [-n [PID | TASK]] [-s [PID | TASK ...]] [-N NUMBER]";

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

std::vector<std::string> ipv4_list(const std::vector<uint32_t>& addresses) {
  std::vector<std::string> text;
  for (uint32_t a : addresses) text.push_back(linux_kernel::ipv4_text(a));
  return text;
}

// --- devices ------------------------------------------------------------------

// The devices of `net`, the namespace of `task` when one was named.
Expected<void> show_devices(CommandContext& ctx, uint64_t net, const linux_kernel::Task* task) {
  CORONER_TRY(devices, linux_kernel::net_devices(ctx.program, net));
  std::vector<std::string> errors;
  for (const auto& d : devices.devices)
    if (d.error) errors.push_back(d.error->context(fmt::format("{} ({:#x})", d.name, d.address)).message());
  for (const Error& e : devices.skipped) errors.push_back("skipped " + e.message());
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : devices.devices)
      list.push_back({{"net_device", hex(d.address)}, {"name", d.name}, {"ipv4", ipv4_list(d.ipv4)},
                      {"type", d.type}});
    nlohmann::json doc = {{"net", hex(net)}, {"devices", list}};
    if (task) doc.update(task_header_json(*task));
    if (!errors.empty()) doc["errors"] = errors;
    ctx.emit(doc);
    return {};
  }
  // crash 8.0.2's columns: the name in 6 characters, then the addresses.
  ctx.out << fmt::format("{:^16}  NAME   IP ADDRESS(ES)\n", "NET_DEVICE");
  for (const auto& d : devices.devices) {
    std::string addresses;
    for (const std::string& a : ipv4_list(d.ipv4)) addresses += (addresses.empty() ? "" : ", ") + a;
    ctx.out << fmt::format("{:>16x}  {:<6} {}\n", d.address, d.name, addresses);
  }
  for (const std::string& e : errors) ctx.out << "net: " << e << '\n';
  return {};
}

// --- the ARP cache ---------------------------------------------------------------

// crash writes an Ethernet address as 52:54:00:12:34:56, others as bytes.
std::string hardware_text(const linux_kernel::Neighbour& n) {
  std::string text;
  bool ether = n.device_type == 1;
  for (size_t i = 0; i < n.hardware.size(); ++i)
    text += fmt::format("{:02x}{}", n.hardware[i], ether && i + 1 < n.hardware.size() ? ":" : " ");
  return text;
}

Expected<void> show_arp(CommandContext& ctx) {
  CORONER_TRY(cache, linux_kernel::arp_cache(ctx.program));
  std::vector<std::string> errors;
  for (const Error& e : cache.skipped) errors.push_back("skipped " + e.message());
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& n : cache.entries) {
      std::string hw = hardware_text(n);
      if (!hw.empty()) hw.pop_back();
      list.push_back({{"neighbour", hex(n.address)},
                      {"ip_address", linux_kernel::ipv4_text(n.ipv4)},
                      {"hw_type", linux_kernel::hardware_type_name(n.device_type)},
                      {"hw_address", hw},
                      {"device", n.device_name},
                      {"state", linux_kernel::neighbour_state_text(n.state)}});
    }
    nlohmann::json doc = {{"arp", list}};
    if (!errors.empty()) doc["errors"] = errors;
    ctx.emit(doc);
    return {};
  }
  // crash prints nothing at all for an empty cache.
  if (!cache.entries.empty())
    ctx.out << "NEIGHBOUR        IP ADDRESS      HW TYPE    HW ADDRESS         DEVICE  STATE\n";
  for (const auto& n : cache.entries)
    ctx.out << fmt::format("{:<16x} {:<16}{:<10} {} {:<6}  {}\n", n.address, linux_kernel::ipv4_text(n.ipv4),
                           linux_kernel::hardware_type_name(n.device_type), hardware_text(n), n.device_name,
                           linux_kernel::neighbour_state_text(n.state));
  for (const std::string& e : errors) ctx.out << "net: " << e << '\n';
  return {};
}

// --- sockets --------------------------------------------------------------------

std::string ipv6_text(const std::array<uint8_t, 16>& a) {
  std::string text;
  for (size_t i = 0; i < 16; i += 2) text += fmt::format("{}{:x}", i ? ":" : "", (a[i] << 8) | a[i + 1]);
  return text;
}

// crash's FAMILY:TYPE column and the address-port pairs after it.
std::string socket_text(const linux_kernel::TaskSocket& s) {
  if (s.error) return "?";
  constexpr uint16_t kDgram = 2, kInet = 2, kInet6 = 10;
  std::string text = linux_kernel::socket_family_name(s.family) + ":" + linux_kernel::socket_type_name(s.type) +
                     (s.type == kDgram ? "  " : " ");
  if (s.family == kInet)
    text += fmt::format(" {}-{} {}-{}", linux_kernel::ipv4_text(s.source_ipv4), s.source_port,
                        linux_kernel::ipv4_text(s.destination_ipv4), s.destination_port);
  else if (s.family == kInet6 && s.source_ipv6 && s.destination_ipv6)
    text += fmt::format(" {}-{} {}-{}", ipv6_text(*s.source_ipv6), s.source_port, ipv6_text(*s.destination_ipv6),
                        s.destination_port);
  return text;
}

nlohmann::json socket_json(const linux_kernel::TaskSocket& s) {
  nlohmann::json j = {{"fd", s.fd}, {"socket", hex(s.socket)}, {"sock", hex(s.sock)}};
  if (s.error) {
    j["error"] = s.error->message();
    return j;
  }
  j["family"] = linux_kernel::socket_family_name(s.family);
  j["type"] = linux_kernel::socket_type_name(s.type);
  if (s.family == 2) {
    j["source"] = fmt::format("{}-{}", linux_kernel::ipv4_text(s.source_ipv4), s.source_port);
    j["destination"] = fmt::format("{}-{}", linux_kernel::ipv4_text(s.destination_ipv4), s.destination_port);
  } else if (s.family == 10 && s.source_ipv6 && s.destination_ipv6) {
    j["source"] = fmt::format("{}-{}", ipv6_text(*s.source_ipv6), s.source_port);
    j["destination"] = fmt::format("{}-{}", ipv6_text(*s.destination_ipv6), s.destination_port);
  }
  return j;
}

Expected<void> show_sockets(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks, bool single) {
  return show_each_task(ctx, tasks.size(), single, [&](size_t i) -> Expected<nlohmann::json> {
    const linux_kernel::Task& task = tasks[i];
    auto sockets = linux_kernel::task_sockets(ctx.program, task.address);
    if (!sockets) return sockets.error().context(fmt::format("PID {}", task.pid));
    std::vector<std::string> errors;
    for (const auto& s : sockets->sockets)
      if (s.error) errors.push_back(fmt::format("fd {}: {}", s.fd, s.error->message()));
    for (const Error& e : sockets->skipped) errors.push_back("skipped " + e.message());
    if (ctx.json()) {
      nlohmann::json result = task_header_json(task);
      nlohmann::json list = nlohmann::json::array();
      for (const auto& s : sockets->sockets) list.push_back(socket_json(s));
      result["sockets"] = list;
      if (!errors.empty()) result["errors"] = errors;
      return result;
    }
    if (i > 0) ctx.out << '\n';
    ctx.out << task_header(task) << '\n';
    if (sockets->sockets.empty()) {
      ctx.out << "No open sockets.\n";
    } else {
      ctx.out << "FD      SOCKET            SOCK       FAMILY:TYPE SOURCE-PORT DESTINATION-PORT\n";
      for (const auto& s : sockets->sockets)
        ctx.out << fmt::format("{:2} {:>16x} {:>16x} {}\n", s.fd, s.socket, s.sock, socket_text(s));
    }
    for (const std::string& e : errors) ctx.out << "net: " << e << '\n';
    return nlohmann::json();
  });
}

Expected<void> show_number(CommandContext& ctx, std::string_view text) {
  CORONER_TRY(value, parse_number(text));
  if (value > 0xffffffff) return make_error(Errc::invalid_argument, "-N {}: not a 32-bit IPv4 address", text);
  std::string address = linux_kernel::ipv4_text(static_cast<uint32_t>(value));
  if (ctx.json()) ctx.emit({{"number", value}, {"ip_address", address}});
  else ctx.out << address << '\n';
  return {};
}

Expected<void> run_net(CommandContext& ctx, const Arguments& args) {
  bool arp = false, sockets = false, namespace_of_task = false;
  std::vector<std::string> words;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "-a") arp = true;
    else if (word == "-s") sockets = true;
    else if (word == "-n") namespace_of_task = true;
    else if (word == "-N") {
      if (i + 1 >= args.size()) return make_error(Errc::invalid_argument, "-N needs a number (usage: {})", kUsage);
      return show_number(ctx, args[i + 1]);
    } else if (word.starts_with("-")) {
      return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", word, kUsage);
    } else {
      words.push_back(word);
    }
  }
  if (sockets + arp + namespace_of_task > 1)
    return make_error(Errc::invalid_argument, "-a, -n and -s go alone (usage: {})", kUsage);
  if (arp) {
    if (!words.empty()) return make_error(Errc::invalid_argument, "-a takes no argument (usage: {})", kUsage);
    return show_arp(ctx);
  }
  if (sockets) {
    CORONER_TRY(tasks, named_tasks(ctx, words));
    return show_sockets(ctx, tasks, words.size() <= 1);
  }
  if (!namespace_of_task) {
    // crash: the initial namespace (of PID 0).
    if (!words.empty()) return make_error(Errc::invalid_argument, "a task goes with -n or -s (usage: {})", kUsage);
    CORONER_TRY(init_net, ctx.program.symbol_address("init_net"));
    return show_devices(ctx, init_net, nullptr);
  }
  if (words.size() > 1) return make_error(Errc::invalid_argument, "-n takes one task (usage: {})", kUsage);
  CORONER_TRY(tasks, named_tasks(ctx, words));
  CORONER_TRY(net, linux_kernel::task_net_namespace(ctx.program, tasks.front().address));
  return show_devices(ctx, net, &tasks.front());
}

}  // namespace

Command net_command() {
  return {"net", "network devices with their IPv4 addresses, the ARP cache, a task's sockets",
          "  net [-a] [-n [PID | TASK]] [-s [PID | TASK ...]] [-N NUMBER]\n"
          "    (none)     the network devices of the initial namespace (init_net): NET_DEVICE NAME IP ADDRESS(ES)\n"
          "    -n [TASK]  the same for the network namespace of that task (default: the current one)\n"
          "    -a         the ARP cache (arp_tbl): NEIGHBOUR IP ADDRESS HW TYPE HW ADDRESS DEVICE STATE\n"
          "    -s [TASK]  the sockets open in a task's file table (default: the current task):\n"
          "               FD SOCKET SOCK FAMILY:TYPE SOURCE-PORT DESTINATION-PORT\n"
          "    -N NUMBER  the IPv4 address a 32-bit number holds as the kernel stores it (network order)\n"
          "  crash> net\n"
          "  crash> net -s 1",
          run_net};
}

}  // namespace coroner::commands
