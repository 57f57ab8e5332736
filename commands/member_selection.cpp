#include "commands/member_selection.hpp"

#include "analyzer/expression.hpp"
#include "commands/arguments.hpp"

namespace coroner::commands {

namespace {

bool is_aggregate(symbols::QualifiedType type) {
  auto u = symbols::underlying(type);
  return u && ((*u)->kind() == symbols::TypeKind::structure || (*u)->kind() == symbols::TypeKind::union_type);
}

}  // namespace

Expected<NamedType> find_named_type(const Program& program, std::string_view name) {
  if (name.empty()) return make_error(Errc::invalid_argument, "empty structure name");
  auto graph = kernel_types(program);
  if (graph) {
    if (auto type = (*graph)->find_type(name); type && is_aggregate(*type))
      return NamedType{*graph, *type, std::string(name)};
  }
  // Types vmlinux lacks may come from a module's debug info.
  if (auto modules = program.modules())
    for (const auto& module : **modules) {
      if (!module->has_types()) continue;
      auto debug = module->debug_info();
      if (!debug) continue;
      if (auto type = (*debug)->types().find_type(name); type && is_aggregate(*type))
        return NamedType{&(*debug)->types(), *type, std::string(name)};
    }
  if (!graph) return graph.error();
  return make_error(Errc::not_found, "no struct or union named {} in vmlinux or the modules' debug info", name);
}

Expected<uint64_t> parse_member_offset(const Program& program, std::string_view text) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return parse_number(text, 10);
  CORONER_TRY(type, find_named_type(program, text.substr(0, dot)));
  CORONER_TRY(location, type.graph->member(type.type, text.substr(dot + 1)));
  if (location.bit_size || location.bit_offset % 8)
    return make_error(Errc::invalid_argument, "{} is a bitfield: it has no byte offset", text);
  return location.bit_offset / 8;
}

Expected<MemberSelection> parse_member_selection(const Program& program, std::string_view spec, IntegerBase base) {
  MemberSelection selection;
  selection.base = base;
  size_t dot = spec.find('.');
  CORONER_TRY(type, find_named_type(program, spec.substr(0, dot)));
  selection.type = std::move(type);
  if (dot == std::string_view::npos) return selection;
  std::string_view rest = spec.substr(dot + 1);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string member(rest.substr(0, comma));
    if (member.empty()) return make_error(Errc::invalid_argument, "empty member name in {}", spec);
    // Checked now, so that a typo fails before the walk.
    if (auto found = selection.type.graph->member(selection.type.type, member); !found) return found.error();
    selection.members.push_back(std::move(member));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return selection;
}

Expected<ShownMembers> show_members(const Program& program, const MemberSelection& selection, uint64_t address) {
  ShownMembers shown;
  Object object = Object::reference(program, *selection.type.graph, selection.type.type, address);
  if (selection.members.empty()) {
    CORONER_TRY(text, format_value(object, selection.base, 0));
    CORONER_TRY(json, value_json(object));
    shown.text = fmt::format("{} {}\n", selection.type.type.type->spelling(), text);
    shown.json = std::move(json);
    return shown;
  }
  for (const std::string& path : selection.members) {
    CORONER_TRY(member, object.member(path));
    CORONER_TRY(text, format_value(member, selection.base, 1));
    CORONER_TRY(json, value_json(member));
    shown.text += fmt::format("  {} = {},\n", path, text);
    shown.json[path] = std::move(json);
  }
  return shown;
}

Expected<uint64_t> parse_start_address(const Program& program, std::string_view text) {
  if (auto address = parse_address(program, text)) return *address;
  auto object = evaluate(program, text);
  if (!object) return make_error(Errc::invalid_argument, "invalid address, symbol or expression {}: {}", text,
                                 object.error().message());
  CORONER_TRY(type, object->underlying_type());
  bool scalar = type->kind() == symbols::TypeKind::pointer || type->kind() == symbols::TypeKind::base ||
                type->kind() == symbols::TypeKind::enumeration;
  if (!scalar && object->address()) return *object->address();
  return object->read_unsigned();
}

Expected<SelectionAndStart> parse_selection_and_start(const Program& program, std::optional<std::string_view> spec,
                                                      IntegerBase base, std::string_view start) {
  SelectionAndStart parsed;
  if (spec) {
    CORONER_TRY(members, parse_member_selection(program, *spec, base));
    parsed.members = std::move(members);
  }
  CORONER_TRY(address, parse_start_address(program, start));
  parsed.start = address;
  return parsed;
}

}  // namespace coroner::commands
