#include "commands/stack_format.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/unwind/frame_variables.hpp"
#include "analyzer/unwind/unwinder.hpp"

#include <algorithm>
#include <map>
#include <ostream>

namespace coroner::commands {

namespace {

// -f stops at this much memory between two frames: more means the next
// frame is on another stack (an IRQ or exception stack switch).
constexpr uint64_t kMaxFrameData = 64 * 1024;

std::optional<uint64_t> register_value(const Program& program, const unwind::RegisterSet& registers,
                                       std::string_view name) {
  const auto& names = program.arch().register_names();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return registers.get(static_cast<size_t>(it - names.begin()));
}

// A member of the pt_regs a frame's registers came from that is not in the
// NT_PRSTATUS set (arm64's orig_x0, syscallno).
std::optional<uint64_t> pt_regs_member(const Program& program, const unwind::PhysicalFrame& frame,
                                       std::string_view member) {
  if (!frame.pt_regs) return std::nullopt;
  auto offset = program.member_offset("struct pt_regs", member);
  if (!offset) return std::nullopt;
  auto value = program.memory().read_u64(*frame.pt_regs + *offset);
  return value ? std::optional(*value) : std::nullopt;
}

// "name+off" of a symbol whose extent holds address (crash's decimal
// offsets unless hex), or nullopt when the address is in no symbol.
std::optional<SymbolicAddress> symbol_holding(const Program& program, uint64_t address) {
  auto symbolic = program.describe_address(address);
  if (!symbolic || !symbols::is_text_or_data(symbolic->symbol->type)) return std::nullopt;
  uint64_t size = symbolic->symbol->size;
  if (size ? symbolic->offset >= size : symbolic->offset != 0) return std::nullopt;
  return symbolic;
}

std::string name_plus_offset(const std::string& name, uint64_t offset, bool hex) {
  return hex ? fmt::format("{}+{:#x}", name, offset) : fmt::format("{}+{}", name, offset);
}

std::string hex_or_unknown(std::optional<uint64_t> value, int width) {
  return value ? fmt::format("{:0{}x}", *value, width) : std::string(static_cast<size_t>(width), '?');
}

struct RegisterCell {
  std::string_view label;  // as printed: "RIP", "R8", "X29"
  std::optional<uint64_t> value;
  int width = 16;
  bool aligned = true;  // right-aligned to three characters (" R8" under "RAX")
};

void print_row(std::ostream& out, const std::vector<RegisterCell>& cells) {
  std::string line = "   ";
  for (const RegisterCell& c : cells)
    line += fmt::format(" {:>{}}: {} ", c.label, c.aligned ? 3 : 0, hex_or_unknown(c.value, c.width));
  while (line.ends_with(' ')) line.pop_back();
  out << line << '\n';
}

// x86_64: crash's seven rows, RIP RSP RFLAGS first, ORIG_RAX CS SS last.
void print_x86_64_registers(std::ostream& out, const Program& program, const unwind::RegisterSet& regs) {
  static constexpr std::string_view kRows[][3][2] = {
      {{"RIP", "rip"}, {"RSP", "rsp"}, {"RFLAGS", "eflags"}},    {{"RAX", "rax"}, {"RBX", "rbx"}, {"RCX", "rcx"}},
      {{"RDX", "rdx"}, {"RSI", "rsi"}, {"RDI", "rdi"}},          {{"RBP", "rbp"}, {"R8", "r8"}, {"R9", "r9"}},
      {{"R10", "r10"}, {"R11", "r11"}, {"R12", "r12"}},          {{"R13", "r13"}, {"R14", "r14"}, {"R15", "r15"}},
      {{"ORIG_RAX", "orig_rax"}, {"CS", "cs"}, {"SS", "ss"}}};
  for (const auto& row : kRows) {
    std::vector<RegisterCell> cells;
    for (const auto& [label, name] : row) {
      bool segment = name == "cs" || name == "ss";
      cells.push_back({label, register_value(program, regs, name), name == "eflags" ? 8 : segment ? 4 : 16, !segment});
    }
    print_row(out, cells);
  }
}

// arm64: PC and LR (with their symbols in kernel mode), SP and PSTATE,
// X29 down to X0 three a row, then ORIG_X0 and SYSCALLNO from the pt_regs.
void print_aarch64_registers(std::ostream& out, const Program& program, const unwind::PhysicalFrame& frame) {
  const arch::Arch& arch = program.arch();
  const unwind::RegisterSet& regs = frame.registers;
  auto pc = register_value(program, regs, "pc");
  auto lr = register_value(program, regs, "x30");
  auto sp = register_value(program, regs, "sp");
  auto pstate = register_value(program, regs, "pstate");
  if (frame.user_mode) {
    print_row(out, {{"PC", pc}, {"LR", lr}, {"SP", sp}});
  } else {
    auto with_symbol = [&](std::string_view label, std::optional<uint64_t> value) {
      std::string line = fmt::format("    {:>3}: {}", label, hex_or_unknown(value, 16));
      if (value)
        if (auto s = program.describe_address(arch.strip_pointer_auth(*value))) line += fmt::format("  [{}]", s->text());
      out << line << '\n';
    };
    with_symbol("PC", pc);
    with_symbol("LR", lr);
    print_row(out, {{"SP", sp}, {"PSTATE", pstate, 8}});
  }
  static constexpr std::string_view kLabels[] = {"X0",  "X1",  "X2",  "X3",  "X4",  "X5",  "X6",  "X7",
                                                 "X8",  "X9",  "X10", "X11", "X12", "X13", "X14", "X15",
                                                 "X16", "X17", "X18", "X19", "X20", "X21", "X22", "X23",
                                                 "X24", "X25", "X26", "X27", "X28", "X29"};
  for (int first = 29; first >= 0; first -= 3) {
    std::vector<RegisterCell> cells;
    for (int r = first; r > first - 3 && r >= 0; --r) cells.push_back({kLabels[r], regs.get(static_cast<size_t>(r))});
    print_row(out, cells);
  }
  auto orig_x0 = pt_regs_member(program, frame, "orig_x0");
  auto syscallno = pt_regs_member(program, frame, "syscallno");
  if (orig_x0 || syscallno)
    out << fmt::format("    ORIG_X0: {}  SYSCALLNO: {:x}  PSTATE: {}\n", hex_or_unknown(orig_x0, 16),
                       syscallno.value_or(0), hex_or_unknown(pstate, 8));
}

void print_registers(std::ostream& out, const Program& program, const unwind::PhysicalFrame& frame) {
  if (program.arch().machine() == Machine::aarch64) print_aarch64_registers(out, program, frame);
  else print_x86_64_registers(out, program, frame.registers);
}

nlohmann::json registers_json(const Program& program, const unwind::PhysicalFrame& frame) {
  nlohmann::json registers = nlohmann::json::object();
  const auto& names = program.arch().register_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (auto value = frame.registers.get(i)) registers[std::string(names[i])] = fmt::format("{:#x}", *value);
  if (program.arch().machine() == Machine::aarch64)
    for (std::string_view member : {"orig_x0", "syscallno"})
      if (auto value = pt_regs_member(program, frame, member)) registers[std::string(member)] = fmt::format("{:#x}", *value);
  return registers;
}

// The stack memory of physical frame `index`: from its sp up to the next
// frame's registers (its pt_regs, else its sp), or nothing when the next
// frame is on another stack or there is none.
std::optional<std::pair<uint64_t, uint64_t>> frame_data_range(const unwind::StackTrace& trace, size_t index) {
  if (index + 1 >= trace.physical.size()) return std::nullopt;
  const unwind::PhysicalFrame& frame = trace.physical[index];
  const unwind::PhysicalFrame& next = trace.physical[index + 1];
  uint64_t end = next.pt_regs && *next.pt_regs > frame.sp ? *next.pt_regs : next.sp;
  if (end <= frame.sp || end - frame.sp > kMaxFrameData) return std::nullopt;
  return std::pair{frame.sp, end & ~uint64_t{7}};
}

Expected<std::vector<uint64_t>> read_words(const Program& program, uint64_t from, uint64_t to) {
  std::vector<uint64_t> words((to - from) / 8);
  CORONER_CHECK(program.memory().read(from, std::as_writable_bytes(std::span(words))));
  return words;
}

std::string data_word(const Program& program, uint64_t word, const BacktraceOptions& options) {
  if (options.symbolic_data)
    if (auto s = symbol_holding(program, word))
      return fmt::format("{:<16}", s->offset ? name_plus_offset(s->symbol->name, s->offset, options.hex_offsets)
                                             : s->symbol->name);
  return fmt::format("{:016x}", word);
}

void print_frame_data(std::ostream& out, const Program& program, const unwind::StackTrace& trace, size_t physical,
                      const BacktraceOptions& options) {
  auto range = frame_data_range(trace, physical);
  if (!range) return;
  auto words = read_words(program, range->first, range->second);
  if (!words) {
    out << fmt::format("    (frame data: {})\n", words.error().message());
    return;
  }
  for (size_t i = 0; i < words->size(); i += 2) {
    std::string line = fmt::format("    {:x}: {}", range->first + 8 * i, data_word(program, (*words)[i], options));
    if (i + 1 < words->size()) line += " " + data_word(program, (*words)[i + 1], options);
    out << line << '\n';
  }
}

std::string frame_name(const unwind::StackFrame& frame, const BacktraceOptions& options) {
  std::string name = !frame.function.empty() ? frame.function
                     : !frame.symbol.empty() ? frame.symbol
                                             : fmt::format("{:x}", frame.pc);
  if (options.symbol_offsets && !frame.inlined && !frame.symbol.empty())
    return name_plus_offset(frame.symbol, frame.offset, options.hex_offsets);
  return name;
}

// THREAD_SIZE: the size of init_stack, sized by it in the kernel's own
// declaration (union thread_union is often absent from DWARF).
Expected<uint64_t> thread_size(const Program& program) {
  auto stack = kernel_object(program, "init_stack");
  if (!stack) return stack.error().context("the kernel stack size (init_stack)");
  return stack->byte_size();
}

// The words of the stack [from, to) that are addresses inside a function.
Expected<StackScan> scan_stack(const Program& program, const linux_kernel::Task& task, const TaskBacktrace& backtrace,
                               BacktraceOptions::Scan kind) {
  CORONER_TRY(stack_offset, program.member_offset("struct task_struct", "stack"));
  CORONER_TRY(bottom, program.memory().read_u64(task.address + stack_offset));
  CORONER_TRY(size, thread_size(program));
  StackScan scan{bottom, bottom + size, {}};
  if (kind == BacktraceOptions::Scan::from_sp && !backtrace.trace.physical.empty()) {
    uint64_t sp = backtrace.trace.physical.front().sp;
    if (sp >= scan.from && sp < scan.to) scan.from = sp & ~uint64_t{7};
  }
  auto words = read_words(program, scan.from, scan.to);
  if (!words) return words.error().context(fmt::format("stack of PID {}", task.pid));
  for (size_t i = 0; i < words->size(); ++i) {
    auto s = symbol_holding(program, (*words)[i]);
    if (s && s->symbol->is_function) scan.hits.push_back({scan.from + 8 * i, (*words)[i], *s});
  }
  return scan;
}

void print_scan(std::ostream& out, const TaskBacktrace& backtrace, const StackScan& scan,
                const BacktraceOptions& options) {
  if (!backtrace.trace.frames.empty()) {
    const unwind::StackFrame& start = backtrace.trace.frames.front();
    out << fmt::format("      START: {} at {:x}\n", frame_name(start, options), start.pc);
  }
  out << fmt::format("  (stack scan {:x}..{:x}: text addresses found on the stack, possibly stale; not a backtrace)\n",
                     scan.from, scan.to);
  for (const StackScanHit& hit : scan.hits) {
    std::string name = options.symbol_offsets
                           ? name_plus_offset(hit.symbol.symbol->name, hit.symbol.offset, options.hex_offsets)
                           : hit.symbol.symbol->name;
    std::string module = hit.symbol.module.empty() ? "" : fmt::format(" [{}]", hit.symbol.module);
    out << fmt::format("  [{:x}] {} at {:x}{}\n", hit.address, name, hit.value, module);
  }
}

// bt -v: the variables of each logical frame, computed once per physical
// frame (its inline chain shares one DWARF lookup).
class FrameVariableCache {
 public:
  FrameVariableCache(const Program& program, const unwind::StackTrace& trace) : program_(program), trace_(trace) {}

  // The variables of trace.frames[index]; nullptr when DWARF has none.
  const unwind::FunctionValues* of(size_t index) {
    const size_t physical = trace_.frames[index].physical;
    size_t first = index;
    while (first > 0 && trace_.frames[first - 1].physical == physical) --first;
    auto [slot, fresh] = cache_.try_emplace(physical);
    if (fresh) slot->second = unwind::frame_variable_values(program_, trace_, physical);
    return index - first < slot->second.size() ? &slot->second[index - first] : nullptr;
  }

 private:
  const Program& program_;
  const unwind::StackTrace& trace_;
  std::map<size_t, std::vector<unwind::FunctionValues>> cache_;
};

void print_variables(std::ostream& out, const unwind::FunctionValues* values) {
  if (!values) return;
  for (const unwind::VariableValue& v : values->variables) {
    std::string text = v.value ? *v.value : fmt::format("<{}>", v.problem);
    // Structs print over several lines: keep them under the variable.
    for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1)) text.insert(at + 1, "    ");
    std::string type = v.type.empty() ? "" : fmt::format(" ({})", v.type);
    out << fmt::format("    {}{} = {}{}\n", v.parameter ? "" : "local ", v.name, text, v.value ? type : "");
  }
}

nlohmann::json variables_json(const unwind::FunctionValues* values) {
  nlohmann::json list = nlohmann::json::array();
  if (!values) return list;
  for (const unwind::VariableValue& v : values->variables)
    list.push_back({{"name", v.name},
                    {"kind", v.parameter ? "parameter" : "local"},
                    {"type", v.type},
                    {"value", v.value ? nlohmann::json(*v.value) : nlohmann::json(nullptr)},
                    {"address", v.address ? nlohmann::json(fmt::format("{:#x}", *v.address)) : nlohmann::json(nullptr)},
                    {"problem", v.value ? nlohmann::json(nullptr) : nlohmann::json(v.problem)}});
  return list;
}

}  // namespace

TaskBacktrace backtrace_task(const Program& program, const linux_kernel::Task& task, const BacktraceOptions& options,
                             std::optional<uint32_t> cpu) {
  TaskBacktrace result;
  result.task = task;
  if (cpu) result.cpu = cpu;
  else if (auto own = linux_kernel::task_cpu(program, task.address)) result.cpu = *own;
  auto start = linux_kernel::task_start_frame(program, task.address);
  if (!start) {
    result.error = start.error();
  } else {
    // Inline frames always; their files and lines where the output has them.
    result.trace = unwind::unwind(program, unwind::unwinder_of(program), *start,
                                  {.source_lines = options.find_lines || options.lines});
  }
  if (options.scan != BacktraceOptions::Scan::none) result.scan = scan_stack(program, task, result, options.scan);
  return result;
}

void print_backtrace(std::ostream& out, const Program& program, const TaskBacktrace& backtrace,
                     const BacktraceOptions& options) {
  const linux_kernel::Task& task = backtrace.task;
  out << fmt::format("PID: {:<7}  TASK: {:x}  CPU: {:<3}  COMMAND: \"{}\"\n", task.pid, task.address,
                     backtrace.cpu ? std::to_string(*backtrace.cpu) : std::string("?"), task.comm);
  if (backtrace.scan) {
    if (*backtrace.scan) print_scan(out, backtrace, **backtrace.scan, options);
    else out << "bt: " << backtrace.scan->error().message() << '\n';
    return;
  }
  if (backtrace.error) {
    out << "bt: " << backtrace.error->message() << '\n';
    return;
  }
  const unwind::StackTrace& trace = backtrace.trace;
  bool x86_64 = program.arch().machine() == Machine::x86_64;
  FrameVariableCache variables(program, trace);
  for (size_t i = 0; i < trace.frames.size(); ++i) {
    const unwind::StackFrame& frame = trace.frames[i];
    const unwind::PhysicalFrame& physical = trace.physical.at(frame.physical);
    bool first_of_physical = i == 0 || trace.frames[i - 1].physical != frame.physical;
    bool last_of_physical = i + 1 == trace.frames.size() || trace.frames[i + 1].physical != frame.physical;
    if (first_of_physical && physical.user_mode) {
      // The user-mode registers where the kernel stack begins: crash shows
      // them under the entry frame, not as a frame.
      print_registers(out, program, physical);
      continue;
    }
    if (first_of_physical && physical.pt_regs) {
      if (x86_64) {
        auto s = program.describe_address(physical.pc);
        std::string where = s ? name_plus_offset(s->symbol->name, s->offset, options.hex_offsets)
                              : fmt::format("{:x}", physical.pc);
        out << fmt::format("    [exception RIP: {}]\n", where);
      }
      print_registers(out, program, physical);
    }
    std::string module = frame.module.empty() ? "" : fmt::format(" [{}]", frame.module);
    out << fmt::format("{:>3} [{:x}] {} at {:x}{}{}\n", fmt::format("#{}", i), frame.sp, frame_name(frame, options),
                       frame.pc, module, frame.inlined ? " (inlined)" : "");
    if (options.lines && !frame.file.empty()) out << fmt::format("    {}: {}\n", frame.file, frame.line);
    if (options.variables) print_variables(out, variables.of(i));
    if (last_of_physical && (options.frame_data || options.symbolic_data))
      print_frame_data(out, program, trace, frame.physical, options);
  }
  if (trace.stopped) out << "bt: " << trace.stopped->message() << '\n';
}

nlohmann::json backtrace_json(const Program& program, const TaskBacktrace& backtrace, const BacktraceOptions& options) {
  const linux_kernel::Task& task = backtrace.task;
  nlohmann::json result = {{"pid", task.pid},
                           {"task", fmt::format("{:#x}", task.address)},
                           {"cpu", backtrace.cpu ? nlohmann::json(*backtrace.cpu) : nlohmann::json(nullptr)},
                           {"command", task.comm}};
  if (backtrace.error) result["error"] = backtrace.error->message();
  if (backtrace.scan) {
    if (!*backtrace.scan) {
      result["error"] = backtrace.scan->error().message();
      return result;
    }
    const StackScan& scan = **backtrace.scan;
    nlohmann::json hits = nlohmann::json::array();
    for (const StackScanHit& hit : scan.hits)
      hits.push_back({{"address", fmt::format("{:#x}", hit.address)},
                      {"value", fmt::format("{:#x}", hit.value)},
                      {"symbol", hit.symbol.symbol->name},
                      {"offset", hit.symbol.offset},
                      {"module", hit.symbol.module}});
    result["scan"] = {{"from", fmt::format("{:#x}", scan.from)}, {"to", fmt::format("{:#x}", scan.to)}, {"hits", hits}};
    return result;
  }
  const unwind::StackTrace& trace = backtrace.trace;
  FrameVariableCache variables(program, trace);
  nlohmann::json frames = nlohmann::json::array();
  for (size_t i = 0; i < trace.frames.size(); ++i) {
    const unwind::StackFrame& frame = trace.frames[i];
    const unwind::PhysicalFrame& physical = trace.physical.at(frame.physical);
    bool first_of_physical = i == 0 || trace.frames[i - 1].physical != frame.physical;
    bool last_of_physical = i + 1 == trace.frames.size() || trace.frames[i + 1].physical != frame.physical;
    bool exception = first_of_physical && (physical.pt_regs.has_value() || physical.user_mode);
    nlohmann::json entry = {{"index", i},
                            {"function", frame.function},
                            {"symbol", frame.symbol},
                            {"offset", frame.offset},
                            {"pc", fmt::format("{:#x}", frame.pc)},
                            {"sp", fmt::format("{:#x}", frame.sp)},
                            {"file", frame.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(frame.file)},
                            {"line", frame.line ? nlohmann::json(frame.line) : nlohmann::json(nullptr)},
                            {"inlined", frame.inlined},
                            {"module", frame.module},
                            {"exception", exception},
                            {"user", physical.user_mode}};
    if (exception) entry["registers"] = registers_json(program, physical);
    if (physical.pt_regs) entry["pt_regs"] = fmt::format("{:#x}", *physical.pt_regs);
    if (options.variables) entry["variables"] = variables_json(variables.of(i));
    if (last_of_physical && (options.frame_data || options.symbolic_data))
      if (auto range = frame_data_range(trace, frame.physical))
        if (auto words = read_words(program, range->first, range->second)) {
          nlohmann::json data = nlohmann::json::array();
          for (uint64_t w : *words) data.push_back(fmt::format("{:#x}", w));
          entry["data"] = std::move(data);
        }
    frames.push_back(std::move(entry));
  }
  result["frames"] = std::move(frames);
  result["stopped"] = trace.stopped ? nlohmann::json(trace.stopped->message()) : nlohmann::json(nullptr);
  return result;
}

}  // namespace coroner::commands
