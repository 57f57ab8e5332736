#include "analyzer/os/linux/devices.hpp"

#include "analyzer/os/linux/cached_layout.hpp"
#include "analyzer/os/linux/list_walk.hpp"

#include <unordered_set>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMajorSlots = 255;        // CHRDEV_MAJOR_HASH_SIZE, KOBJ_MAP probes
constexpr size_t kMaxChainEntries = 1 << 16;
constexpr size_t kMaxPciEntries = 1 << 16;  // buses and devices in all
constexpr unsigned kMaxBusDepth = 256;       // bus numbers are 8 bits
constexpr unsigned kMinorBits = 20;         // MINORBITS of dev_t

struct CharLayout {
  uint64_t next = 0, major = 0, baseminor = 0, name = 0, name_size = 0, cdev = 0, cdev_ops = 0;
  uint64_t probes = 0, probe_next = 0, probe_dev = 0, probe_data = 0;
};

Expected<CharLayout> read_char_layout(const Program& program) {
  CharLayout l;
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(next, program.member_offset("struct char_device_struct", "next"));
  CORONER_TRY(major, program.member_offset("struct char_device_struct", "major"));
  CORONER_TRY(baseminor, program.member_offset("struct char_device_struct", "baseminor"));
  CORONER_TRY(name, debug->find_member("struct char_device_struct", "name"));
  CORONER_TRY(name_size, name.type.type->size());
  CORONER_TRY(cdev, program.member_offset("struct char_device_struct", "cdev"));
  CORONER_TRY(ops, program.member_offset("struct cdev", "ops"));
  CORONER_TRY(probes, program.member_offset("struct kobj_map", "probes"));
  CORONER_TRY(probe_next, program.member_offset("struct probe", "next"));
  CORONER_TRY(probe_dev, program.member_offset("struct probe", "dev"));
  CORONER_TRY(probe_data, program.member_offset("struct probe", "data"));
  l.next = next, l.major = major, l.baseminor = baseminor, l.name = name.bit_offset / 8, l.name_size = name_size;
  l.cdev = cdev, l.cdev_ops = ops, l.probes = probes, l.probe_next = probe_next, l.probe_dev = probe_dev;
  l.probe_data = probe_data;
  return l;
}

// The cdev that cdev_add() mapped for major:minor (registrations through
// register_chrdev_region keep none of their own).
Expected<uint64_t> mapped_cdev(const Program& program, const CharLayout& l, uint32_t major, uint32_t minor) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(map_pointer, program.symbol_address("cdev_map"));
  CORONER_TRY(map, memory.read_u64(map_pointer));
  if (map == 0) return uint64_t{0};
  CORONER_TRY(first, memory.read_u64(map + l.probes + (major % kMajorSlots) * 8));
  std::unordered_set<uint64_t> seen;
  for (uint64_t probe = first; probe != 0 && seen.insert(probe).second && seen.size() <= kMaxChainEntries;) {
    CORONER_TRY(dev, memory.read_u32(probe + l.probe_dev));
    if (dev >> kMinorBits == major && (dev & ((1u << kMinorBits) - 1)) == minor)
      return memory.read_u64(probe + l.probe_data);
    CORONER_TRY(next, memory.read_u64(probe + l.probe_next));
    probe = next;
  }
  return uint64_t{0};
}

Expected<CharDevice> read_char_device(const Program& program, const CharLayout& l, uint64_t entry) {
  const KernelMemory& memory = program.memory();
  CharDevice d;
  CORONER_TRY(major, memory.read_u32(entry + l.major));
  CORONER_TRY(baseminor, memory.read_u32(entry + l.baseminor));
  CORONER_TRY(name, memory.read_string(entry + l.name, l.name_size));
  CORONER_TRY(cdev, memory.read_u64(entry + l.cdev));
  d.major = major, d.baseminor = baseminor, d.name = std::move(name), d.cdev = cdev;
  if (d.cdev) {
    CORONER_TRY(ops, memory.read_u64(d.cdev + l.cdev_ops));
    d.operations = ops;
  }
  if (d.operations == 0) {
    CORONER_TRY(mapped, mapped_cdev(program, l, major, baseminor));
    if (mapped) {
      CORONER_TRY(ops, memory.read_u64(mapped + l.cdev_ops));
      d.cdev = mapped, d.operations = ops;
    }
  }
  return d;
}

}  // namespace

Expected<CharDevices> char_devices(const Program& program) {
  CORONER_TRY(l, cached_layout(program, read_char_layout));
  const KernelMemory& memory = program.memory();
  CORONER_TRY(table, program.symbol_address("chrdevs"));
  CharDevices result;
  std::unordered_set<uint64_t> seen;
  for (size_t slot = 0; slot < kMajorSlots; ++slot) {
    auto first = memory.read_u64(table + slot * 8);
    if (!first) {
      result.skipped.push_back(first.error().context(fmt::format("chrdevs[{}]", slot)));
      continue;
    }
    for (uint64_t entry = *first; entry != 0;) {
      if (!seen.insert(entry).second || seen.size() > kMaxChainEntries) {
        result.skipped.push_back(make_error(Errc::corrupt, "chrdevs[{}]: char_device_struct {:#x} loops", slot, entry));
        break;
      }
      auto device = read_char_device(program, l, entry);
      if (device) result.devices.push_back(std::move(*device));
      else result.skipped.push_back(device.error().context(fmt::format("char_device_struct {:#x}", entry)));
      auto next = memory.read_u64(entry + l.next);
      if (!next) {
        result.skipped.push_back(next.error().context(fmt::format("chrdevs[{}] after {:#x}", slot, entry)));
        break;
      }
      entry = *next;
    }
  }
  return result;
}

// --- PCI ------------------------------------------------------------------------

namespace {

struct PciLayout {
  uint64_t bus_node = 0, bus_children = 0, bus_devices = 0, bus_self = 0, bus_parent = 0, bus_name = 0;
  uint64_t dev_bus_list = 0, dev_name = 0, dev_class = 0, dev_vendor = 0, dev_device = 0, dev_hdr_type = 0;
  std::optional<uint64_t> dev_pcie_flags;
};

Expected<PciLayout> read_pci_layout(const Program& program) {
  PciLayout l;
  CORONER_TRY(node, program.member_offset("struct pci_bus", "node"));
  CORONER_TRY(children, program.member_offset("struct pci_bus", "children"));
  CORONER_TRY(devices, program.member_offset("struct pci_bus", "devices"));
  CORONER_TRY(self, program.member_offset("struct pci_bus", "self"));
  CORONER_TRY(parent, program.member_offset("struct pci_bus", "parent"));
  CORONER_TRY(bus_name, program.member_offset("struct pci_bus", "dev.kobj.name"));
  CORONER_TRY(bus_list, program.member_offset("struct pci_dev", "bus_list"));
  CORONER_TRY(dev_name, program.member_offset("struct pci_dev", "dev.kobj.name"));
  CORONER_TRY(klass, program.member_offset("struct pci_dev", "class"));
  CORONER_TRY(vendor, program.member_offset("struct pci_dev", "vendor"));
  CORONER_TRY(device, program.member_offset("struct pci_dev", "device"));
  CORONER_TRY(hdr_type, program.member_offset("struct pci_dev", "hdr_type"));
  l.bus_node = node, l.bus_children = children, l.bus_devices = devices, l.bus_self = self, l.bus_parent = parent;
  l.bus_name = bus_name, l.dev_bus_list = bus_list, l.dev_name = dev_name, l.dev_class = klass, l.dev_vendor = vendor;
  l.dev_device = device, l.dev_hdr_type = hdr_type;
  if (auto flags = program.member_offset("struct pci_dev", "pcie_flags_reg")) l.dev_pcie_flags = *flags;
  return l;
}

Expected<std::string> kobject_name(const KernelMemory& memory, uint64_t name_pointer_at) {
  CORONER_TRY(name, memory.read_u64(name_pointer_at));
  if (name == 0) return std::string();
  return memory.read_string(name, 64);
}

Expected<PciDevice> read_pci_device(const KernelMemory& memory, const PciLayout& l, uint64_t dev) {
  PciDevice d;
  d.address = dev;
  CORONER_TRY(name, kobject_name(memory, dev + l.dev_name));
  CORONER_TRY(klass, memory.read_u32(dev + l.dev_class));
  CORONER_TRY(vendor, memory.read_value<uint16_t>(dev + l.dev_vendor));
  CORONER_TRY(device, memory.read_value<uint16_t>(dev + l.dev_device));
  CORONER_TRY(hdr_type, memory.read_value<uint8_t>(dev + l.dev_hdr_type));
  d.name = std::move(name), d.class_code = klass, d.vendor = vendor, d.device = device, d.header_type = hdr_type;
  if (l.dev_pcie_flags) {
    CORONER_TRY(flags, memory.read_value<uint16_t>(dev + *l.dev_pcie_flags));
    d.pcie_flags = flags;
  }
  return d;
}

void read_bus(const KernelMemory& memory, const PciLayout& l, uint64_t address, unsigned depth, ListBudget& budget,
              PciBus& bus, std::vector<Error>& skipped) {
  bus.address = address;
  auto fail = [&](const Error& e) { skipped.push_back(e.context(fmt::format("pci_bus {:#x}", address))); };
  if (auto name = kobject_name(memory, address + l.bus_name)) bus.name = *name;
  else fail(name.error());
  if (auto parent = memory.read_u64(address + l.bus_parent)) bus.parent = *parent;
  else fail(parent.error());
  if (auto self = memory.read_u64(address + l.bus_self); !self) fail(self.error());
  else if (*self) {
    if (auto device = read_pci_device(memory, l, *self)) bus.self.push_back(std::move(*device));
    else fail(device.error());
  }
  auto devices = walk_list(memory, "pci_bus.devices", address + l.bus_devices, l.dev_bus_list, budget,
                           [&](uint64_t dev) {
                             if (auto device = read_pci_device(memory, l, dev)) bus.devices.push_back(std::move(*device));
                             else skipped.push_back(device.error().context(fmt::format("pci_dev {:#x}", dev)));
                             return Expected<void>();
                           });
  if (!devices) fail(devices.error());
  if (depth >= kMaxBusDepth) {
    fail(make_error(Errc::corrupt, "buses nest deeper than {}", kMaxBusDepth));
    return;
  }
  auto children = walk_list(memory, "pci_bus.children", address + l.bus_children, l.bus_node, budget,
                            [&](uint64_t child) {
                              bus.children.emplace_back();
                              read_bus(memory, l, child, depth + 1, budget, bus.children.back(), skipped);
                              return Expected<void>();
                            });
  if (!children) fail(children.error());
}

}  // namespace

Expected<PciTopology> pci_topology(const Program& program) {
  CORONER_TRY(l, cached_layout(program, read_pci_layout));
  CORONER_TRY(head, program.symbol_address("pci_root_buses"));
  PciTopology result;
  ListBudget budget{kMaxPciEntries};
  CORONER_CHECK(walk_list(program.memory(), "pci_root_buses", head, l.bus_node, budget, [&](uint64_t bus) {
    result.roots.emplace_back();
    read_bus(program.memory(), l, bus, 0, budget, result.roots.back(), result.skipped);
    return Expected<void>();
  }));
  return result;
}

}  // namespace coroner::linux_kernel
