// struct and union: a type's layout (crash's `struct NAME [-o]`, with SIZE)
// or the contents of instances in memory (`struct NAME[.m1,m2] [-x|-d]
// [-l OFFSET] ADDRESS|SYMBOL [COUNT]`).
#include "analyzer/object.hpp"
#include "analyzer/type_format.hpp"
#include "analyzer/value_format.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/member_selection.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

// Far more instances than anyone reads at once: a typo, not a request.
constexpr uint64_t kMaxCount = 1 << 20;

struct StructRequest {
  std::string name;                  // "task_struct"
  std::vector<std::string> members;  // selected members, in order
  bool offsets = false;
  IntegerBase base = IntegerBase::natural;
  std::optional<std::string> target;  // address or symbol
  // -l: the target is the address of an embedded member (a list_head) at
  // this offset, given as a number or "struct.member".
  std::optional<std::string> list_offset;
  uint64_t count = 1;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) items.push_back(std::move(item));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

Expected<StructRequest> parse(const Arguments& args, std::string_view keyword) {
  StructRequest request;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "-o") request.offsets = true;
    else if (word == "-l") {
      if (i + 1 == args.size()) return make_error(Errc::invalid_argument, "-l needs an offset or struct.member");
      request.list_offset = args[++i];
    }
    else if (word == "-x") request.base = IntegerBase::hex;
    else if (word == "-d") request.base = IntegerBase::decimal;
    else if (word.starts_with("-")) return make_error(Errc::invalid_argument, "unknown option {}", word);
    else if (request.name.empty()) {
      const size_t dot = word.find('.');
      request.name = word.substr(0, dot);
      if (dot != std::string::npos) request.members = split_list(word.substr(dot + 1));
    } else if (!request.target) {
      request.target = word;
    } else {
      CORONER_TRY(count, parse_number(word, 10));
      if (count == 0 || count > kMaxCount) return make_error(Errc::invalid_argument, "bad count {}", word);
      request.count = count;
    }
  }
  if (request.name.empty())
    return make_error(Errc::invalid_argument,
                      "usage: {} NAME[.MEMBER,...] [-o] [-x|-d] [-l OFFSET] [ADDRESS|SYMBOL] [COUNT]", keyword);
  return request;
}

// "task_struct" as a struct (or union) tag or a typedef of one, in vmlinux
// or a module's debug info.
Expected<NamedType> find_aggregate(const Program& program, std::string_view keyword, std::string_view name) {
  auto tagged = find_named_type(program, fmt::format("{} {}", keyword, name));
  if (!tagged) tagged = find_named_type(program, name);
  if (!tagged) {
    if (tagged.error().code() == Errc::not_found)
      return make_error(Errc::not_found, "invalid data structure reference: {}", name);
    return tagged.error();
  }
  CORONER_TRY(under, symbols::underlying(tagged->type));
  tagged->type = symbols::QualifiedType{under, 0};
  return tagged;
}

// The selected members' layout entries (all when none are named).
Expected<std::vector<LayoutEntry>> selected_layout(const symbols::TypeGraph& graph, const symbols::Type& type,
                                                   const std::vector<std::string>& members) {
  if (members.empty()) return layout_of(type);
  std::vector<LayoutEntry> entries;
  for (const std::string& member : members) {
    CORONER_TRY(location, graph.member(symbols::QualifiedType{&type, 0}, member));
    LayoutEntry entry;
    entry.name = member;
    entry.type = location.type;
    entry.bit_offset = location.bit_offset;
    entry.bit_size = location.bit_size;
    entry.size = location.type.type->size().value_or(0);
    entries.push_back(std::move(entry));
  }
  return entries;
}

Expected<void> show_layout(CommandContext& ctx, const StructRequest& request, const NamedType& named,
                           std::optional<uint64_t> address) {
  const symbols::Type& type = *named.type.type;
  CORONER_TRY(entries, selected_layout(*named.graph, type, request.members));
  CORONER_TRY(size, type.size());
  if (ctx.json()) {
    nlohmann::json document = {{"type", type.spelling()}, {"size", size}, {"members", layout_json(entries)}};
    if (address) document["address"] = fmt::format("{:#x}", *address);
    ctx.emit(document);
    return {};
  }
  ctx.out << definition_text(type, entries, request.offsets, address.value_or(0));
  if (request.members.empty()) ctx.out << "SIZE: " << size << '\n';
  return {};
}

Expected<void> show_instances(CommandContext& ctx, const StructRequest& request, const NamedType& named,
                              uint64_t address) {
  const symbols::QualifiedType type = named.type;
  CORONER_TRY(size, type.type->size());
  nlohmann::json objects = nlohmann::json::array();
  for (uint64_t i = 0; i < request.count; ++i) {
    const uint64_t at = address + i * size;
    Object object = Object::reference(ctx.program, *named.graph, type, at);
    if (i > 0 && !ctx.json()) ctx.out << '\n';  // crash separates instances with a blank line
    if (request.members.empty()) {
      if (ctx.json()) {
        CORONER_TRY(value, value_json(object));
        objects.push_back({{"address", fmt::format("{:#x}", at)}, {"value", value}});
      } else {
        CORONER_TRY(text, format_value(object, request.base, 0));
        ctx.out << type.type->spelling() << ' ' << text << '\n';
      }
      continue;
    }
    nlohmann::json selected = nlohmann::json::object();
    for (const std::string& name : request.members) {
      CORONER_TRY(member, object.member(name));
      if (ctx.json()) {
        CORONER_TRY(value, value_json(member));
        selected[name] = value;
      } else {
        CORONER_TRY(text, format_value(member, request.base, 1));
        ctx.out << "  " << name << " = " << text << ",\n";
      }
    }
    if (ctx.json()) objects.push_back({{"address", fmt::format("{:#x}", at)}, {"value", selected}});
  }
  if (ctx.json()) {
    if (objects.size() == 1) {
      nlohmann::json document = objects[0];
      document["type"] = type.type->spelling();
      ctx.emit(document);
    } else {
      ctx.emit({{"type", type.type->spelling()}, {"objects", objects}});
    }
  }
  return {};
}

Expected<void> run_struct(CommandContext& ctx, const Arguments& args, std::string_view keyword) {
  CORONER_TRY(request, parse(args, keyword));
  CORONER_TRY(type, find_aggregate(ctx.program, keyword, request.name));
  if (!request.target) return show_layout(ctx, request, type, std::nullopt);
  CORONER_TRY(target, parse_address(ctx.program, *request.target));
  uint64_t address = target;
  if (request.list_offset) {
    auto offset = parse_member_offset(ctx.program, *request.list_offset);
    if (!offset) return make_error(Errc::invalid_argument, "invalid -l option: {}: {}", *request.list_offset,
                                   offset.error().message());
    if (*offset > target)
      return make_error(Errc::invalid_argument, "-l {}: offset {} lies below address {:#x}", *request.list_offset,
                        *offset, target);
    address = target - *offset;
  }
  if (request.offsets) return show_layout(ctx, request, type, address);
  return show_instances(ctx, request, type, address);
}

constexpr const char* kUsage =
    " NAME[.MEMBER[,MEMBER...]] [-o] [-x|-d] [-l OFFSET] [ADDRESS|SYMBOL] [COUNT]\n"
    "    -o           show member offsets (with ADDRESS: member addresses)\n"
    "    -x, -d       print integers in hex or decimal\n"
    "    -l OFFSET    ADDRESS points at the member (a list_head) at OFFSET, a number of\n"
    "                 bytes or STRUCT.MEMBER: the instance starts OFFSET bytes before it\n"
    "    ADDRESS      hex address or symbol of an instance to print; COUNT instances follow it";

}  // namespace

Command struct_command() {
  return {"struct", "show a structure's layout or contents", std::string("  struct") + kUsage +
              "\n  crash> struct fx_item -o\n  crash> struct task_struct.comm,pid init_task",
          [](CommandContext& ctx, const Arguments& args) { return run_struct(ctx, args, "struct"); }};
}

Command union_command() {
  return {"union", "show a union's layout or contents", std::string("  union") + kUsage + "\n  crash> union sigval -o",
          [](CommandContext& ctx, const Arguments& args) { return run_struct(ctx, args, "union"); }};
}

}  // namespace coroner::commands
