// sym: symbol to address and address to symbol+offset, as crash's
// sym [-l] [-m MODULE] [-q STRING] NAME|ADDRESS, over vmlinux and the
// loaded modules ("name+off [module]").
#include "analyzer/kernel_data_symbols.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

struct SymLine {
  uint64_t address;
  const symbols::Symbol* symbol;
  uint64_t offset;
  std::string module;  // "" for vmlinux
};

void print(CommandContext& ctx, const std::vector<SymLine>& lines) {
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const SymLine& l : lines) {
      nlohmann::json entry = {{"address", fmt::format("{:#x}", l.address)}, {"type", std::string(1, l.symbol->type)},
                              {"name", l.symbol->name}, {"offset", l.offset}};
      if (!l.module.empty()) entry["module"] = l.module;
      if (l.symbol->section == kFoundDataSection) entry["found_by"] = data_symbol_method(l.symbol->name);
      list.push_back(std::move(entry));
    }
    ctx.emit(lines.size() == 1 ? list[0] : nlohmann::json{{"symbols", list}});
    return;
  }
  for (const SymLine& l : lines) {
    SymbolicAddress where{l.symbol, l.offset, l.module};
    ctx.out << fmt::format("{:016x} ({}) {}\n", l.address, l.symbol->type, where.text());
    // A global kallsyms lack, found from code and memory: say how, once.
    if (l.symbol->section == kFoundDataSection && lines.size() == 1)
      ctx.out << fmt::format("  (not in kallsyms; found as {})\n", data_symbol_method(l.symbol->name));
  }
}

// The modules the program knows; none when they cannot be read (a kernel
// without modules, or without the DWARF to read them).
std::vector<const KernelModule*> known_modules(const Program& program) {
  std::vector<const KernelModule*> out;
  if (auto list = program.modules())
    for (const auto& m : **list) out.push_back(m.get());
  return out;
}

void add_module_symbols(std::vector<SymLine>& lines, const KernelModule& module, std::string_view substring = {}) {
  for (const symbols::Symbol& s : module.symbols())
    if (substring.empty() || s.name.find(substring) != std::string::npos) lines.push_back({s.address, &s, 0, module.name});
}

// sym -m MODULE: crash brackets the module's symbols with its bounds.
Expected<void> list_module(CommandContext& ctx, std::string_view name) {
  if (auto list = ctx.program.modules(); !list) return list.error();
  const KernelModule* module = ctx.program.find_module(name);
  if (!module) return make_error(Errc::not_found, "{}: no such module loaded", name);
  if (module->object_path().empty())
    return make_error(Errc::not_found, "module {}: no symbols: {}", module->name,
                      module->problem.empty() ? "no object file loaded (mod -s)" : module->problem);
  std::vector<SymLine> lines;
  add_module_symbols(lines, *module);
  if (ctx.json()) {
    print(ctx, lines);
    return {};
  }
  ctx.out << fmt::format("{:016x} MODULE START: {}\n", module->base, module->name);
  print(ctx, lines);
  ctx.out << fmt::format("{:016x} MODULE END: {}\n", module->base + module->size, module->name);
  return {};
}

Expected<void> run_sym(CommandContext& ctx, const Arguments& args) {
  const Program& program = ctx.program;
  if (args.empty()) return make_error(Errc::invalid_argument, "usage: sym [-l] [-m MODULE] [-q STRING] NAME|ADDRESS");
  CORONER_TRY(symbol_table, program.symbol_table());
  const symbols::SymbolTable& table = *symbol_table;
  std::vector<SymLine> lines;
  if (args[0] == "-l") {
    for (const symbols::Symbol& s : table.by_address()) lines.push_back({s.address, &s, 0, {}});
    for (const KernelModule* m : known_modules(program)) add_module_symbols(lines, *m);
    print(ctx, lines);
    return {};
  }
  if (args[0] == "-m") {
    if (args.size() != 2) return make_error(Errc::invalid_argument, "-m needs a module name");
    return list_module(ctx, args[1]);
  }
  if (args[0] == "-q") {
    if (args.size() < 2) return make_error(Errc::invalid_argument, "-q needs a string");
    for (const symbols::Symbol* s : table.search(args[1])) lines.push_back({s->address, s, 0, {}});
    for (const KernelModule* m : known_modules(program)) add_module_symbols(lines, *m, args[1]);
    print(ctx, lines);
    return {};
  }
  for (const std::string& word : args) {
    if (word.starts_with("-")) return make_error(Errc::invalid_argument, "unknown option {}", word);
    if (const symbols::Symbol* s = table.find(word)) {
      lines.push_back({s->address, s, 0, {}});
      continue;
    }
    bool found = false;
    for (const KernelModule* m : known_modules(program))
      if (const symbols::Symbol* s = m->find_symbol(word); s && !found) {
        lines.push_back({s->address, s, 0, m->name});
        found = true;
      }
    if (found) continue;
    CORONER_TRY(address, parse_address(program, word));
    auto where = program.describe_address(address);
    if (!where) return make_error(Errc::not_found, "{:#x}: no symbol at or below this address", address);
    lines.push_back({address, where->symbol, where->offset, where->module});
  }
  print(ctx, lines);
  return {};
}

}  // namespace

Command sym_command() {
  return {"sym", "translate a symbol to its address or an address to symbol+offset",
          "  sym [-l] [-m MODULE] [-q STRING] NAME|ADDRESS...\n"
          "    -l         list every symbol by address (vmlinux, then each module)\n"
          "    -m MODULE  list the symbols of a loaded module\n"
          "    -q STRING  symbols whose name contains STRING\n"
          "  crash> sym panic\n"
          "  crash> sym -q fx_crash",
          run_sym};
}

}  // namespace coroner::commands
