// Devices as crash's `dev` shows them: the character device majors
// registered in chrdevs[] (char_device_struct chains) with their cdev and
// file_operations (the cdev_map probe of the major/minor when the
// registration holds no cdev), and the PCI hierarchy from pci_root_buses
// (buses, their bridges and devices). Offsets from DWARF; walks bounded and
// cycle-checked, an unreadable entry costs only itself (in `skipped`).
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct CharDevice {
  uint32_t major = 0, baseminor = 0;
  std::string name;
  uint64_t cdev = 0;        // 0: none found
  uint64_t operations = 0;  // cdev->ops
};

struct CharDevices {
  std::vector<CharDevice> devices;  // by chrdevs[] slot, then chain order
  std::vector<Error> skipped;
};
Expected<CharDevices> char_devices(const Program& program);

struct PciDevice {
  uint64_t address = 0;  // struct pci_dev
  std::string name;      // "0000:00:02.0"
  uint32_t class_code = 0;  // pci_dev.class: class, subclass, prog-if
  uint16_t vendor = 0, device = 0;
  uint16_t pcie_flags = 0;  // PCIe capability flags (type in bits 4-7)
  uint8_t header_type = 0;  // 1, 2: a bridge
};

struct PciBus {
  uint64_t address = 0;  // struct pci_bus
  std::string name;      // "0000:00"
  uint64_t parent = 0;
  std::vector<PciDevice> self;  // the bridge that leads to it (none for a root bus)
  std::vector<PciDevice> devices;
  std::vector<PciBus> children;
};

struct PciTopology {
  std::vector<PciBus> roots;
  std::vector<Error> skipped;
};
Expected<PciTopology> pci_topology(const Program& program);

}  // namespace coroner::linux_kernel
