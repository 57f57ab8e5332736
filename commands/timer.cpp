// timer: the timer wheel as crash's timer [-C CPU(s)]: JIFFIES, then each
// CPU's timer bases with their timers by expiry: EXPIRES TTE (ticks to
// expiry) TIMER_LIST FUNCTION. timer -r: each CPU's hrtimer clock bases,
// their CURRENT time and timers: SOFTEXPIRES EXPIRES TTE (ns) HRTIMER
// FUNCTION.
#include "analyzer/object.hpp"
#include "analyzer/os/linux/system_info.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/os/linux/timers.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"

#include <algorithm>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "timer [-r] [-C CPU(s)]";

// timer_bases[] names: BASE_STD and BASE_DEF (NO_HZ_COMMON, 4.8..6.8),
// BASE_LOCAL, BASE_GLOBAL and BASE_DEF since 6.9.
std::string base_name(unsigned index, size_t count) {
  static constexpr std::string_view two[] = {"BASE_STD", "BASE_DEF"};
  static constexpr std::string_view three[] = {"BASE_LOCAL", "BASE_GLOBAL", "BASE_DEF"};
  if (count <= 2 && index < 2) return std::string(two[index]);
  if (count == 3) return std::string(three[index]);
  return fmt::format("{}", index);
}

// crash's centered columns: the odd space goes left (CENTER|RJUST) or right.
std::string centered(std::string_view text, size_t width, bool rjust) {
  if (text.size() >= width) return std::string(text);
  const size_t left = (width - text.size() + (rjust ? 1 : 0)) / 2;
  return std::string(left, ' ') + std::string(text) + std::string(width - text.size() - left, ' ');
}

std::string symbol_of(const Program& program, uint64_t address) {
  auto where = program.describe_address(address);
  return where ? where->text() : std::string();
}

// One clock base: its CURRENT time, then its timers, the columns as wide
// as crash makes them: from the last (latest) timer's numbers.
void print_hrtimer_clock(std::ostream& out, const Program& program, const linux_kernel::HrTimerClockBase& base,
                         int64_t now) {
  const std::string name = base.get_time ? symbol_of(program, base.get_time) : base.clock_name;
  out << fmt::format("  CLOCK: {}  HRTIMER_CLOCK_BASE: {:x}", base.index, base.address)
      << (name.empty() ? "" : fmt::format("  [{}]", name)) << '\n';
  if (base.timers.empty()) {
    out << (base.skipped ? fmt::format("timer: {}\n", base.skipped->message()) : "  (empty)\n");
    return;
  }
  const linux_kernel::HrTimer& last = base.timers.back();
  const size_t soft_width = std::max<size_t>(fmt::format("{}", last.softexpires).size(), 11);
  const size_t expires_width = std::max<size_t>(fmt::format("{}", last.expires).size(), 7);
  const size_t tte_width = fmt::format("{}", last.expires - now).size();
  out << "  " << centered("CURRENT", soft_width, true) << "\n  " << centered(fmt::format("{}", now), soft_width, true)
      << "\n";
  out << "  " << centered("SOFTEXPIRES", soft_width, true) << "  " << centered("EXPIRES", expires_width, true) << "  "
      << centered("TTE", tte_width, true) << "  " << centered("HRTIMER", 16, false) << "  "
      << centered("FUNCTION", 16, false) << '\n';
  for (const linux_kernel::HrTimer& t : base.timers)
    out << fmt::format("  {}  {}  {:>{}}  {:x}  {:x}  <{}>\n", centered(fmt::format("{}", t.softexpires), soft_width, true),
                       centered(fmt::format("{}", t.expires), expires_width, true), t.expires - now, tte_width,
                       t.address, t.function, symbol_of(program, t.function));
  if (base.skipped) out << "timer: " << base.skipped->message() << '\n';
}

Expected<void> show_hrtimers(CommandContext& ctx, const std::vector<uint32_t>& cpus) {
  CORONER_TRY(bases, linux_kernel::hrtimer_bases(ctx.program, cpus));
  CORONER_TRY(hz, linux_kernel::tick_rate(ctx.program));
  CORONER_TRY(ticks, linux_kernel::uptime_ticks(ctx.program));
  // crash's CURRENT: the uptime in jiffies as ns, on the base's clock.
  const int64_t uptime_ns = static_cast<int64_t>(ticks * (1000000000 / hz));
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& cpu : bases) {
      nlohmann::json clocks = nlohmann::json::array();
      for (const auto& base : cpu.clocks) {
        const int64_t now = uptime_ns + base.offset;
        nlohmann::json timers = nlohmann::json::array();
        for (const auto& t : base.timers)
          timers.push_back({{"softexpires", t.softexpires}, {"expires", t.expires}, {"tte", t.expires - now},
                            {"hrtimer", fmt::format("{:#x}", t.address)}, {"function", fmt::format("{:#x}", t.function)},
                            {"symbol", symbol_of(ctx.program, t.function)}});
        nlohmann::json clock = {{"clock", base.index}, {"hrtimer_clock_base", fmt::format("{:#x}", base.address)},
                                {"get_time", base.get_time ? symbol_of(ctx.program, base.get_time) : base.clock_name},
                                {"current", now}, {"timers", timers}};
        if (base.skipped) clock["errors"] = std::vector<std::string>{base.skipped->message()};
        clocks.push_back(std::move(clock));
      }
      list.push_back({{"cpu", cpu.cpu}, {"hrtimer_cpu_base", fmt::format("{:#x}", cpu.address)}, {"clock_bases", clocks}});
    }
    ctx.emit({{"cpus", list}});
    return {};
  }
  for (size_t i = 0; i < bases.size(); ++i) {
    ctx.out << (i ? "\n" : "") << fmt::format("CPU: {}  HRTIMER_CPU_BASE: {:x}\n", bases[i].cpu, bases[i].address);
    for (size_t c = 0; c < bases[i].clocks.size(); ++c) {
      if (c) ctx.out << '\n';
      print_hrtimer_clock(ctx.out, ctx.program, bases[i].clocks[c], uptime_ns + bases[i].clocks[c].offset);
    }
  }
  return {};
}

Expected<void> run_timer(CommandContext& ctx, const Arguments& args) {
  std::optional<std::vector<uint32_t>> only;
  bool hrtimers = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-C" || (args[i].starts_with("-C") && args[i].size() > 2)) {
      CORONER_TRY(cpus, option_cpu_list(args, i, 1, kUsage));
      only = cpus;
    } else if (args[i] == "-r") {
      hrtimers = true;
    } else {
      return make_error(Errc::invalid_argument, "unexpected argument {} (usage: {})", args[i], kUsage);
    }
  }
  CORONER_TRY(states, linux_kernel::cpu_states(ctx.program));
  std::vector<uint32_t> cpus;
  for (const auto& s : states)
    if (!only || std::find(only->begin(), only->end(), s.cpu) != only->end()) cpus.push_back(s.cpu);
  if (hrtimers) return show_hrtimers(ctx, cpus);
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
  return {"timer", "the timer wheel and the hrtimers: each CPU's pending timers by expiry",
          "  timer [-r] [-C CPU(s)]\n"
          "    JIFFIES, then for each CPU and timer base (BASE_STD, BASE_DEF): EXPIRES TTE (jiffies until it\n"
          "    expires, negative when overdue) TIMER_LIST FUNCTION of each timer, soonest first\n"
          "    -C CPU  only these CPUs: 3, 1,8,9, 1-3\n"
          "    -r      the hrtimers instead: for each CPU (HRTIMER_CPU_BASE) and clock base (CLOCK,\n"
          "            HRTIMER_CLOCK_BASE, its clock), the CURRENT time of that clock in ns as crash reckons\n"
          "            it (the uptime in jiffies), then SOFTEXPIRES EXPIRES TTE (ns) HRTIMER FUNCTION of each\n"
          "            timer, soonest first; \"(empty)\" for a base without timers\n"
          "  crash> timer -C 0\n"
          "  crash> timer -r -C 1",
          run_timer};
}

}  // namespace coroner::commands
