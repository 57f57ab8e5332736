// ptov: crash's physical to kernel virtual address, through the linear
// (direct) map; `ptov OFFSET:CPUS` adds each CPU's __per_cpu_offset to a
// per-CPU offset instead (CPUS: "" the current context's CPU, "a" or "all",
// or a list such as "0,2-3").
#include "analyzer/object.hpp"
#include "analyzer/os/linux/machine_info.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/task_selection.hpp"

#include <ostream>
#include <set>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "ptov PHYSICAL | OFFSET:CPUS ...";

// "1,3-5" and the like; every CPU for "a"/"all".
Expected<std::set<uint32_t>> parse_cpus(std::string_view text, const std::vector<uint32_t>& possible) {
  if (text == "a" || text == "all") return std::set<uint32_t>(possible.begin(), possible.end());
  std::set<uint32_t> cpus;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t dash = item.find('-');
    CORONER_TRY(first, parse_pid(item.substr(0, dash)));
    int64_t last = first;
    if (dash != std::string_view::npos) {
      CORONER_TRY(end, parse_pid(item.substr(dash + 1)));
      last = end;
    }
    if (last < first || last >= (int64_t{1} << 20))
      return make_error(Errc::invalid_argument, "invalid CPU list: {}", item);
    for (int64_t cpu = first; cpu <= last; ++cpu) cpus.insert(static_cast<uint32_t>(cpu));
  }
  for (uint32_t cpu : cpus)
    if (std::find(possible.begin(), possible.end(), cpu) == possible.end())
      return make_error(Errc::invalid_argument, "CPU {} does not exist", cpu);
  return cpus;
}

Expected<nlohmann::json> per_cpu_addresses(CommandContext& ctx, uint64_t offset, std::string_view cpu_text,
                                           bool subsequent) {
  CORONER_TRY(possible, possible_cpus(ctx.program));
  std::set<uint32_t> cpus;
  if (cpu_text.empty()) {
    CORONER_TRY(task, default_task(ctx));
    cpus.insert(task.cpu);
  } else {
    CORONER_TRY(list, parse_cpus(cpu_text, possible));
    cpus = std::move(list);
  }
  CORONER_TRY(offsets, kernel_object(ctx.program, "__per_cpu_offset"));
  nlohmann::json list = nlohmann::json::array();
  // crash sizes the CPU column for the highest CPU number, "[N]" plus two.
  const size_t width = fmt::format("[{}]", possible.empty() ? 0 : possible.back()).size() + 2;
  if (!ctx.json()) {
    ctx.out << fmt::format("{}PER-CPU OFFSET: {:x}\n", subsequent ? "\n" : "", offset);
    ctx.out << fmt::format("  {:<{}}  {:<16}\n", "CPU", width, "VIRTUAL");
  }
  for (uint32_t cpu : cpus) {
    CORONER_TRY(slot, offsets.index(cpu));
    CORONER_TRY(base, slot.read_unsigned());
    uint64_t address = offset + base;
    if (ctx.json()) list.push_back({{"cpu", cpu}, {"virtual", fmt::format("{:#x}", address)}});
    else ctx.out << fmt::format("  {:<{}}{:x}\n", fmt::format("[{}]", cpu), width, address);
  }
  return nlohmann::json{{"per_cpu_offset", fmt::format("{:#x}", offset)}, {"cpus", list}};
}

Expected<void> run_ptov(CommandContext& ctx, const Arguments& args) {
  if (args.empty()) return make_error(Errc::invalid_argument, "missing address (usage: {})", kUsage);
  nlohmann::json results = nlohmann::json::array();
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view word = args[i];
    if (word.starts_with("-")) return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", word, kUsage);
    size_t colon = word.find(':');
    CORONER_TRY(value, parse_address(ctx.program, word.substr(0, colon)));
    if (colon != std::string_view::npos) {
      CORONER_TRY(entry, per_cpu_addresses(ctx, value, word.substr(colon + 1), i > 0));
      results.push_back(std::move(entry));
      continue;
    }
    CORONER_TRY(base, linux_kernel::linear_map_base(ctx.program));
    uint64_t address = base + value;
    if (ctx.json()) {
      results.push_back({{"physical", fmt::format("{:#x}", value)}, {"virtual", fmt::format("{:#x}", address)}});
    } else {
      ctx.out << fmt::format("{}{:<16}  {:<16}\n", i > 0 ? "\n" : "", "VIRTUAL", "PHYSICAL");
      ctx.out << fmt::format("{:<16x}  {:<16x}\n", address, value);
    }
  }
  if (ctx.json()) ctx.emit(results.size() == 1 ? results[0] : results);
  return {};
}

}  // namespace

Command ptov_command() {
  return {"ptov", "physical to kernel virtual address (linear map), or a per-CPU offset to each CPU's address",
          "  ptov PHYSICAL | OFFSET:CPUS ...\n"
          "    PHYSICAL     (hex, or a symbol) its address in the kernel's linear map: VIRTUAL PHYSICAL\n"
          "    OFFSET:CPUS  a per-CPU offset plus __per_cpu_offset of each CPU: CPU VIRTUAL; CPUS is a\n"
          "                 list such as 0,2-3, \"a\" for all, empty for the current context's CPU\n"
          "  crash> ptov 1000\n"
          "  crash> ptov runqueues:a",
          run_ptov};
}

}  // namespace coroner::commands
