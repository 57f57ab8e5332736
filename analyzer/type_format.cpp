#include "analyzer/type_format.hpp"

namespace coroner {

using symbols::QualifiedType;
using symbols::Type;
using symbols::TypeKind;

namespace {

// Derived types chained deeper than this come from a cycle in hostile DWARF.
constexpr int kMaxDerivations = 64;

std::string qualifier_prefix(uint8_t qualifiers) {
  std::string text;
  if (qualifiers & symbols::qualifier_const) text += "const ";
  if (qualifiers & symbols::qualifier_volatile) text += "volatile ";
  return text;
}

bool is_aggregate(TypeKind kind) { return kind == TypeKind::structure || kind == TypeKind::union_type; }

std::string aggregate_keyword(const Type& type) { return type.kind() == TypeKind::union_type ? "union" : "struct"; }

// GCC names integer types "long unsigned int"; gdb (and crash) print the
// C spelling.
std::string c_integer_name(const std::string& name) {
  static const std::pair<const char*, const char*> names[] = {
      {"long unsigned int", "unsigned long"}, {"long int", "long"},
      {"long long unsigned int", "unsigned long long"}, {"long long int", "long long"},
      {"short unsigned int", "unsigned short"}, {"short int", "short"}};
  for (const auto& [gcc, c] : names)
    if (name == gcc) return c;
  return name;
}

// The name a base (non-derived) type is declared with.
std::string base_name(const Type& type) {
  if (type.kind() == TypeKind::base) return c_integer_name(type.name());
  if (type.name().empty()) {
    if (is_aggregate(type.kind())) return aggregate_keyword(type) + " {...}";
    if (type.kind() == TypeKind::enumeration) return "enum " + enumerators_text(type);
  }
  return type.spelling();
}

std::string wrap_pointer(std::string inner) { return !inner.empty() && inner[0] == '*' ? "(" + inner + ")" : inner; }

std::string parameter_list(const Type& function) {
  std::string text;
  for (const symbols::Parameter& parameter : function.parameters()) {
    auto type = parameter.type.get();
    text += (text.empty() ? "" : ", ") + (type ? declaration(*type, "") : std::string("?"));
  }
  if (function.is_variadic()) text += text.empty() ? "..." : ", ...";
  return text.empty() ? "void" : text;
}

// Builds the declarator inside out. With expand, typedefs are looked
// through and the struct/union/enum at the base is printed with its body.
Expected<std::string> declare(QualifiedType type, std::string inner, bool expand) {
  for (int i = 0; i < kMaxDerivations; ++i) {
    const Type& t = *type.type;
    if (expand && t.kind() == TypeKind::typedef_type) {
      CORONER_TRY(aliased, t.target().get());
      aliased.qualifiers |= type.qualifiers;
      type = aliased;
      continue;
    }
    switch (t.kind()) {
      case TypeKind::pointer: {
        const bool self_const = type.qualifiers & symbols::qualifier_const;
        inner = std::string(self_const ? "* const " : "*") + inner;
        CORONER_TRY(target, t.target().get());
        type = target;
        continue;
      }
      case TypeKind::array: {
        inner = wrap_pointer(inner) + (t.length() ? fmt::format("[{}]", *t.length()) : "[]");
        CORONER_TRY(element, t.target().get());
        type = element;
        continue;
      }
      case TypeKind::function: {
        inner = wrap_pointer(inner) + "(" + parameter_list(t) + ")";
        CORONER_TRY(result, t.target().get());
        type = result;
        continue;
      }
      default: break;
    }
    std::string base = base_name(t);
    if (expand && is_aggregate(t.kind())) {
      CORONER_TRY(entries, layout_of(t));
      base = (t.name().empty() ? aggregate_keyword(t) : t.spelling()) + " {\n" + layout_text(entries, 1) + "}";
    } else if (expand && t.kind() == TypeKind::enumeration) {
      base = "enum " + (t.name().empty() ? "" : t.name() + " ") + enumerators_text(t);
    }
    base = qualifier_prefix(type.qualifiers) + base;
    return inner.empty() ? base : base + " " + inner;
  }
  return make_error(Errc::corrupt, "type chain too long (a cycle in the debug info?)");
}

std::string indent(int spaces) { return std::string(static_cast<size_t>(std::max(spaces, 0)), ' '); }

std::string member_line(const LayoutEntry& entry) {
  std::string text = declaration(entry.type, entry.name);
  if (entry.bit_size) text += fmt::format(" : {}", entry.bit_size);
  return text + ";";
}

}  // namespace

std::string declaration(QualifiedType type, std::string_view name) {
  auto text = declare(type, std::string(name), false);
  return text ? *text : std::string("<bad type>");
}

Expected<std::vector<LayoutEntry>> layout_of(const Type& type, uint64_t base_bit_offset) {
  std::vector<LayoutEntry> entries;
  for (const symbols::Member& member : type.members()) {
    CORONER_TRY(member_type, member.type.get());
    LayoutEntry entry;
    entry.name = member.name;
    entry.type = member_type;
    entry.bit_offset = base_bit_offset + member.bit_offset;
    entry.bit_size = member.bit_size;
    entry.size = member_type.type->size().value_or(0);
    entry.expanded = is_aggregate(member_type.type->kind()) && member_type.type->name().empty();
    if (entry.expanded) {
      CORONER_TRY(inner, layout_of(*member_type.type, entry.bit_offset));
      entry.members = std::move(inner);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Expected<std::string> ptype_text(QualifiedType type) { return declare(type, "", true); }

std::string layout_text(const std::vector<LayoutEntry>& entries, int depth) {
  std::string text;
  for (const LayoutEntry& entry : entries) {
    if (!entry.expanded) {
      text += indent(4 * depth) + member_line(entry) + "\n";
      continue;
    }
    text += indent(4 * depth) + aggregate_keyword(*entry.type.type) + " {\n" + layout_text(entry.members, depth + 1);
    text += indent(4 * depth) + "}" + (entry.name.empty() ? "" : " " + entry.name) + ";\n";
  }
  return text;
}

std::string layout_offsets_text(const std::vector<LayoutEntry>& entries, int depth, size_t column,
                                uint64_t base_address) {
  std::string text;
  const int pad = static_cast<int>(column) + 1 + 4 * depth;
  for (const LayoutEntry& entry : entries) {
    if (entry.expanded) {
      text += indent(pad) + aggregate_keyword(*entry.type.type) + " {\n" +
              layout_offsets_text(entry.members, depth + 1, column, base_address);
      text += indent(pad) + "}" + (entry.name.empty() ? "" : " " + entry.name) + ";\n";
      continue;
    }
    const uint64_t offset = entry.bit_offset / 8;
    const std::string label =
        base_address ? fmt::format("[{:x}]", base_address + offset) : fmt::format("[{}]", offset);
    text += fmt::format("{:>{}} {}{}\n", label, column, indent(4 * depth), member_line(entry));
  }
  return text;
}

std::string definition_text(const Type& type, const std::vector<LayoutEntry>& entries, bool offsets,
                            uint64_t base_address) {
  const std::string head = (type.name().empty() ? aggregate_keyword(type) : type.spelling()) + " {\n";
  if (!offsets) return head + layout_text(entries, 1) + "}\n";
  // crash sizes the offset column by the struct's size (or the address).
  const std::string widest = base_address ? fmt::format("[{:x}]", base_address + type.size().value_or(0))
                                          : fmt::format("[{}]", type.size().value_or(0));
  return head + layout_offsets_text(entries, 0, widest.size() + 2, base_address) + "}\n";
}

nlohmann::json layout_json(const std::vector<LayoutEntry>& entries) {
  nlohmann::json list = nlohmann::json::array();
  for (const LayoutEntry& entry : entries) {
    nlohmann::json member = {{"name", entry.name},
                             {"type", entry.expanded ? aggregate_keyword(*entry.type.type) : declaration(entry.type, "")},
                             {"offset", entry.bit_offset / 8},
                             {"size", entry.size},
                             {"bit_offset", entry.bit_offset},
                             {"bit_size", entry.bit_size}};
    if (entry.expanded) member["members"] = layout_json(entry.members);
    list.push_back(std::move(member));
  }
  return list;
}

std::string enumerators_text(const Type& type) {
  std::string text = "{";
  uint64_t expected = 0;
  for (const symbols::Enumerator& e : type.enumerators()) {
    if (text.size() > 1) text += ", ";
    text += e.name;
    if (e.value != expected) text += type.is_signed() ? fmt::format(" = {}", static_cast<int64_t>(e.value))
                                                      : fmt::format(" = {}", e.value);
    expected = e.value + 1;
  }
  return text + "}";
}

}  // namespace coroner
