// The kernel's networking state as crash's `net` shows it: the network
// namespaces (net_namespace_list), each namespace's devices (net->
// dev_base_head of net_device.dev_list) with their IPv4 addresses
// (in_device->ifa_list), the ARP cache (arp_tbl's neighbour hash), and the
// sockets a task holds open. Offsets come from DWARF; every list and chain
// is bounded and cycle-checked, and an unreadable entry costs only itself
// (reported in `skipped`).
#pragma once

#include "analyzer/program.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

// An IPv4 address as stored by the kernel (network byte order in memory,
// read as a little-endian u32), written "127.0.0.1".
std::string ipv4_text(uint32_t stored);

struct NetDevice {
  uint64_t address = 0;        // struct net_device
  std::string name;
  uint16_t type = 0;           // ARPHRD_*
  uint8_t addr_len = 0;        // hardware address length
  std::vector<uint32_t> ipv4;  // ifa_address of each in_ifaddr, in list order
  std::optional<Error> error;  // the addresses could not all be read
};

struct NetDevices {
  uint64_t net = 0;  // struct net
  std::vector<NetDevice> devices;
  std::vector<Error> skipped;
};

// The struct net of every network namespace, init_net first.
Expected<std::vector<uint64_t>> net_namespaces(const Program& program);
// The network namespace of a task (task->nsproxy->net_ns); init_net's
// address when the task has no nsproxy (an exiting task).
Expected<uint64_t> task_net_namespace(const Program& program, uint64_t task);
// The devices of one namespace, in dev_base_head order.
Expected<NetDevices> net_devices(const Program& program, uint64_t net);

// One neighbour (ARP) entry of arp_tbl.
struct Neighbour {
  uint64_t address = 0;  // struct neighbour
  uint32_t ipv4 = 0;     // primary_key
  std::vector<uint8_t> hardware;  // ha, addr_len bytes of its device
  uint64_t device = 0;
  std::string device_name;
  uint16_t device_type = 0;
  uint8_t state = 0;     // nud_state (NUD_*)
};

struct ArpCache {
  std::vector<Neighbour> entries;  // by hash bucket, then chain order
  std::vector<Error> skipped;
};
Expected<ArpCache> arp_cache(const Program& program);

// crash's names of NUD_* states: "INCOMPLETE|STALE", "" for 0 (NUD_NONE).
std::string neighbour_state_text(uint8_t state);
// crash's HW TYPE names of ARPHRD_* types ("ETHER"; "UNKNOWN" otherwise).
std::string_view hardware_type_name(uint16_t type);

// A socket open in a task's file table.
struct TaskSocket {
  int64_t fd = 0;
  uint64_t socket = 0, sock = 0;  // struct socket, struct sock (0 if none)
  uint16_t family = 0, type = 0;  // AF_*, SOCK_*
  // AF_INET: addresses as stored (network order), ports in host order.
  uint32_t source_ipv4 = 0, destination_ipv4 = 0;
  uint16_t source_port = 0, destination_port = 0;
  // AF_INET6: the sock_common addresses (when this kernel has them).
  std::optional<std::array<uint8_t, 16>> source_ipv6, destination_ipv6;
  std::optional<Error> error;  // the sock could not be read
};

struct TaskSockets {
  bool has_file_table = false;
  std::vector<TaskSocket> sockets;  // by descriptor
  std::vector<Error> skipped;       // descriptors that could not be read
};
Expected<TaskSockets> task_sockets(const Program& program, uint64_t task);

// crash's FAMILY:TYPE words: "INET", "UNIX", ... (the number otherwise) and
// "STREAM", "DGRAM", ...
std::string socket_family_name(uint16_t family);
std::string socket_type_name(uint16_t type);

}  // namespace coroner::linux_kernel
