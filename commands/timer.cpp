// timer: the timer wheel as crash's timer [-C CPU(s)]: JIFFIES, then each
// CPU's timer bases with their timers by expiry: EXPIRES TTE (ticks to
// expiry) TIMER_LIST FUNCTION.
#include "analyzer/object.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/os/linux/timers.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"

#include <algorithm>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "timer [-C CPU(s)]";

// timer_bases[] names: BASE_STD and BASE_DEF (NO_HZ_COMMON, 4.8..6.8),
// BASE_LOCAL, BASE_GLOBAL and BASE_DEF since 6.9.
std::string base_name(unsigned index, size_t count) {
  static constexpr std::string_view two[] = {"BASE_STD", "BASE_DEF"};
  static constexpr std::string_view three[] = {"BASE_LOCAL", "BASE_GLOBAL", "BASE_DEF"};
  if (count <= 2 && index < 2) return std::string(two[index]);
  if (count == 3) return std::string(three[index]);
  return fmt::format("{}", index);
}

Expected<void> run_timer(CommandContext& ctx, const Arguments& args) {
  std::optional<std::vector<uint32_t>> only;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-C" || (args[i].starts_with("-C") && args[i].size() > 2)) {
      CORONER_TRY(cpus, option_cpu_list(args, i, 1, kUsage));
      only = cpus;
    } else if (args[i] == "-r") {
      return make_error(Errc::unsupported, "-r (hrtimers) is not supported yet");
    } else {
      return make_error(Errc::invalid_argument, "unexpected argument {} (usage: {})", args[i], kUsage);
    }
  }
  CORONER_TRY(states, linux_kernel::cpu_states(ctx.program));
  std::vector<uint32_t> cpus;
  for (const auto& s : states)
    if (!only || std::find(only->begin(), only->end(), s.cpu) != only->end()) cpus.push_back(s.cpu);
  CORONER_TRY(jiffies_object, kernel_object(ctx.program, "jiffies"));
  CORONER_TRY(jiffies, jiffies_object.read_unsigned());
  CORONER_TRY(bases, linux_kernel::timer_bases(ctx.program, cpus));
  size_t per_cpu = cpus.empty() ? 0 : bases.size() / cpus.size();
  auto function_name = [&](uint64_t function) {
    auto where = ctx.program.describe_address(function);
    return where ? where->text() : std::string();
  };

  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& base : bases) {
      nlohmann::json timers = nlohmann::json::array();
      for (const auto& t : base.timers)
        timers.push_back({{"expires", t.expires},
                          {"tte", static_cast<int64_t>(t.expires - jiffies)},
                          {"timer_list", fmt::format("{:#x}", t.address)},
                          {"function", fmt::format("{:#x}", t.function)},
                          {"symbol", function_name(t.function)}});
      nlohmann::json entry = {{"cpu", base.cpu}, {"base", base_name(base.index, per_cpu)},
                              {"timer_base", fmt::format("{:#x}", base.address)}, {"timers", timers}};
      if (!base.skipped.empty()) {
        std::vector<std::string> errors;
        for (const Error& e : base.skipped) errors.push_back(e.message());
        entry["errors"] = errors;
      }
      list.push_back(std::move(entry));
    }
    ctx.emit({{"jiffies", jiffies}, {"timer_bases", list}});
    return {};
  }
  std::string now = fmt::format("{}", jiffies);
  size_t width = std::max<size_t>(now.size(), 7);  // "EXPIRES"
  ctx.out << fmt::format("{:<{}}\n{:>{}}\n\n", "JIFFIES", width, now, width);
  for (size_t i = 0; i < bases.size(); ++i) {
    const linux_kernel::TimerBase& base = bases[i];
    if (i > 0 && base.index == 0) ctx.out << '\n';
    ctx.out << fmt::format("TIMER_BASES[{}][{}]: {:x}\n", base.cpu, base_name(base.index, per_cpu), base.address);
    uint64_t highest = 0;
    for (const auto& t : base.timers) {
      int64_t tte = static_cast<int64_t>(t.expires - jiffies);
      highest = std::max<uint64_t>(highest, tte < 0 ? static_cast<uint64_t>(-tte) : static_cast<uint64_t>(tte));
    }
    size_t tte_width = std::max<size_t>(fmt::format("{}", highest).size() + 1, 3);  // room for a '-'
    ctx.out << fmt::format("  {:<{}}     {:<{}}     TIMER_LIST     FUNCTION\n", "EXPIRES", width, "TTE", tte_width);
    for (const auto& t : base.timers)
      ctx.out << fmt::format("  {:>{}}  {:>{}}  {:>16x}  {:>16x}  <{}>\n", t.expires, width,
                             static_cast<int64_t>(t.expires - jiffies), tte_width, t.address, t.function,
                             function_name(t.function));
    if (base.timers.empty()) ctx.out << "  (none)\n";
    for (const Error& e : base.skipped) ctx.out << "timer: " << e.message() << '\n';
  }
  return {};
}

}  // namespace

Command timer_command() {
  return {"timer", "the timer wheel: each CPU's pending timers by expiry",
          "  timer [-C CPU(s)]\n"
          "    JIFFIES, then for each CPU and timer base (BASE_STD, BASE_DEF): EXPIRES TTE (jiffies until it\n"
          "    expires, negative when overdue) TIMER_LIST FUNCTION of each timer, soonest first\n"
          "    -C CPU  only these CPUs: 3, 1,8,9, 1-3\n"
          "    (-r, the hrtimers, is not supported yet)\n"
          "  crash> timer -C 0",
          run_timer};
}

}  // namespace coroner::commands
