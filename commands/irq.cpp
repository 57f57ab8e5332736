// irq: the interrupt descriptors as crash's irq [-u | -a | -s [-c CPU(s)]]
// [IRQ ...]: IRQ IRQ_DESC/_DATA IRQACTION NAME for each IRQ below nr_irqs,
// -a each handled IRQ's affinity, -s the per-CPU counts of
// /proc/interrupts.
#include "analyzer/os/linux/interrupts.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"

#include <algorithm>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "irq [-u | -a | -s [-c CPU(s)]] [IRQ ...]";
constexpr size_t kColumn = 16;  // crash's address columns (IRQ_DESC/_DATA is 14 wide)

struct IrqRequest {
  char view = 0;  // 'a', 's' or 0
  bool in_use = false;
  std::optional<std::vector<uint32_t>> cpus;
  std::vector<uint32_t> irqs;
};

Expected<IrqRequest> parse_request(const Arguments& args) {
  IrqRequest r;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word.size() < 2 || word[0] != '-') {
      auto irq = parse_number(word, 10);
      if (!irq || *irq > UINT32_MAX) return make_error(Errc::invalid_argument, "invalid IRQ value: {}", word);
      r.irqs.push_back(static_cast<uint32_t>(*irq));
      continue;
    }
    for (size_t j = 1; j < word.size(); ++j) {
      char c = word[j];
      if (c == 'c') {
        if (r.cpus) return make_error(Errc::invalid_argument, "only one -c option allowed");
        CORONER_TRY(cpus, option_cpu_list(args, i, j, kUsage));
        r.cpus = cpus;
        break;
      }
      if (c == 'u') r.in_use = true;
      else if (c == 'a' || c == 's') r.view = r.view == 'a' ? 'a' : c;  // crash: -a answers first
      else if (c == 'd' || c == 'b')
        return make_error(Errc::unsupported, "-{} (the {} table) is not supported", c, c == 'd' ? "IDT" : "softirq");
      else return make_error(Errc::invalid_argument, "unknown option -{} (usage: {})", c, kUsage);
    }
  }
  if (r.cpus && r.view != 's') return make_error(Errc::invalid_argument, "-c goes with -s (usage: {})", kUsage);
  return r;
}

std::string handler_names(const linux_kernel::Interrupt& irq, std::string_view separator) {
  std::vector<std::string> names;
  for (const auto& a : irq.actions) names.push_back(a.name);
  return fmt::format("{}", fmt::join(names, separator));
}

// crash's CPU ranges: "0-1", "0,2-3".
std::string cpu_ranges(const std::vector<uint32_t>& cpus) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    parts.push_back(i == j ? fmt::format("{}", cpus[i]) : fmt::format("{}-{}", cpus[i], cpus[j]));
    i = j + 1;
  }
  return fmt::format("{}", fmt::join(parts, ","));
}

// A centered column, an odd space on the right (crash's CENTER).
std::string center(std::string_view text, size_t width) {
  size_t pad = width > text.size() ? width - text.size() : 0;
  return std::string(pad / 2, ' ') + std::string(text) + std::string(pad - pad / 2, ' ');
}

void print_table_row(std::ostream& out, const linux_kernel::Interrupt& irq) {
  std::string number = fmt::format("{}", irq.irq);
  size_t pad = number.size() < 4 ? 4 - number.size() : 0;
  out << std::string(pad - pad / 2, ' ') << number << std::string(pad / 2, ' ') << "  "
      << (irq.desc ? fmt::format("{:x}", irq.desc) : center("(unused)", kColumn)) << "  ";
  if (irq.actions.empty()) out << center("(unused)", kColumn) << "  ";
  for (size_t i = 0; i < irq.actions.size(); ++i) {
    if (i > 0) out << '\n' << std::string(4 + 2 + kColumn + 2, ' ');
    out << fmt::format("{:x}", irq.actions[i].address) << "  \"" << irq.actions[i].name << '"';
  }
  out << '\n';
}

nlohmann::json irq_json(const linux_kernel::Interrupt& irq, const std::vector<uint32_t>& cpus) {
  nlohmann::json actions = nlohmann::json::array();
  for (const auto& a : irq.actions) actions.push_back({{"irqaction", fmt::format("{:#x}", a.address)}, {"name", a.name}});
  nlohmann::json entry = {{"irq", irq.irq},        {"irq_desc", fmt::format("{:#x}", irq.desc)},
                          {"actions", actions},   {"chip", irq.chip},
                          {"flow", irq.flow},     {"affinity", irq.affinity}};
  nlohmann::json counts = nlohmann::json::object();
  for (size_t i = 0; i < irq.counts.size() && i < cpus.size(); ++i) counts[fmt::format("{}", cpus[i])] = irq.counts[i];
  entry["counts"] = counts;
  if (irq.error) entry["error"] = irq.error->message();
  return entry;
}

Expected<void> run_irq(CommandContext& ctx, const Arguments& args) {
  CORONER_TRY(r, parse_request(args));
  CORONER_TRY(states, linux_kernel::cpu_states(ctx.program));
  std::vector<uint32_t> cpus;
  for (const linux_kernel::CpuState& s : states)
    if (!r.cpus || std::find(r.cpus->begin(), r.cpus->end(), s.cpu) != r.cpus->end()) cpus.push_back(s.cpu);
  CORONER_TRY(table, linux_kernel::interrupts(ctx.program, cpus));
  for (uint32_t irq : r.irqs)
    if (irq >= table.nr_irqs)
      return make_error(Errc::invalid_argument, "invalid IRQ value: {}  ({} max)", irq, table.nr_irqs - 1);

  // Which IRQs: those named, else all (-a and -s: those with a handler).
  std::vector<const linux_kernel::Interrupt*> shown;
  for (const linux_kernel::Interrupt& irq : table.irqs) {
    bool named = std::find(r.irqs.begin(), r.irqs.end(), irq.irq) != r.irqs.end();
    if (!r.irqs.empty() && !named) continue;
    bool handled = irq.desc && !irq.actions.empty();
    // In use: a handler, or a chip other than no_irq_chip ("none").
    bool in_use = handled || (irq.desc && irq.chip != "none");
    if (r.view && !handled) continue;
    if (r.in_use && r.irqs.empty() && !in_use) continue;
    shown.push_back(&irq);
  }

  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto* irq : shown)
      if (irq->desc) list.push_back(irq_json(*irq, cpus));
    ctx.emit({{"nr_irqs", table.nr_irqs}, {"cpus", cpus}, {"irqs", list}});
    return {};
  }
  if (r.view == 'a') {
    ctx.out << "IRQ NAME                 AFFINITY\n";
    for (const auto* irq : shown)
      ctx.out << fmt::format("{:3} {:<20} {}\n", irq->irq, handler_names(*irq, ","), cpu_ranges(irq->affinity));
  } else if (r.view == 's') {
    ctx.out << "     ";
    for (uint32_t cpu : cpus) ctx.out << fmt::format("{:>10} ", fmt::format("CPU{}", cpu));
    ctx.out << '\n';
    for (const auto* irq : shown) {
      ctx.out << fmt::format("{:3}: ", irq->irq);
      for (uint64_t count : irq->counts) ctx.out << fmt::format("{:10} ", count);
      if (!irq->chip.empty()) ctx.out << fmt::format("{:>8}", irq->chip);
      if (!irq->flow.empty()) ctx.out << fmt::format("-{:<8}", irq->flow);
      ctx.out << ' ' << handler_names(*irq, ",") << '\n';
    }
  } else {
    ctx.out << " IRQ  " << center("IRQ_DESC/_DATA", kColumn) << "  " << center("IRQACTION", kColumn) << "  NAME\n";
    for (const auto* irq : shown) print_table_row(ctx.out, *irq);
  }
  for (const auto* irq : shown)
    if (irq->error) ctx.out << "irq: " << irq->error->message() << '\n';
  return {};
}

}  // namespace

Command irq_command() {
  return {"irq", "the interrupt descriptors: handlers, affinity and per-CPU counts",
          "  irq [-u | -a | -s [-c CPU(s)]] [IRQ ...]\n"
          "    (none)  each IRQ below nr_irqs: IRQ IRQ_DESC/_DATA IRQACTION NAME, (unused) where there is no\n"
          "            descriptor or handler; a shared line lists each handler\n"
          "    IRQ     only these IRQs\n"
          "    -u      only the IRQs in use: with a handler or a chip other than no_irq_chip\n"
          "    -a      IRQ NAME AFFINITY of each handled IRQ (its CPUs as ranges)\n"
          "    -s      the per-CPU counts of each handled IRQ, its chip and flow, and its handlers, as\n"
          "            /proc/interrupts shows them\n"
          "    -c CPU  with -s: only these CPUs' counts (3, 1,8,9, 1-3)\n"
          "  crash> irq -s",
          run_irq};
}

}  // namespace coroner::commands
