#include "commands/arguments.hpp"

#include "capture/format/vmcoreinfo.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace coroner::commands {

Expected<uint64_t> parse_number(std::string_view text, int default_base) {
  if (auto v = parse_uint(text, 0); v && (text.starts_with("0x") || text.starts_with("0X") || default_base == 10))
    return *v;
  if (auto v = parse_uint(text, default_base)) return *v;
  return make_error(Errc::invalid_argument, "invalid number: {}", text);
}

Expected<int64_t> parse_pid(std::string_view text) {
  bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) return make_error(Errc::invalid_argument, "invalid PID: {}", text);
  auto v = parse_uint(text, 10);
  if (!v || *v > static_cast<uint64_t>(INT64_MAX)) return make_error(Errc::invalid_argument, "invalid PID: {} (out of range)", text);
  return static_cast<int64_t>(*v);
}

Expected<uint64_t> parse_address(const Program& program, std::string_view text) {
  if (text.empty()) return make_error(Errc::invalid_argument, "empty address");
  if (auto v = parse_uint(text, 16)) return *v;
  // symbol, symbol+offset, symbol-offset
  size_t op = text.find_first_of("+-", 1);
  std::string_view name = text.substr(0, op);
  int64_t delta = 0;
  if (op != std::string_view::npos) {
    auto off = parse_number(text.substr(op + 1), 10);
    if (!off) return make_error(Errc::invalid_argument, "invalid offset in {}", text);
    delta = text[op] == '+' ? static_cast<int64_t>(*off) : -static_cast<int64_t>(*off);
  }
  auto base = program.symbol_address(name);
  if (!base) return make_error(Errc::invalid_argument, "invalid address or unknown symbol: {}", text);
  return *base + delta;
}

Expected<std::vector<uint32_t>> parse_cpu_list(std::string_view text) {
  std::vector<uint32_t> cpus;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t dash = item.find('-');
    auto first = parse_number(item.substr(0, dash), 10);
    auto last = dash == std::string_view::npos ? first : parse_number(item.substr(dash + 1), 10);
    if (item.empty() || !first || !last || *last < *first || *last - *first > 65536)
      return make_error(Errc::invalid_argument, "invalid CPU list: {}", item);
    for (uint64_t cpu = *first; cpu <= *last; ++cpu) cpus.push_back(static_cast<uint32_t>(cpu));
  }
  if (cpus.empty()) return make_error(Errc::invalid_argument, "-c needs a CPU list");
  return cpus;
}

Expected<std::vector<uint32_t>> option_cpu_list(const std::vector<std::string>& args, size_t& i, size_t j,
                                                std::string_view usage) {
  std::string_view list = std::string_view(args[i]).substr(j + 1);
  if (list.empty()) {
    if (i + 1 >= args.size())
      return make_error(Errc::invalid_argument, "-{} needs a CPU list (usage: {})", args[i][j], usage);
    list = args[++i];
  }
  return parse_cpu_list(list);
}

}  // namespace coroner::commands
