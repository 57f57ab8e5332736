#include "commands/freebsd_views.hpp"

#include "analyzer/os/freebsd/freebsd_threads.hpp"

#include <algorithm>
#include <ostream>

namespace coroner::commands {

namespace {

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ps's COMM: the process's name, then the thread's when it differs (as
// LLDB names FreeBSD threads: "idle/idle: cpu1").
std::string command_name(const freebsd_kernel::Thread& t) {
  return t.name.empty() || t.name == t.comm ? t.comm : t.comm + "/" + t.name;
}

}  // namespace

Expected<void> show_freebsd_threads(CommandContext& ctx, const freebsd_kernel::FreeBsdKernel& kernel,
                                    const Arguments& args) {
  for (const std::string& word : args)
    if (word.starts_with("-"))
      return make_error(Errc::unsupported, "{}: ps of a FreeBSD dump takes PIDs or command names only (usage: ps "
                                           "[PID | COMMAND ...])",
                        word);
  CORONER_TRY(list, freebsd_kernel::read_threads(kernel));
  auto selected = [&](const freebsd_kernel::Thread& t) {
    if (args.empty()) return true;
    return std::any_of(args.begin(), args.end(), [&](const std::string& word) {
      return all_digits(word) ? word == std::to_string(t.pid) : word == t.comm || word == t.name;
    });
  };
  nlohmann::json rows = nlohmann::json::array();
  std::string text;
  for (const std::string& line : list.skipped) text += "WARNING: " + line + '\n';
  text += "      PID       TID  CPU      THREAD       STATE     WMESG   COMM\n";
  for (const freebsd_kernel::Thread& t : list.threads) {
    if (!selected(t)) continue;
    std::string cpu = t.cpu ? std::to_string(*t.cpu) : "-";
    text += fmt::format("{}{:>7} {:>9} {:>4}  {:016x}  {:<8}  {:<6}  {}{}\n", t.cpu ? "> " : "  ", t.pid, t.tid, cpu,
                        t.address, t.state, t.wait_message.empty() ? "-" : t.wait_message, command_name(t),
                        t.panicked ? "  (panicked)" : "");
    rows.push_back({{"pid", t.pid},
                    {"tid", t.tid},
                    {"cpu", t.cpu ? nlohmann::json(*t.cpu) : nlohmann::json(nullptr)},
                    {"thread", fmt::format("{:#x}", t.address)},
                    {"proc", fmt::format("{:#x}", t.proc)},
                    {"state", t.state},
                    {"wmesg", t.wait_message},
                    {"comm", t.comm},
                    {"name", t.name},
                    {"panicked", t.panicked}});
  }
  if (!args.empty() && rows.empty()) return make_error(Errc::not_found, "no process or thread matches");
  if (!ctx.json()) {
    ctx.out << text;
    return {};
  }
  ctx.emit({{"threads", rows},
            {"dump_tid", list.dump_tid ? nlohmann::json(*list.dump_tid) : nlohmann::json(nullptr)},
            {"skipped", list.skipped}});
  return {};
}

}  // namespace coroner::commands
