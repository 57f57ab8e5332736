#include "commands/freebsd_views.hpp"

#include "analyzer/os/freebsd/freebsd_backtrace.hpp"
#include "commands/task_output.hpp"

#include <algorithm>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "bt [-a] [TID | PID ...]";

struct FrameText {
  std::string function;  // "" when no symbol holds the pc
  uint64_t offset = 0;
};

// The function of a frame: a return address is looked up one byte back
// (the call may be its function's last instruction), its offset is its own.
FrameText describe(const Program& program, const freebsd_kernel::ThreadFrame& frame) {
  auto symbolic = program.describe_address(frame.return_address ? frame.pc - 1 : frame.pc);
  if (!symbolic) return {};
  return {symbolic->symbol->name, frame.pc - symbolic->symbol->address};
}

nlohmann::json backtrace_json(const Program& program, const freebsd_kernel::Thread& t,
                              const freebsd_kernel::ThreadBacktrace& trace) {
  nlohmann::json frames = nlohmann::json::array();
  for (size_t i = 0; i < trace.frames.size(); ++i) {
    const auto& frame = trace.frames[i];
    FrameText text = describe(program, frame);
    frames.push_back({{"level", i},
                      {"pc", fmt::format("{:#x}", frame.pc)},
                      {"sp", fmt::format("{:#x}", frame.sp)},
                      {"function", text.function.empty() ? nlohmann::json(nullptr) : nlohmann::json(text.function)},
                      {"offset", text.offset},
                      {"found_by", frame.found_by}});
  }
  nlohmann::json j = {{"pid", t.pid},
                      {"tid", t.tid},
                      {"thread", fmt::format("{:#x}", t.address)},
                      {"comm", t.comm},
                      {"name", t.name},
                      {"cpu", t.cpu ? nlohmann::json(*t.cpu) : nlohmann::json(nullptr)},
                      {"panicked", t.panicked},
                      {"frames", frames},
                      {"stopped", trace.stopped ? nlohmann::json(*trace.stopped) : nlohmann::json(nullptr)}};
  j["registers_from"] = trace.context ? nlohmann::json(trace.context->source) : nlohmann::json(nullptr);
  j["pcb"] = trace.context ? nlohmann::json(fmt::format("{:#x}", trace.context->pcb)) : nlohmann::json(nullptr);
  return j;
}

void print_backtrace(std::ostream& out, const Program& program, const freebsd_kernel::Thread& t,
                     const freebsd_kernel::ThreadBacktrace& trace) {
  std::string registers = trace.context ? fmt::format("{} {:#x}", trace.context->source, trace.context->pcb) : "?";
  out << fmt::format("PID: {:<7} TID: {:<8} THREAD: {:016x}  CPU: {}  COMMAND: \"{}\"{}\n", t.pid, t.tid, t.address,
                     t.cpu ? std::to_string(*t.cpu) : "-", t.name.empty() ? t.comm : t.name,
                     t.panicked ? "  (panicked)" : "");
  out << fmt::format("REGISTERS: {}\n", registers);
  for (size_t i = 0; i < trace.frames.size(); ++i) {
    const auto& frame = trace.frames[i];
    FrameText text = describe(program, frame);
    std::string where = text.function.empty() ? "(unknown)"
                        : text.offset ? fmt::format("{}+{}", text.function, text.offset)
                                      : text.function;
    out << fmt::format("{:>3} [{:016x}] {} at {:016x}\n", fmt::format("#{}", i), frame.sp, where, frame.pc);
  }
  if (trace.stopped) out << "bt: " << *trace.stopped << '\n';
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The threads bt shows: the panicking one by default, each thread on a CPU
// for -a, else those named by TID (or every thread of a PID).
Expected<std::vector<const freebsd_kernel::Thread*>> select(const freebsd_kernel::ThreadList& list,
                                                             const Arguments& args, bool* single) {
  std::vector<const freebsd_kernel::Thread*> selected;
  bool all_cpus = false;
  std::vector<std::string> words;
  for (const std::string& word : args) {
    if (word == "-a") all_cpus = true;
    else if (all_digits(word)) words.push_back(word);
    else return make_error(Errc::invalid_argument, "{}: not a TID or PID (usage: {})", word, kUsage);
  }
  if (all_cpus && !words.empty()) return make_error(Errc::invalid_argument, "-a takes no TID or PID (usage: {})", kUsage);
  *single = !all_cpus && words.size() <= 1;
  for (const auto& t : list.threads)
    if ((all_cpus && t.cpu) || (words.empty() && !all_cpus && t.panicked)) selected.push_back(&t);
  for (const std::string& word : words) {
    size_t before = selected.size();
    for (const auto& t : list.threads)
      if (word == std::to_string(t.tid)) selected.push_back(&t);
    if (selected.size() == before)
      for (const auto& t : list.threads)
        if (word == std::to_string(t.pid)) selected.push_back(&t);
    if (selected.size() == before) return make_error(Errc::not_found, "no thread or process {}", word);
    if (selected.size() - before > 1) *single = false;
  }
  if (selected.empty() && all_cpus) return make_error(Errc::not_found, "no thread is on a CPU");
  if (selected.empty())
    return make_error(Errc::not_found, "no thread has the tid dumptid names{}",
                      list.dump_tid ? fmt::format(" ({})", *list.dump_tid) : std::string(" (dumptid unreadable)"));
  return selected;
}

}  // namespace

Expected<void> show_freebsd_backtraces(CommandContext& ctx, const freebsd_kernel::FreeBsdKernel& kernel,
                                       const Arguments& args) {
  CORONER_TRY(list, freebsd_kernel::read_threads(kernel));
  bool single = true;
  CORONER_TRY(threads, select(list, args, &single));
  return show_each_task(ctx, threads.size(), single, [&](size_t i) -> Expected<nlohmann::json> {
    const freebsd_kernel::Thread& t = *threads[i];
    freebsd_kernel::ThreadBacktrace trace = freebsd_kernel::backtrace_thread(kernel, t);
    if (ctx.json()) return backtrace_json(ctx.program, t, trace);
    if (i > 0) ctx.out << '\n';
    print_backtrace(ctx.out, ctx.program, t, trace);
    return nlohmann::json();
  });
}

}  // namespace coroner::commands
