// p, px, pd: evaluate a C expression and print its value as crash does
// ("jiffies_64 = 4294893298", structs gdb-style), with crash's per-CPU
// suffix: `p runqueues:1`, `p runqueues:a`, `p irq_stat:0,1`, and gdb's
// format letters: `p/x fx_magic`.
#include "analyzer/expression.hpp"
#include "analyzer/type_format.hpp"
#include "analyzer/value_format.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

struct CpuSuffix {
  std::string expression;               // without the suffix
  std::optional<std::vector<uint32_t>> cpus;  // none: no suffix
};

// Splits "runqueues:1", "runqueues:a", "runqueues:0,1", "runqueues:0-1".
Expected<CpuSuffix> split_cpu_suffix(const Program& program, const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return CpuSuffix{text, std::nullopt};
  const std::string spec = text.substr(colon + 1);
  CpuSuffix result{text.substr(0, colon), std::vector<uint32_t>()};
  if (spec == "a" || spec == "all") {
    CORONER_TRY(cpus, possible_cpus(program));
    result.cpus = cpus;
    return result;
  }
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t dash = item.find('-');
    CORONER_TRY(first, parse_number(item.substr(0, dash), 10));
    uint64_t last = first;
    if (dash != std::string::npos) {
      CORONER_TRY(end, parse_number(item.substr(dash + 1), 10));
      last = end;
    }
    if (last < first || last - first > 4096 || last > UINT32_MAX)
      return make_error(Errc::invalid_argument, "bad CPU list '{}'", spec);
    for (uint64_t cpu = first; cpu <= last; ++cpu) result.cpus->push_back(static_cast<uint32_t>(cpu));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return result;
}

nlohmann::json object_json(const Object& object, const nlohmann::json& value) {
  auto address = object.address();
  return {{"type", declaration(object.type(), "")},
          {"address", address ? nlohmann::json(fmt::format("{:#x}", *address)) : nlohmann::json(nullptr)},
          {"value", value}};
}

// `p runqueues` without a CPU: crash lists the per-CPU instances' addresses.
Expected<void> print_per_cpu_addresses(CommandContext& ctx, const GlobalObject& global) {
  CORONER_TRY(cpus, possible_cpus(ctx.program));
  nlohmann::json addresses = nlohmann::json::object();
  std::string text = fmt::format("PER-CPU DATA TYPE:\n  {};\nPER-CPU ADDRESSES:\n",
                                 declaration(global.object.type(), global.name));
  for (uint32_t cpu : cpus) {
    CORONER_TRY(instance, per_cpu(global, cpu));
    text += fmt::format("  [{}]: {:x}\n", cpu, *instance.address());
    addresses[std::to_string(cpu)] = fmt::format("{:#x}", *instance.address());
  }
  if (ctx.json())
    ctx.emit({{"expression", global.name}, {"type", declaration(global.object.type(), "")}, {"per_cpu", addresses}});
  else
    ctx.out << text;
  return {};
}

Expected<void> print(CommandContext& ctx, const Arguments& args, IntegerBase base, std::string_view usage) {
  std::string expression;
  PrintFormat format = PrintFormat::natural;
  for (const std::string& word : args) {
    if (expression.empty() && word == "-x") base = IntegerBase::hex;
    else if (expression.empty() && word == "-d") base = IntegerBase::decimal;
    else if (expression.empty() && word.starts_with("/")) {
      // "p/x" reaches us as "p" "/x" (run_command_line splits it).
      CORONER_TRY(letter, parse_print_format(std::string_view(word).substr(1)));
      format = letter;
    } else expression += (expression.empty() ? "" : " ") + word;
  }
  if (expression.empty()) return make_error(Errc::invalid_argument, "usage: {}", usage);
  CORONER_TRY(split, split_cpu_suffix(ctx.program, expression));
  if (!split.cpus) {
    if (is_identifier(split.expression)) {
      auto global = find_global(ctx.program, split.expression);
      if (global && global->per_cpu) return print_per_cpu_addresses(ctx, *global);
    }
    CORONER_TRY(object, evaluate(ctx.program, split.expression));
    if (ctx.json()) {
      CORONER_TRY(value, value_json(object));
      nlohmann::json document = object_json(object, value);
      document["expression"] = split.expression;
      ctx.emit(document);
      return {};
    }
    CORONER_TRY(text, format_top_value(object, base, format));
    ctx.out << split.expression << " = " << text << '\n';
    return {};
  }
  nlohmann::json instances = nlohmann::json::array();
  for (uint32_t cpu : *split.cpus) {
    CORONER_TRY(object, evaluate(ctx.program, split.expression, EvaluationOptions{cpu}));
    if (ctx.json()) {
      CORONER_TRY(value, value_json(object));
      nlohmann::json instance = object_json(object, value);
      instance["cpu"] = cpu;
      instances.push_back(std::move(instance));
      continue;
    }
    CORONER_TRY(text, format_top_value(object, base, format));
    ctx.out << fmt::format("per_cpu({}, {}) = {}\n", split.expression, cpu, text);
  }
  if (ctx.json()) ctx.emit({{"expression", split.expression}, {"cpus", instances}});
  return {};
}

constexpr const char* kOptions =
    "    EXPRESSION   a C expression: symbols, members (. and ->), [i], *, &, casts,\n"
    "                 + - * /, sizeof, per_cpu(VAR, CPU), integer literals\n"
    "    :CPU         a per-CPU variable's instance on CPU (:a all, :0,2 or :0-1 lists)\n"
    "    /FMT         gdb's format letter for every scalar of the value (structs and arrays\n"
    "                 too): /x hex, /d signed and /u unsigned decimal, /o octal, /t binary,\n"
    "                 /c character, /a address with its symbol, /z zero-padded hex, /s natural";

}  // namespace

Command p_command() {
  return {"p", "print the value of an expression",
          std::string("  p[/FMT] [-x|-d] EXPRESSION[:CPU]\n    -x, -d       print integers in hex or decimal\n") + kOptions +
              "\n  crash> p/x fx_magic\n  crash> p -d init_task.se.load\n  crash> p runqueues:a",
          [](CommandContext& ctx, const Arguments& args) {
            return print(ctx, args, IntegerBase::natural, "p[/FMT] [-x|-d] EXPRESSION[:CPU]");
          }};
}

Command px_command() {
  return {"px", "print the value of an expression in hex", std::string("  px EXPRESSION[:CPU]\n") + kOptions + "\n  crash> px jiffies_64",
          [](CommandContext& ctx, const Arguments& args) {
            return print(ctx, args, IntegerBase::hex, "px EXPRESSION[:CPU]");
          }};
}

Command pd_command() {
  return {"pd", "print the value of an expression in decimal", std::string("  pd EXPRESSION[:CPU]\n") + kOptions + "\n  crash> pd init_task.prio",
          [](CommandContext& ctx, const Arguments& args) {
            return print(ctx, args, IntegerBase::decimal, "pd EXPRESSION[:CPU]");
          }};
}

}  // namespace coroner::commands
