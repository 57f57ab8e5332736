#include "analyzer/os/linux/net_devices.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/cached_layout.hpp"
#include "analyzer/os/linux/list_walk.hpp"
#include "analyzer/os/linux/open_files.hpp"

#include <unordered_set>

namespace coroner::linux_kernel {

namespace {

// Far more than any system has; a longer list or chain is corrupt.
constexpr size_t kMaxNamespaces = 1 << 16;
constexpr size_t kMaxDevices = 1 << 20;
constexpr size_t kMaxAddresses = 1 << 12;   // per device
constexpr size_t kMaxNeighbours = 1 << 22;  // in the whole table
constexpr unsigned kMaxHashShift = 24;
constexpr size_t kMaxHardwareAddress = 32;  // MAX_ADDR_LEN

struct NetLayout {
  uint64_t net_list = 0, net_dev_base_head = 0;
  uint64_t dev_list = 0, dev_name = 0, dev_name_size = 0, dev_ip_ptr = 0, dev_type = 0, dev_addr_len = 0;
  uint64_t in_device_ifa_list = 0, ifa_next = 0, ifa_address = 0;
  uint64_t task_nsproxy = 0, nsproxy_net_ns = 0;
};

Expected<NetLayout> read_net_layout(const Program& program) {
  NetLayout l;
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(net_list, program.member_offset("struct net", "list"));
  CORONER_TRY(dev_base_head, program.member_offset("struct net", "dev_base_head"));
  CORONER_TRY(dev_list, program.member_offset("struct net_device", "dev_list"));
  CORONER_TRY(name, debug->find_member("struct net_device", "name"));
  CORONER_TRY(name_size, name.type.type->size());
  CORONER_TRY(ip_ptr, program.member_offset("struct net_device", "ip_ptr"));
  CORONER_TRY(type, program.member_offset("struct net_device", "type"));
  CORONER_TRY(addr_len, program.member_offset("struct net_device", "addr_len"));
  CORONER_TRY(ifa_list, program.member_offset("struct in_device", "ifa_list"));
  CORONER_TRY(ifa_next, program.member_offset("struct in_ifaddr", "ifa_next"));
  CORONER_TRY(ifa_address, program.member_offset("struct in_ifaddr", "ifa_address"));
  CORONER_TRY(nsproxy, program.member_offset("struct task_struct", "nsproxy"));
  CORONER_TRY(net_ns, program.member_offset("struct nsproxy", "net_ns"));
  l.net_list = net_list, l.net_dev_base_head = dev_base_head;
  l.dev_list = dev_list, l.dev_name = name.bit_offset / 8, l.dev_name_size = name_size, l.dev_ip_ptr = ip_ptr;
  l.dev_type = type, l.dev_addr_len = addr_len;
  l.in_device_ifa_list = ifa_list, l.ifa_next = ifa_next, l.ifa_address = ifa_address;
  l.task_nsproxy = nsproxy, l.nsproxy_net_ns = net_ns;
  return l;
}

Expected<NetLayout> net_layout(const Program& program) { return cached_layout(program, read_net_layout); }

// The in_ifaddr chain of the in_device at `in_device`.
Expected<void> read_ipv4_addresses(const KernelMemory& memory, const NetLayout& l, uint64_t in_device,
                                   std::vector<uint32_t>& out) {
  CORONER_TRY(ifa, memory.read_u64(in_device + l.in_device_ifa_list));
  std::unordered_set<uint64_t> seen;
  for (uint64_t at = ifa; at != 0;) {
    if (!seen.insert(at).second || seen.size() > kMaxAddresses)
      return make_error(Errc::corrupt, "in_device {:#x}: ifa_list loops or exceeds {} entries at {:#x}", in_device,
                        kMaxAddresses, at);
    CORONER_TRY(address, memory.read_u32(at + l.ifa_address));
    out.push_back(address);
    CORONER_TRY(next, memory.read_u64(at + l.ifa_next));
    at = next;
  }
  return {};
}

Expected<NetDevice> read_net_device(const KernelMemory& memory, const NetLayout& l, uint64_t address) {
  NetDevice device;
  device.address = address;
  CORONER_TRY(name, memory.read_string(address + l.dev_name, l.dev_name_size));
  CORONER_TRY(type, memory.read_value<uint16_t>(address + l.dev_type));
  CORONER_TRY(addr_len, memory.read_value<uint8_t>(address + l.dev_addr_len));
  device.name = std::move(name), device.type = type, device.addr_len = addr_len;
  auto in_device = memory.read_u64(address + l.dev_ip_ptr);
  if (!in_device) device.error = in_device.error();
  else if (*in_device)
    if (auto read = read_ipv4_addresses(memory, l, *in_device, device.ipv4); !read) device.error = read.error();
  return device;
}

}  // namespace

std::string ipv4_text(uint32_t stored) {
  return fmt::format("{}.{}.{}.{}", stored & 0xff, (stored >> 8) & 0xff, (stored >> 16) & 0xff, stored >> 24);
}

Expected<std::vector<uint64_t>> net_namespaces(const Program& program) {
  CORONER_TRY(l, net_layout(program));
  CORONER_TRY(head, program.symbol_address("net_namespace_list"));
  std::vector<uint64_t> result;
  ListBudget budget{kMaxNamespaces};
  CORONER_CHECK(walk_list(program.memory(), "net_namespace_list", head, l.net_list, budget, [&](uint64_t net) {
    result.push_back(net);
    return Expected<void>();
  }));
  return result;
}

Expected<uint64_t> task_net_namespace(const Program& program, uint64_t task) {
  CORONER_TRY(l, net_layout(program));
  CORONER_TRY(nsproxy, program.memory().read_u64(task + l.task_nsproxy));
  if (nsproxy == 0) return program.symbol_address("init_net");
  return program.memory().read_u64(nsproxy + l.nsproxy_net_ns);
}

Expected<NetDevices> net_devices(const Program& program, uint64_t net) {
  CORONER_TRY(l, net_layout(program));
  const KernelMemory& memory = program.memory();
  NetDevices result;
  result.net = net;
  ListBudget budget{kMaxDevices};
  auto walked = walk_list(memory, "dev_base_head", net + l.net_dev_base_head, l.dev_list, budget, [&](uint64_t dev) {
    auto device = read_net_device(memory, l, dev);
    if (device) result.devices.push_back(std::move(*device));
    else result.skipped.push_back(device.error().context(fmt::format("net_device {:#x}", dev)));
    return Expected<void>();
  });
  if (!walked) result.skipped.push_back(walked.error());
  return result;
}

// --- the ARP cache ----------------------------------------------------------

namespace {

struct NeighbourLayout {
  uint64_t table_nht = 0;
  // neigh_hash_table: an array of neighbour pointers chained by
  // neighbour.next, or (6.13+) of hlist_heads chained by neighbour.hash.
  uint64_t hash_buckets = 0, hash_shift = 0;
  bool hlist = false;
  uint64_t next = 0;  // neighbour.next, or neighbour.hash (an hlist_node: next first)
  uint64_t primary_key = 0, ha = 0, dev = 0, nud_state = 0;
};

Expected<NeighbourLayout> read_neighbour_layout(const Program& program) {
  NeighbourLayout l;
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(nht, program.member_offset("struct neigh_table", "nht"));
  CORONER_TRY(hlist, debug->has_member("struct neigh_hash_table", "hash_heads"));
  l.hlist = hlist;
  CORONER_TRY(buckets, program.member_offset("struct neigh_hash_table", hlist ? "hash_heads" : "hash_buckets"));
  CORONER_TRY(shift, program.member_offset("struct neigh_hash_table", "hash_shift"));
  CORONER_TRY(next, program.member_offset("struct neighbour", hlist ? "hash" : "next"));
  CORONER_TRY(key, program.member_offset("struct neighbour", "primary_key"));
  CORONER_TRY(ha, program.member_offset("struct neighbour", "ha"));
  CORONER_TRY(dev, program.member_offset("struct neighbour", "dev"));
  CORONER_TRY(state, program.member_offset("struct neighbour", "nud_state"));
  l.table_nht = nht, l.hash_buckets = buckets, l.hash_shift = shift, l.next = next;
  l.primary_key = key, l.ha = ha, l.dev = dev, l.nud_state = state;
  return l;
}

Expected<Neighbour> read_neighbour(const Program& program, const NeighbourLayout& l, uint64_t address) {
  const KernelMemory& memory = program.memory();
  Neighbour n;
  n.address = address;
  CORONER_TRY(key, memory.read_u32(address + l.primary_key));
  CORONER_TRY(dev, memory.read_u64(address + l.dev));
  CORONER_TRY(state, memory.read_value<uint8_t>(address + l.nud_state));
  n.ipv4 = key, n.device = dev, n.state = state;
  size_t hardware_length = kMaxHardwareAddress;
  if (dev) {
    CORONER_TRY(nl, net_layout(program));
    CORONER_TRY(device, read_net_device(memory, nl, dev));
    n.device_name = device.name, n.device_type = device.type;
    hardware_length = std::min<size_t>(device.addr_len, kMaxHardwareAddress);
  }
  n.hardware.resize(hardware_length);
  CORONER_CHECK(memory.read(address + l.ha, std::as_writable_bytes(std::span(n.hardware))));
  return n;
}

}  // namespace

Expected<ArpCache> arp_cache(const Program& program) {
  CORONER_TRY(l, cached_layout(program, read_neighbour_layout));
  const KernelMemory& memory = program.memory();
  CORONER_TRY(table, program.symbol_address("arp_tbl"));
  CORONER_TRY(nht, memory.read_u64(table + l.table_nht));
  ArpCache result;
  if (nht == 0) return result;
  CORONER_TRY(shift, memory.read_u32(nht + l.hash_shift));
  if (shift > kMaxHashShift)
    return make_error(Errc::corrupt, "arp_tbl: neigh_hash_table {:#x} has hash_shift {}", nht, shift);
  CORONER_TRY(buckets, memory.read_u64(nht + l.hash_buckets));
  std::unordered_set<uint64_t> seen;
  for (uint64_t bucket = 0; bucket < (uint64_t{1} << shift); ++bucket) {
    auto first = memory.read_u64(buckets + bucket * 8);
    if (!first) {
      result.skipped.push_back(first.error().context(fmt::format("arp_tbl hash bucket {}", bucket)));
      continue;
    }
    // A chain link points at the next neighbour (at its hlist_node with hlist).
    for (uint64_t link = *first; link != 0;) {
      uint64_t neighbour = l.hlist ? link - l.next : link;
      if (!seen.insert(neighbour).second || seen.size() > kMaxNeighbours) {
        result.skipped.push_back(make_error(Errc::corrupt, "arp_tbl hash bucket {}: neighbour {:#x} loops or the "
                                            "table exceeds {} entries", bucket, neighbour, kMaxNeighbours));
        break;
      }
      auto entry = read_neighbour(program, l, neighbour);
      if (entry) result.entries.push_back(std::move(*entry));
      else result.skipped.push_back(entry.error().context(fmt::format("neighbour {:#x}", neighbour)));
      auto next = memory.read_u64(neighbour + l.next);
      if (!next) {
        result.skipped.push_back(next.error().context(fmt::format("arp_tbl hash bucket {}: chain after {:#x}",
                                                                  bucket, neighbour)));
        break;
      }
      link = *next;
    }
  }
  return result;
}

std::string neighbour_state_text(uint8_t state) {
  static constexpr std::pair<uint8_t, const char*> kStates[] = {
      {0x01, "INCOMPLETE"}, {0x02, "REACHABLE"}, {0x04, "STALE"},  {0x08, "DELAY"},
      {0x10, "PROBE"},      {0x20, "FAILED"},    {0x40, "NOARP"}, {0x80, "PERMANENT"}};
  std::string text;
  for (auto [bit, name] : kStates)
    if (state & bit) text += (text.empty() ? "" : "|") + std::string(name);
  return text;
}

std::string_view hardware_type_name(uint16_t type) {
  switch (type) {  // ARPHRD_*
    case 1: return "ETHER";
    case 0: return "NETROM";
    case 2: return "EETHER";
    case 3: return "AX25";
    case 4: return "PRONET";
    case 5: return "CHAOS";
    case 6: return "IEEE802";
    case 7: return "ARCNET";
    case 8: return "APPLETLK";
    case 15: return "DLCI";
    case 23: return "METRICOM";
    default: return "UNKNOWN";
  }
}

// --- sockets ------------------------------------------------------------------

namespace {

struct SocketLayout {
  uint64_t socket_alloc_inode = 0, socket_sk = 0;
  uint64_t family = 0;                          // sock.__sk_common.skc_family
  uint64_t type_bit = 0, type_bits = 16;        // sock.sk_type (a bitfield before 5.6)
  uint64_t daddr = 0, rcv_saddr = 0, dport = 0;  // sock_common
  uint64_t inet_sport = 0;                      // inet_sock
  std::optional<uint64_t> v6_daddr, v6_rcv_saddr;  // sock_common, CONFIG_IPV6
};

Expected<SocketLayout> read_socket_layout(const Program& program) {
  SocketLayout l;
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(inode, program.member_offset("struct socket_alloc", "vfs_inode"));
  CORONER_TRY(sk, program.member_offset("struct socket", "sk"));
  CORONER_TRY(family, program.member_offset("struct sock", "__sk_common.skc_family"));
  CORONER_TRY(type, debug->find_member("struct sock", "sk_type"));
  CORONER_TRY(daddr, program.member_offset("struct sock", "__sk_common.skc_daddr"));
  CORONER_TRY(rcv_saddr, program.member_offset("struct sock", "__sk_common.skc_rcv_saddr"));
  CORONER_TRY(dport, program.member_offset("struct sock", "__sk_common.skc_dport"));
  CORONER_TRY(sport, program.member_offset("struct inet_sock", "inet_sport"));
  l.socket_alloc_inode = inode, l.socket_sk = sk, l.family = family;
  l.type_bit = type.bit_offset, l.type_bits = type.bit_size ? type.bit_size : 16;
  l.daddr = daddr, l.rcv_saddr = rcv_saddr, l.dport = dport, l.inet_sport = sport;
  if (auto v6 = program.member_offset("struct sock", "__sk_common.skc_v6_daddr")) l.v6_daddr = *v6;
  if (auto v6 = program.member_offset("struct sock", "__sk_common.skc_v6_rcv_saddr")) l.v6_rcv_saddr = *v6;
  return l;
}

uint16_t from_network_order(uint16_t value) { return static_cast<uint16_t>((value >> 8) | (value << 8)); }

Expected<void> read_sock(const KernelMemory& memory, const SocketLayout& l, TaskSocket& s) {
  CORONER_TRY(family, memory.read_value<uint16_t>(s.sock + l.family));
  CORONER_TRY(type_word, memory.read_u32(s.sock + l.type_bit / 8));
  s.family = family;
  s.type = static_cast<uint16_t>((type_word >> (l.type_bit % 8)) & ((uint64_t{1} << l.type_bits) - 1));
  constexpr uint16_t kInet = 2, kInet6 = 10;
  if (family != kInet && family != kInet6) return {};
  CORONER_TRY(sport, memory.read_value<uint16_t>(s.sock + l.inet_sport));
  CORONER_TRY(dport, memory.read_value<uint16_t>(s.sock + l.dport));
  s.source_port = from_network_order(sport), s.destination_port = from_network_order(dport);
  if (family == kInet) {
    CORONER_TRY(saddr, memory.read_u32(s.sock + l.rcv_saddr));
    CORONER_TRY(daddr, memory.read_u32(s.sock + l.daddr));
    s.source_ipv4 = saddr, s.destination_ipv4 = daddr;
  } else if (l.v6_daddr && l.v6_rcv_saddr) {
    using Ipv6 = std::array<uint8_t, 16>;
    CORONER_TRY(saddr, memory.read_value<Ipv6>(s.sock + *l.v6_rcv_saddr));
    CORONER_TRY(daddr, memory.read_value<Ipv6>(s.sock + *l.v6_daddr));
    s.source_ipv6 = saddr, s.destination_ipv6 = daddr;
  }
  return {};
}

}  // namespace

Expected<TaskSockets> task_sockets(const Program& program, uint64_t task) {
  CORONER_TRY(l, cached_layout(program, read_socket_layout));
  CORONER_TRY(files, open_files(program, task));
  const KernelMemory& memory = program.memory();
  TaskSockets result;
  result.has_file_table = files.has_file_table;
  result.skipped = std::move(files.skipped);
  for (const OpenFile& file : files.files) {
    if (file.type != "SOCK") continue;
    TaskSocket s;
    s.fd = file.fd;
    s.socket = file.inode - l.socket_alloc_inode;
    if (auto sk = memory.read_u64(s.socket + l.socket_sk); !sk) s.error = sk.error();
    else s.sock = *sk;
    if (s.sock)
      if (auto read = read_sock(memory, l, s); !read) s.error = read.error().context(fmt::format("sock {:#x}", s.sock));
    result.sockets.push_back(std::move(s));
  }
  return result;
}

std::string socket_family_name(uint16_t family) {
  switch (family) {  // AF_*
    case 0: return "UNSPEC";
    case 1: return "UNIX";
    case 2: return "INET";
    case 3: return "AX25";
    case 4: return "IPX";
    case 5: return "APPLETALK";
    case 6: return "NETROM";
    case 7: return "BRIDGE";
    case 8: return "ATMPVC";
    case 9: return "X25";
    case 10: return "INET6";
    case 11: return "ROSE";
    case 12: return "DECnet";
    case 13: return "NETBEUI";
    case 14: return "SECURITY/KEY";
    case 16: return "NETLINK/ROUTE";
    case 17: return "PACKET";
    case 18: return "ASH";
    case 19: return "ECONET";
    case 20: return "ATMSVC";
    case 22: return "SNA";
    case 23: return "IRDA";
    case 24: return "PPPOX";
    default: return std::to_string(family);
  }
}

std::string socket_type_name(uint16_t type) {
  switch (type) {  // SOCK_*
    case 1: return "STREAM";
    case 2: return "DGRAM";
    case 3: return "RAW";
    case 4: return "RDM";
    case 5: return "SEQPACKET";
    case 10: return "PACKET";
    default: return std::to_string(type);
  }
}

}  // namespace coroner::linux_kernel
