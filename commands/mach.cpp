// mach: crash's machine data (MACHINE TYPE, MEMORY SIZE, CPUS, PROCESSOR
// SPEED, HZ, PAGE SIZE, the kernel's address-space bases, KERNEL STACK
// SIZE); -c each CPU's cpuinfo (x86_64 cpu_info, arm64 cpu_data), -m the
// x86_64 e820 memory map.
#include "analyzer/object.hpp"
#include "analyzer/os/linux/machine_info.hpp"
#include "commands/builtin.hpp"
#include "commands/memory_size.hpp"

#include <ostream>
#include <sstream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "mach [-c | -m]";

nlohmann::json optional_hex(const std::optional<uint64_t>& value) {
  return value ? nlohmann::json(fmt::format("{:#x}", *value)) : nlohmann::json(nullptr);
}

Expected<void> show_machine(CommandContext& ctx) {
  const linux_kernel::MachineInfo info = linux_kernel::read_machine_info(ctx.program);
  const bool x86 = ctx.program.arch().machine() == Machine::x86_64;
  const std::string memory = format_memory(info.memory_bytes, info.page_size);
  if (ctx.json()) {
    auto opt = [](const auto& v) -> nlohmann::json { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    ctx.emit({{"machine_type", info.machine},
              {"memory_size", memory},
              {"memory_bytes", info.memory_bytes},
              {"cpus", info.cpus},
              {"processor_mhz", opt(info.cpu_mhz)},
              {"hz", opt(info.hz)},
              {"page_size", info.page_size},
              {"kernel_virtual_base", optional_hex(info.kernel_virtual_base)},
              {"kernel_vmalloc_base", optional_hex(info.vmalloc_base)},
              {"kernel_vmemmap_base", optional_hex(info.vmemmap_base)},
              {"kernel_start_map", optional_hex(info.kernel_start_map)},
              {"kernel_modules_base", optional_hex(info.modules_base)},
              {"kernel_stack_size", opt(info.kernel_stack_size)},
              {"problems", info.problems}});
    return {};
  }
  // crash's label column: 22 wide on x86_64, 19 on arm64.
  const int width = x86 ? 22 : 19;
  auto line = [&](std::string_view key, const std::string& value) {
    ctx.out << fmt::format("{:>{}}: {}\n", key, width, value);
  };
  auto hex_or_unknown = [](const std::optional<uint64_t>& v) { return v ? fmt::format("{:x}", *v) : "(unknown)"; };
  auto number_or_unknown = [](const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : "(unknown)"; };
  line("MACHINE TYPE", info.machine);
  line("MEMORY SIZE", memory);
  line("CPUS", std::to_string(info.cpus));
  if (x86 || info.cpu_mhz) line("PROCESSOR SPEED", info.cpu_mhz ? fmt::format("{} Mhz", *info.cpu_mhz) : "(unknown)");
  line("HZ", number_or_unknown(info.hz));
  line("PAGE SIZE", std::to_string(info.page_size));
  line("KERNEL VIRTUAL BASE", hex_or_unknown(info.kernel_virtual_base));
  if (x86) {
    line("KERNEL VMALLOC BASE", hex_or_unknown(info.vmalloc_base));
    line("KERNEL VMEMMAP BASE", hex_or_unknown(info.vmemmap_base));
    line("KERNEL START MAP", hex_or_unknown(info.kernel_start_map));
    line("KERNEL MODULES BASE", hex_or_unknown(info.modules_base));
  } else {
    line("KERNEL MODULES BASE", hex_or_unknown(info.modules_base));
    line("KERNEL VMALLOC BASE", hex_or_unknown(info.vmalloc_base));
    line("KERNEL VMEMMAP BASE", hex_or_unknown(info.vmemmap_base));
  }
  line("KERNEL STACK SIZE", number_or_unknown(info.kernel_stack_size));
  for (const std::string& problem : info.problems) ctx.out << "mach: " << problem << '\n';
  return {};
}

std::string_view e820_type_name(uint32_t type) {
  switch (type) {
    case 1: return "E820_RAM";
    case 2: return "E820_RESERVED";
    case 3: return "E820_ACPI";
    case 4: return "E820_NVS";
    case 5: return "E820_UNUSABLE";
    case 12: return "E820_PRAM";
    case 128: return "E820_RESERVED_KERN";
    default: return {};
  }
}

Expected<void> show_memory_map(CommandContext& ctx) {
  CORONER_TRY(ranges, linux_kernel::e820_memory_map(ctx.program));
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : ranges)
      list.push_back({{"start", fmt::format("{:#x}", r.start)}, {"end", fmt::format("{:#x}", r.end)},
                      {"type", r.type}, {"name", e820_type_name(r.type)}});
    ctx.emit({{"memory_map", list}});
    return {};
  }
  ctx.out << "      PHYSICAL ADDRESS RANGE         TYPE\n";
  for (const auto& r : ranges) {
    std::string_view name = e820_type_name(r.type);
    ctx.out << fmt::format("{:016x} - {:016x}  {}\n", r.start, r.end,
                           name.empty() ? fmt::format("type {}", r.type) : std::string(name));
  }
  return {};
}

// Each CPU's cpuinfo structure, printed by `struct` as crash does.
Expected<void> show_cpu_data(CommandContext& ctx) {
  const bool x86 = ctx.program.arch().machine() == Machine::x86_64;
  const std::string variable = x86 ? "cpu_info" : "cpu_data";
  const std::string type = x86 ? "cpuinfo_x86" : "cpuinfo_arm64";
  CORONER_TRY(global, find_kernel_global(ctx.program, variable));
  CORONER_TRY(cpus, possible_cpus(ctx.program));
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < cpus.size(); ++i) {
    CORONER_TRY(instance, per_cpu(global, cpus[i]));
    uint64_t address = instance.address().value_or(0);
    std::ostringstream out;
    CommandContext inner{ctx.program, ctx.format, out, ctx.current_pid, ctx.current_task};
    CORONER_CHECK(run_command_line(inner, fmt::format("struct {} {:#x}", type, address)));
    if (ctx.json()) {
      list.push_back({{"cpu", cpus[i]}, {"address", fmt::format("{:#x}", address)},
                      {type, nlohmann::json::parse(out.str())}});
      continue;
    }
    ctx.out << fmt::format("{}CPU {}:\n{}", i ? "\n" : "", cpus[i], out.str());
  }
  if (ctx.json()) ctx.emit({{"cpus", list}});
  return {};
}

Expected<void> run_mach(CommandContext& ctx, const Arguments& args) {
  if (args.empty()) return show_machine(ctx);
  if (args.size() == 1 && args[0] == "-c") return show_cpu_data(ctx);
  if (args.size() == 1 && args[0] == "-m") return show_memory_map(ctx);
  return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", args[0], kUsage);
}

}  // namespace

Command mach_command() {
  return {"mach", "machine data: type, memory, CPUs, clock, page size, kernel address-space bases",
          "  mach [-c | -m]\n"
          "    (none)  MACHINE TYPE, MEMORY SIZE, CPUS, PROCESSOR SPEED, HZ, PAGE SIZE, the kernel's\n"
          "            virtual, vmalloc, vmemmap, start-map and modules bases, KERNEL STACK SIZE\n"
          "    -c      each CPU's cpuinfo structure (x86_64 cpuinfo_x86, arm64 cpuinfo_arm64)\n"
          "    -m      the e820 memory map (x86_64): PHYSICAL ADDRESS RANGE TYPE\n"
          "  crash> mach",
          run_mach};
}

}  // namespace coroner::commands
