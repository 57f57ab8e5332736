// sym: symbol to address and address to symbol+offset, as crash's
// sym [-l] [-q STRING] NAME|ADDRESS.
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

struct SymLine {
  uint64_t address;
  const symbols::Symbol* symbol;
  uint64_t offset;
};

void print(CommandContext& ctx, const std::vector<SymLine>& lines) {
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const SymLine& l : lines)
      list.push_back({{"address", fmt::format("{:#x}", l.address)}, {"type", std::string(1, l.symbol->type)},
                      {"name", l.symbol->name}, {"offset", l.offset}});
    ctx.emit(lines.size() == 1 ? list[0] : nlohmann::json{{"symbols", list}});
    return;
  }
  for (const SymLine& l : lines) {
    std::string name = l.offset ? fmt::format("{}+{}", l.symbol->name, l.offset) : l.symbol->name;
    ctx.out << fmt::format("{:016x} ({}) {}\n", l.address, l.symbol->type, name);
  }
}

Expected<void> run_sym(CommandContext& ctx, const Arguments& args) {
  const symbols::SymbolTable& table = ctx.program.symbols();
  if (args.empty()) return make_error(Errc::invalid_argument, "usage: sym [-l] [-q STRING] NAME|ADDRESS");
  std::vector<SymLine> lines;
  if (args[0] == "-l") {
    for (const symbols::Symbol& s : table.by_address()) lines.push_back({s.address, &s, 0});
    print(ctx, lines);
    return {};
  }
  if (args[0] == "-q") {
    if (args.size() < 2) return make_error(Errc::invalid_argument, "-q needs a string");
    for (const symbols::Symbol* s : table.search(args[1])) lines.push_back({s->address, s, 0});
    print(ctx, lines);
    return {};
  }
  for (const std::string& word : args) {
    if (word.starts_with("-")) return make_error(Errc::invalid_argument, "unknown option {}", word);
    if (const symbols::Symbol* s = table.find(word)) {
      lines.push_back({s->address, s, 0});
      continue;
    }
    CORONER_TRY(address, parse_address(ctx.program, word));
    const symbols::Symbol* s = table.containing(address);
    if (!s) return make_error(Errc::not_found, "{:#x}: no symbol at or below this address", address);
    lines.push_back({address, s, address - s->address});
  }
  print(ctx, lines);
  return {};
}

}  // namespace

Command sym_command() {
  return {"sym", "translate a symbol to its address or an address to symbol+offset",
          "  sym [-l] [-q STRING] NAME|ADDRESS...\n"
          "    -l         list every symbol by address\n"
          "    -q STRING  symbols whose name contains STRING",
          run_sym};
}

}  // namespace coroner::commands
