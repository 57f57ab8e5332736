// dev: crash's device data. Without options the character device majors
// (CHRDEV NAME CDEV OPERATIONS, from chrdevs[]) and the block device majors
// (BLKDEV NAME GENDISK OPERATIONS); -d the disks with their requests in
// flight (MAJOR GENDISK NAME REQUEST_QUEUE TOTAL READ WRITE); -p the PCI
// buses and devices (ROOT BUS BUSNAME, then PCI DEV DO:BU:SL.FN CLASS
// PCI_ID TYPE).
#include "analyzer/os/linux/block_devices.hpp"
#include "analyzer/os/linux/devices.hpp"
#include "commands/builtin.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "dev [-d | -p]";

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

// crash names the file_operations by symbol, else by address.
std::string operations_text(const Program& program, uint64_t operations) {
  if (auto symbol = program.describe_address(operations)) return symbol->text();
  return fmt::format("{:x}", operations);
}

void print_skipped(std::ostream& out, const std::vector<Error>& skipped) {
  for (const Error& e : skipped) out << "dev: skipped " << e.message() << '\n';
}

nlohmann::json errors_json(const std::vector<Error>& skipped) {
  nlohmann::json errors = nlohmann::json::array();
  for (const Error& e : skipped) errors.push_back("skipped " + e.message());
  return errors;
}

std::string centered(std::string_view text, size_t width, bool rjust) {
  if (text.size() >= width) return std::string(text);
  const size_t left = (width - text.size() + (rjust ? 1 : 0)) / 2;
  return std::string(left, ' ') + std::string(text) + std::string(width - text.size() - left, ' ');
}

Expected<void> show_devices(CommandContext& ctx) {
  CORONER_TRY(chars, linux_kernel::char_devices(ctx.program));
  CORONER_TRY(blocks, linux_kernel::block_devices(ctx.program));
  auto optional_hex = [](uint64_t value) { return value ? nlohmann::json(hex(value)) : nlohmann::json(nullptr); };
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array(), block_list = nlohmann::json::array();
    for (const auto& d : chars.devices)
      list.push_back({{"major", d.major},
                      {"name", d.name},
                      {"cdev", optional_hex(d.cdev)},
                      {"operations", d.operations ? nlohmann::json(operations_text(ctx.program, d.operations))
                                                  : nlohmann::json(nullptr)}});
    for (const auto& b : blocks.majors)
      block_list.push_back({{"major", b.major},
                            {"name", b.name},
                            {"gendisk", optional_hex(b.gendisk)},
                            {"operations", b.operations ? nlohmann::json(operations_text(ctx.program, b.operations))
                                                        : nlohmann::json(nullptr)}});
    nlohmann::json doc = {{"chrdevs", list}, {"blkdevs", block_list}};
    std::vector<Error> skipped = chars.skipped;
    skipped.insert(skipped.end(), blocks.skipped.begin(), blocks.skipped.end());
    if (!skipped.empty()) doc["errors"] = errors_json(skipped);
    ctx.emit(doc);
    return {};
  }
  ctx.out << fmt::format("CHRDEV    NAME           {:^16}  {:<16}\n", "CDEV", "OPERATIONS");
  for (const auto& d : chars.devices) {
    if (d.operations == 0) ctx.out << fmt::format(" {:3}      {:<13}  {:^16}\n", d.major, d.name, "(none)");
    else
      ctx.out << fmt::format(" {:3}      {:<13}  {:>16x}  {}\n", d.major, d.name, d.cdev,
                             operations_text(ctx.program, d.operations));
  }
  print_skipped(ctx.out, chars.skipped);
  ctx.out << "\nBLKDEV    NAME           " << centered("GENDISK", 16, true) << "  " << fmt::format("{:<16}\n", "OPERATIONS");
  for (const auto& b : blocks.majors) {
    const std::string name = b.name.empty() ? "(unknown)" : b.name;
    if (b.operations == 0) ctx.out << fmt::format(" {:3}      {:<13}  {}\n", b.major, name, centered("(none)", 16, false));
    else
      ctx.out << fmt::format(" {:3}      {:<13}  {:16x}  {}\n", b.major, name, b.gendisk,
                             operations_text(ctx.program, b.operations));
  }
  print_skipped(ctx.out, blocks.skipped);
  return {};
}

// crash leaves out RAM disks and loop devices.
bool listed_disk(const linux_kernel::Disk& disk) {
  return !disk.name.starts_with("ram") && !disk.name.starts_with("loop");
}

Expected<void> show_disk_io(CommandContext& ctx) {
  CORONER_TRY(blocks, linux_kernel::block_devices(ctx.program));
  auto count = [](const std::optional<uint64_t>& value) { return value ? fmt::format("{}", *value) : "?"; };
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : blocks.disks) {
      if (!listed_disk(d)) continue;
      auto number = [](const std::optional<uint64_t>& value) { return value ? nlohmann::json(*value) : nlohmann::json(nullptr); };
      list.push_back({{"major", d.major}, {"gendisk", hex(d.gendisk)}, {"name", d.name},
                      {"request_queue", hex(d.queue)},
                      {"total", d.reads && d.writes ? nlohmann::json(*d.reads + *d.writes) : nlohmann::json(nullptr)},
                      {"read", number(d.reads)}, {"write", number(d.writes)}});
    }
    nlohmann::json doc = {{"disks", list}};
    if (!blocks.skipped.empty()) doc["errors"] = errors_json(blocks.skipped);
    ctx.emit(doc);
    return {};
  }
  ctx.out << "MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL  READ WRITE \n";
  for (const auto& d : blocks.disks) {
    if (!listed_disk(d)) continue;
    const std::string total = d.reads && d.writes ? fmt::format("{}", *d.reads + *d.writes) : "?";
    ctx.out << fmt::format("{:>5} {:<16x}   {:<10} {:<16x}   {:>5} {:>5} {:>5} \n", d.major, d.gendisk, d.name, d.queue,
                           total, count(d.reads), count(d.writes));
  }
  print_skipped(ctx.out, blocks.skipped);
  return {};
}

// --- PCI ------------------------------------------------------------------------

// crash's TYPE: the PCIe port type, " [BRIDGE]" after a bridge header.
std::string pci_type(const linux_kernel::PciDevice& d) {
  static constexpr const char* kTypes[] = {"ENDPOINT", "LEG_END", "", "", "ROOT_PORT", "UPSTREAM",
                                           "DOWNSTREAM", "PCI_BRIDGE", "PCIE_BRIDGE", "RC_END", "RC_EC"};
  unsigned type = (d.pcie_flags & 0xf0) >> 4;
  std::string text = type < std::size(kTypes) ? kTypes[type] : "";
  if (d.header_type == 1 || d.header_type == 2) text += " [BRIDGE]";
  return text;
}

std::string pci_class(const linux_kernel::PciDevice& d) { return fmt::format("{:04x}", d.class_code >> 8); }
std::string pci_id(const linux_kernel::PciDevice& d) { return fmt::format("{:04x}:{:04x}", d.vendor, d.device); }

void print_pci_devices(std::ostream& out, const linux_kernel::PciBus& bus) {
  out << fmt::format("  {:^16} {:^12} {:^6} {:^9} {:^10}\n", "PCI DEV", "DO:BU:SL.FN", "CLASS", "PCI_ID", "TYPE");
  auto row = [&](const linux_kernel::PciDevice& d) {
    out << fmt::format("  {:<16x} {:^12} {:^6} {:^9} {:^10}\n", d.address, d.name, pci_class(d), pci_id(d),
                       pci_type(d));
  };
  for (const auto& d : bus.self) row(d);
  for (const auto& d : bus.devices) row(d);
}

void print_child_buses(std::ostream& out, const linux_kernel::PciBus& bus) {
  for (const auto& child : bus.children) {
    out << fmt::format("  {:^16} {:^16}\n", "PCI BUS", "PARENT BUS");
    out << fmt::format("  {:<16x} {:<16x}\n", child.address, child.parent);
    print_pci_devices(out, child);
    out << '\n';
    print_child_buses(out, child);
  }
}

nlohmann::json pci_device_json(const linux_kernel::PciDevice& d) {
  return {{"pci_dev", hex(d.address)}, {"name", d.name}, {"class", pci_class(d)}, {"pci_id", pci_id(d)},
          {"type", pci_type(d)}};
}

nlohmann::json pci_bus_json(const linux_kernel::PciBus& bus) {
  nlohmann::json devices = nlohmann::json::array(), children = nlohmann::json::array();
  for (const auto& d : bus.devices) devices.push_back(pci_device_json(d));
  for (const auto& c : bus.children) children.push_back(pci_bus_json(c));
  return {{"pci_bus", hex(bus.address)},
          {"name", bus.name},
          {"parent", hex(bus.parent)},
          {"self", bus.self.empty() ? nlohmann::json(nullptr) : pci_device_json(bus.self.front())},
          {"devices", devices},
          {"children", children}};
}

Expected<void> show_pci(CommandContext& ctx) {
  CORONER_TRY(pci, linux_kernel::pci_topology(ctx.program));
  if (ctx.json()) {
    nlohmann::json roots = nlohmann::json::array();
    for (const auto& bus : pci.roots) roots.push_back(pci_bus_json(bus));
    nlohmann::json doc = {{"root_buses", roots}};
    if (!pci.skipped.empty()) doc["errors"] = errors_json(pci.skipped);
    ctx.emit(doc);
    return {};
  }
  if (pci.roots.empty()) return make_error(Errc::not_found, "no PCI devices found on this system");
  for (const auto& root : pci.roots) {
    ctx.out << fmt::format("{:^16} {:^7}\n", "ROOT BUS", "BUSNAME");
    ctx.out << fmt::format("{:<16x} {:^7}\n", root.address, root.name);
    print_pci_devices(ctx.out, root);
    print_child_buses(ctx.out, root);
    ctx.out << '\n';
  }
  print_skipped(ctx.out, pci.skipped);
  return {};
}

Expected<void> run_dev(CommandContext& ctx, const Arguments& args) {
  if (args.empty()) return show_devices(ctx);
  if (args.size() == 1 && args[0] == "-p") return show_pci(ctx);
  if (args.size() == 1 && args[0] == "-d") return show_disk_io(ctx);
  return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", args[0], kUsage);
}

}  // namespace

Command dev_command() {
  return {"dev", "character and block devices with their operations; -d disk I/O in flight; -p the PCI devices",
          "  dev [-d | -p]\n"
          "    (none)  each registered character device major: CHRDEV NAME CDEV OPERATIONS, then each\n"
          "            block device major (major_names[]): BLKDEV NAME GENDISK OPERATIONS, a disk of it\n"
          "    -d      each disk (but RAM disks and loop devices): MAJOR GENDISK NAME REQUEST_QUEUE and its\n"
          "            requests in flight, TOTAL READ WRITE (\"?\" when they cannot be counted)\n"
          "    -p      the PCI hierarchy from pci_root_buses: ROOT BUS BUSNAME, each bus's devices\n"
          "            PCI DEV DO:BU:SL.FN CLASS PCI_ID TYPE, then its child buses\n"
          "  crash> dev -d",
          run_dev};
}

}  // namespace coroner::commands
