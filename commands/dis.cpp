// dis: disassembly of kernel and module code with capstone, as crash's
// dis [-l] [-r] [-s] ADDRESS|SYMBOL [COUNT]: AT&T syntax on x86_64 (like
// gdb), branch and RIP-relative targets named <symbol+off>, source lines
// from the DWARF line table of vmlinux or the module (-l), the source text
// itself when the file can be found (-s).
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/disassembly.hpp"
#include "symbols/line_table.hpp"
#include "symbols/shared_library.hpp"

#include <capstone/capstone.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr uint64_t kMaxFunctionBytes = 1 << 20;  // a "function" larger than this is a bad symbol size
constexpr uint64_t kMaxCount = 100000;
constexpr uint64_t kMaxInstructionBytes = 15;    // x86's longest instruction

struct Instruction {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
  std::string mnemonic;
  std::string operands;
  std::optional<uint64_t> target;  // a branch target or RIP-relative address
  bool rip_relative = false;
};

std::string without_comma_spaces(std::string_view operands) {
  std::string out;
  for (size_t k = 0; k < operands.size(); ++k)
    if (!(operands[k] == ' ' && k > 0 && operands[k - 1] == ',')) out.push_back(operands[k]);
  return out;
}

// capstone's functions, loaded at the first `dis` rather than at every
// start (its 77,000 relocations; symbols/shared_library.hpp).
struct Capstone {
  decltype(&cs_open) open;
  decltype(&cs_option) option;
  decltype(&cs_close) close;
  decltype(&cs_strerror) strerror;
  decltype(&cs_malloc) malloc;
  decltype(&cs_free) free;
  decltype(&cs_disasm_iter) disasm_iter;
  decltype(&cs_insn_group) insn_group;

  static Expected<Capstone> load() {
    const char* soname = CORONER_CAPSTONE_SONAME;
    CORONER_TRY(open, symbols::library_function<decltype(cs_open)>(soname, "cs_open"));
    CORONER_TRY(option, symbols::library_function<decltype(cs_option)>(soname, "cs_option"));
    CORONER_TRY(close, symbols::library_function<decltype(cs_close)>(soname, "cs_close"));
    CORONER_TRY(strerror, symbols::library_function<decltype(cs_strerror)>(soname, "cs_strerror"));
    CORONER_TRY(malloc, symbols::library_function<decltype(cs_malloc)>(soname, "cs_malloc"));
    CORONER_TRY(free, symbols::library_function<decltype(cs_free)>(soname, "cs_free"));
    CORONER_TRY(disasm_iter, symbols::library_function<decltype(cs_disasm_iter)>(soname, "cs_disasm_iter"));
    CORONER_TRY(insn_group, symbols::library_function<decltype(cs_insn_group)>(soname, "cs_insn_group"));
    return Capstone{open, option, close, strerror, malloc, free, disasm_iter, insn_group};
  }
  static const Expected<Capstone>& get() {
    static const Expected<Capstone> loaded = load();
    return loaded;
  }
};

// A capstone handle for the dump's machine.
class Disassembler {
 public:
  static Expected<Disassembler> make(Machine machine) {
    const Expected<Capstone>& cs = Capstone::get();
    if (!cs) return make_error(cs.error().code(), "dis needs capstone: {}", cs.error().message());
    Disassembler d;
    d.cs_ = &*cs;
    d.machine_ = machine;
    cs_err opened = CS_ERR_ARCH;
    if (machine == Machine::x86_64) opened = cs->open(CS_ARCH_X86, CS_MODE_64, &d.handle_);
    else if (machine == Machine::aarch64) opened = cs->open(CS_ARCH_ARM64, CS_MODE_ARM, &d.handle_);
    if (opened != CS_ERR_OK)
      return make_error(Errc::unsupported, "capstone cannot disassemble {}: {}", machine_name(machine),
                        cs->strerror(opened));
    d.open_ = true;
    if (machine == Machine::x86_64) cs->option(d.handle_, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    cs->option(d.handle_, CS_OPT_DETAIL, CS_OPT_ON);
    return d;
  }
  Disassembler(Disassembler&& other) noexcept
      : cs_(other.cs_), handle_(other.handle_), open_(other.open_), machine_(other.machine_) {
    other.open_ = false;
  }
  ~Disassembler() {
    if (open_) cs_->close(&handle_);
  }

  // Decodes instructions from code (at address) until `count` are decoded or
  // the code ends; undecodable bytes become "(bad)" (x86) or ".inst" (arm64).
  std::vector<Instruction> decode(const std::vector<uint8_t>& code, uint64_t address, uint64_t count) const {
    std::vector<Instruction> out;
    cs_insn* insn = cs_->malloc(handle_);
    const uint8_t* cursor = code.data();
    size_t left = code.size();
    uint64_t pc = address;
    while (left > 0 && out.size() < count) {
      const uint64_t at = pc;
      if (!cs_->disasm_iter(handle_, &cursor, &left, &pc, insn)) {
        const size_t skip = machine_ == Machine::aarch64 ? std::min<size_t>(4, left) : 1;
        Instruction bad{at, std::vector<uint8_t>(cursor, cursor + skip), machine_ == Machine::aarch64 ? ".inst" : "(bad)", {}, {}, false};
        if (machine_ == Machine::aarch64 && skip == 4)
          bad.operands = fmt::format("{:#010x}", uint32_t(cursor[0]) | uint32_t(cursor[1]) << 8 |
                                                     uint32_t(cursor[2]) << 16 | uint32_t(cursor[3]) << 24);
        out.push_back(std::move(bad));
        cursor += skip;
        left -= skip;
        pc += skip;
        continue;
      }
      Instruction i{at, std::vector<uint8_t>(insn->bytes, insn->bytes + insn->size), insn->mnemonic, insn->op_str, {}, false};
      // gdb (and so crash) writes AT&T operands without a space after commas.
      if (machine_ == Machine::x86_64) i.operands = without_comma_spaces(i.operands);
      annotate(*insn, i);
      out.push_back(std::move(i));
    }
    cs_->free(insn, 1);
    return out;
  }

 private:
  Disassembler() = default;

  bool in_group(const cs_insn& insn, uint8_t group) const { return cs_->insn_group(handle_, &insn, group); }

  void annotate(const cs_insn& insn, Instruction& out) const {
    const bool branch = in_group(insn, CS_GRP_JUMP) || in_group(insn, CS_GRP_CALL);
    if (machine_ == Machine::x86_64) {
      const cs_x86& x86 = insn.detail->x86;
      for (uint8_t k = 0; k < x86.op_count; ++k) {
        const cs_x86_op& op = x86.operands[k];
        if (op.type == X86_OP_IMM && branch) out.target = static_cast<uint64_t>(op.imm);
        if (op.type == X86_OP_MEM && op.mem.base == X86_REG_RIP) {
          out.target = insn.address + insn.size + static_cast<uint64_t>(op.mem.disp);
          out.rip_relative = true;
        }
      }
      return;
    }
    const cs_arm64& arm = insn.detail->arm64;
    const bool address_of = insn.id == ARM64_INS_ADR || insn.id == ARM64_INS_ADRP;
    for (uint8_t k = 0; k < arm.op_count; ++k)
      if (arm.operands[k].type == ARM64_OP_IMM && (branch || address_of))
        out.target = static_cast<uint64_t>(arm.operands[k].imm);
  }

  const Capstone* cs_ = nullptr;
  csh handle_ = 0;
  bool open_ = false;
  Machine machine_ = Machine::unknown;
};

// Reads up to `size` bytes of code at address, stopping at the first page
// that cannot be read; an error only when not even the first byte can.
Expected<std::vector<uint8_t>> read_code(const Program& program, uint64_t address, uint64_t size) {
  const uint64_t page = program.arch().page_size();
  std::vector<uint8_t> code;
  while (code.size() < size) {
    const uint64_t at = address + code.size();
    const uint64_t chunk = std::min(size - code.size(), page - (at & (page - 1)));
    std::vector<uint8_t> bytes(chunk);
    auto read = program.memory().read(at, std::as_writable_bytes(std::span(bytes)));
    if (!read) {
      if (code.empty()) return read.error();
      break;
    }
    code.insert(code.end(), bytes.begin(), bytes.end());
  }
  return code;
}

// Source lines of the code being shown: the line tables of vmlinux and of
// modules, and the source files, each opened once per command.
class SourceLines {
 public:
  explicit SourceLines(const Program& program) : program_(program) {}

  std::optional<symbols::SourceLine> line(uint64_t address) {
    const KernelModule* module = module_at(address);
    const std::string path = module ? module->object_path() : program_.vmlinux_path();
    if (path.empty()) return std::nullopt;
    auto [it, fresh] = tables_.try_emplace(path);
    if (fresh) {
      auto opened = symbols::LineTable::open(path, module ? &module->sections : nullptr);
      if (opened) it->second = std::move(*opened);
      else problems_.push_back(opened.error().message());
    }
    if (!it->second) return std::nullopt;
    // vmlinux's line table has link-time addresses; a placed module's, run-time ones.
    return it->second->line_for_address(module ? address : address - static_cast<uint64_t>(program_.kaslr_offset()));
  }

  // The text of a source line, or nullopt when the file cannot be found: at
  // the path the compiler recorded, else by name next to the object file or
  // in its parent directory (where a module's source often sits).
  std::optional<std::string> text(uint64_t address, const symbols::SourceLine& where) {
    auto [it, fresh] = files_.try_emplace(where.file);
    if (fresh) it->second = load(address, where.file);
    if (!it->second || where.line == 0 || where.line > it->second->size()) return std::nullopt;
    return (*it->second)[where.line - 1];
  }

  const std::vector<std::string>& problems() const { return problems_; }

 private:
  const KernelModule* module_at(uint64_t address) const {
    if (auto list = program_.modules())
      for (const auto& m : **list)
        if (m->contains(address)) return m.get();
    return nullptr;
  }

  std::optional<std::vector<std::string>> load(uint64_t address, const std::string& file) const {
    namespace fs = std::filesystem;
    const KernelModule* module = module_at(address);
    const fs::path object = module ? module->object_path() : program_.options().vmlinux;
    const fs::path name = fs::path(file).filename();
    for (const fs::path& candidate : {fs::path(file), object.parent_path() / name, object.parent_path().parent_path() / name}) {
      std::ifstream in(candidate);
      if (!in) continue;
      std::vector<std::string> lines;
      for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
      return lines;
    }
    return std::nullopt;
  }

  const Program& program_;
  std::map<std::string, std::unique_ptr<symbols::LineTable>> tables_;
  std::map<std::string, std::optional<std::vector<std::string>>> files_;
  std::vector<std::string> problems_;
};

struct DisOptions {
  bool lines = false;
  bool reverse = false;
  bool source = false;
  std::string where;
  std::optional<uint64_t> count;
};

Expected<DisOptions> parse_options(const Arguments& args) {
  DisOptions o;
  std::vector<std::string> words;
  for (const std::string& a : args) {
    if (a == "-l") o.lines = true;
    else if (a == "-r") o.reverse = true;
    else if (a == "-s") o.source = true;
    else if (a.starts_with("-") && a.size() > 1 && !std::isdigit(static_cast<unsigned char>(a[1])))
      return make_error(Errc::invalid_argument, "unknown option {}", a);
    else words.push_back(a);
  }
  if (words.empty() || words.size() > 2)
    return make_error(Errc::invalid_argument, "usage: dis [-l] [-r] [-s] ADDRESS|SYMBOL [COUNT]");
  o.where = words[0];
  if (words.size() == 2) {
    CORONER_TRY(count, parse_number(words[1], 10));
    if (count == 0 || count > kMaxCount)
      return make_error(Errc::invalid_argument, "count {} is out of range (1 to {})", words[1], kMaxCount);
    o.count = count;
  }
  if (o.reverse && o.count) return make_error(Errc::invalid_argument, "-r takes no count: it shows the function up to ADDRESS");
  return o;
}

// "<fx_crash_level3+4>" for an address, "" when no symbol holds it.
std::string label(const Program& program, uint64_t address) {
  auto where = program.describe_address(address);
  if (!where) return {};
  return where->offset ? fmt::format("<{}+{}>", where->symbol->name, where->offset) : fmt::format("<{}>", where->symbol->name);
}

std::string instruction_text(const Program& program, const Instruction& i) {
  std::string text = i.operands.empty() ? i.mnemonic : fmt::format("{:<6} {}", i.mnemonic, i.operands);
  if (i.target) {
    std::string name = label(program, *i.target);
    if (i.rip_relative) text += fmt::format("        # {:#x}{}{}", *i.target, name.empty() ? "" : " ", name);
    else if (!name.empty()) text += " " + name;
  }
  return text;
}

// "0xffffffffc01bd000 <fx_crash_level3>:" padded to the next tab stop, as
// crash prints gdb's tab.
std::string prefix(const Program& program, uint64_t address) {
  std::string head = fmt::format("{:#x} {}:", address, label(program, address));
  head.append(8 - head.size() % 8, ' ');
  return head;
}

Expected<void> run_dis(CommandContext& ctx, const Arguments& args) {
  const Program& program = ctx.program;
  CORONER_TRY(options, parse_options(args));
  CORONER_TRY(address, parse_address(program, options.where));
  CORONER_TRY(disassembler, Disassembler::make(program.dump().machine()));

  auto where = program.describe_address(address);
  uint64_t start = address;
  uint64_t bytes = 0;
  uint64_t count = options.count.value_or(1);
  if (options.reverse || (!options.count && where && where->offset == 0 && where->symbol->is_function)) {
    if (!where) return make_error(Errc::not_found, "{:#x}: no function holds this address", address);
    start = where->symbol->address;
    // -r decodes past ADDRESS so that the instruction there is whole.
    uint64_t end = options.reverse ? address + kMaxInstructionBytes : start + where->symbol->size;
    if (end <= start || end - start > kMaxFunctionBytes)
      return make_error(Errc::corrupt, "{}: implausible function size {}", where->symbol->name, where->symbol->size);
    bytes = end - start;
    count = kMaxCount;
  } else {
    bytes = count * kMaxInstructionBytes;
  }
  CORONER_TRY(code, read_code(program, start, bytes));
  std::vector<Instruction> decoded = disassembler.decode(code, start, count);
  // -r ends with the instruction at ADDRESS, not bytes past it.
  if (options.reverse)
    while (decoded.size() > 1 && decoded.back().address > address) decoded.pop_back();

  SourceLines sources(program);
  const bool want_lines = options.lines || options.source;
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const Instruction& i : decoded) {
      std::string hex;
      for (uint8_t b : i.bytes) hex += fmt::format("{:02x}", b);
      nlohmann::json entry = {{"address", fmt::format("{:#x}", i.address)},
                              {"symbol", label(program, i.address)},
                              {"bytes", hex},
                              {"mnemonic", i.mnemonic},
                              {"operands", i.operands},
                              {"instruction", instruction_text(program, i)}};
      if (i.target) entry["target"] = fmt::format("{:#x}", *i.target);
      if (want_lines)
        if (auto line = sources.line(i.address)) {
          entry["file"] = line->file;
          entry["line"] = line->line;
          if (options.source)
            if (auto text = sources.text(i.address, *line)) entry["source"] = *text;
        }
      list.push_back(std::move(entry));
    }
    ctx.emit({{"instructions", list}});
    return {};
  }

  std::optional<std::pair<std::string, uint32_t>> shown;
  bool told_missing = false;
  for (const Instruction& i : decoded) {
    if (want_lines)
      if (auto line = sources.line(i.address); line && shown != std::pair(line->file, line->line)) {
        std::optional<std::string> text;
        if (options.source) text = sources.text(i.address, *line);
        if (options.source && !text && !told_missing) {
          ctx.out << fmt::format("(source {} not found: showing file and line only)\n", line->file);
          told_missing = true;
        }
        if (text) ctx.out << fmt::format("{}: {}\n{:>6}  {}\n", line->file, line->line, line->line, *text);
        else ctx.out << fmt::format("{}: {}\n", line->file, line->line);
        shown = std::pair(line->file, line->line);
      }
    ctx.out << prefix(program, i.address) << instruction_text(program, i) << '\n';
  }
  if (want_lines && !shown)
    for (const std::string& problem : sources.problems()) ctx.out << fmt::format("(no source lines: {})\n", problem);
  return {};
}

}  // namespace

Expected<DecodedInstruction> decode_instruction(const Program& program, uint64_t address) {
  CORONER_TRY(disassembler, Disassembler::make(program.dump().machine()));
  CORONER_TRY(code, read_code(program, address, kMaxInstructionBytes));
  std::vector<Instruction> decoded = disassembler.decode(code, address, 1);
  if (decoded.empty()) return make_error(Errc::corrupt, "{:#x}: no instruction could be decoded", address);
  return DecodedInstruction{address, label(program, address), instruction_text(program, decoded.front()),
                            decoded.front().bytes};
}

Command dis_command() {
  return {"dis", "disassemble kernel or module code",
          "  dis [-l] [-r] [-s] ADDRESS|SYMBOL [COUNT]\n"
          "    (none)  COUNT instructions from ADDRESS (default 1); a function's name or start\n"
          "            address without COUNT shows the whole function\n"
          "    -l      show the source file and line of the instructions\n"
          "    -r      show the function from its start up to ADDRESS\n"
          "    -s      show the source text with the instructions, when the file is found\n"
          "  crash> dis -l fx_crash_level3\n"
          "  crash> dis -r fx_write+0x20",
          run_dis};
}

}  // namespace coroner::commands
