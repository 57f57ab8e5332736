#include "analyzer/frontends/command_line/settings.hpp"

#include <fmt/format.h>

#include <ostream>

namespace coroner::frontends {

namespace {

Expected<bool> parse_on_off(std::string_view name, std::string_view value) {
  if (value == "on") return true;
  if (value == "off") return false;
  return make_error(Errc::invalid_argument, "set {}: {} is not on or off", name, value);
}

std::string radix_text(int radix) { return fmt::format("{} ({})", radix, radix == 16 ? "hex" : "decimal"); }

std::string scroll_text(const SessionSettings& s, const std::string& pager) {
  return fmt::format("{} ({})", s.scroll ? "on" : "off", s.scroll ? pager : "none");
}

void show_all(const SessionSettings& s, const commands::CommandContext& context, const std::string& pager) {
  if (context.json()) {
    context.emit({{"scroll", s.scroll}, {"pager", pager}, {"radix", s.radix}, {"hash", s.hash},
                  {"console", s.console.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.console)}});
    return;
  }
  context.out << fmt::format("{:>14}: {}\n", "scroll", scroll_text(s, pager))
              << fmt::format("{:>14}: {}\n", "radix", radix_text(s.radix))
              << fmt::format("{:>14}: {}\n", "console", s.console.empty() ? "(not assigned)" : s.console)
              << fmt::format("{:>14}: {}\n", "hash", s.hash ? "on" : "off");
}

}  // namespace

std::optional<Expected<void>> apply_set(SessionSettings& s, const commands::Arguments& args,
                                        const commands::CommandContext& context, const std::string& pager) {
  if (args.empty()) return std::nullopt;
  const std::string& name = args[0];
  if (name == "-v") {
    show_all(s, context, pager);
    return Expected<void>();
  }
  if (name != "scroll" && name != "radix" && name != "hash" && name != "console") return std::nullopt;
  if (args.size() > 2) return make_error(Errc::invalid_argument, "set {}: one value only", name);
  if (args.size() == 2) {
    const std::string& value = args[1];
    if (name == "scroll" || name == "hash") {
      auto on = parse_on_off(name, value);
      if (!on) return on.error();
      (name == "scroll" ? s.scroll : s.hash) = *on;
    } else if (name == "radix") {
      if (value != "10" && value != "16") return make_error(Errc::invalid_argument, "set radix: {} is not 10 or 16", value);
      s.radix = value == "16" ? 16 : 10;
    } else {
      s.console = value;
    }
  }
  if (context.json()) {
    nlohmann::json value = name == "scroll" ? nlohmann::json(s.scroll)
                           : name == "radix" ? nlohmann::json(s.radix)
                           : name == "hash"  ? nlohmann::json(s.hash)
                                             : nlohmann::json(s.console);
    context.emit({{name, value}});
  } else if (name == "scroll") {
    context.out << "scroll: " << scroll_text(s, pager) << '\n';
  } else if (name == "radix") {
    context.out << "output radix: " << radix_text(s.radix) << '\n';
  } else if (name == "hash") {
    context.out << "hash: " << (s.hash ? "on" : "off") << '\n';
  } else {
    context.out << "console: " << (s.console.empty() ? "(not assigned)" : s.console) << '\n';
  }
  return Expected<void>();
}

}  // namespace coroner::frontends
