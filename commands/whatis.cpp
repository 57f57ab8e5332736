// whatis and ptype: the declaration of a type, a symbol or an expression's
// type, as crash (whatis: layouts with SIZE) and gdb (ptype) print them.
#include "analyzer/expression.hpp"
#include "analyzer/type_format.hpp"
#include "commands/builtin.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

using symbols::QualifiedType;
using symbols::TypeKind;

std::string joined(const Arguments& args) {
  std::string text;
  for (const std::string& word : args) text += (text.empty() ? "" : " ") + word;
  return text;
}

bool starts_with_tag(std::string_view text) {
  return text.starts_with("struct ") || text.starts_with("union ") || text.starts_with("enum ");
}

// What the argument names: a type (a tag, typedef or base type that is not
// also a global), or a global or expression (an object).
struct Subject {
  std::optional<QualifiedType> type;
  std::optional<Object> object;
  std::string name;  // a global's name, for its declaration
};

Expected<Subject> resolve(const Program& program, const std::string& text) {
  if (text.empty()) return make_error(Errc::invalid_argument, "name a type, symbol or expression");
  Subject subject;
  if (is_identifier(text)) {
    if (auto global = find_global(program, text)) {
      subject.object = global->object;
      subject.name = text;
      return subject;
    }
  }
  if (starts_with_tag(text) || is_identifier(text) || text.ends_with("*")) {
    if (auto type = parse_type_name(program, text)) {
      subject.type = *type;
      return subject;
    } else if (starts_with_tag(text)) {
      return type.error();
    }
  }
  CORONER_TRY(object, evaluate(program, text, EvaluationOptions{0}));
  subject.object = object;
  return subject;
}

nlohmann::json type_json(QualifiedType type) {
  nlohmann::json document = {{"type", declaration(type, "")}};
  if (auto size = type.type->size()) document["size"] = *size;
  if (auto under = symbols::underlying(type)) {
    const symbols::Type& t = **under;
    if (t.kind() == TypeKind::structure || t.kind() == TypeKind::union_type) {
      if (auto entries = layout_of(t)) document["members"] = layout_json(*entries);
    } else if (t.kind() == TypeKind::enumeration) {
      nlohmann::json values = nlohmann::json::object();
      for (const symbols::Enumerator& e : t.enumerators())
        values[e.name] = t.is_signed() ? nlohmann::json(static_cast<int64_t>(e.value)) : nlohmann::json(e.value);
      document["enumerators"] = values;
    }
  }
  return document;
}

// A global's declaration; an array declared without a length gets the
// one its object's size implies ("const char linux_banner[148]").
std::string global_declaration(const Object& object, const std::string& name) {
  auto type = object.underlying_type();
  if (type && (*type)->kind() == TypeKind::array && !(*type)->length()) {
    auto element = (*type)->target().get();
    auto element_size = element ? element->type->size() : Expected<uint64_t>(element.error());
    auto size = object.byte_size();
    if (element_size && *element_size && size)
      return declaration(*element, fmt::format("{}[{}]", name, *size / *element_size));
  }
  return declaration(object.type(), name);
}

// crash's whatis of a type name.
Expected<std::string> whatis_type_text(QualifiedType type) {
  const symbols::Type& t = *type.type;
  std::string size = t.size() ? fmt::format("SIZE: {}\n", *t.size()) : std::string();
  switch (t.kind()) {
    case TypeKind::structure: case TypeKind::union_type: {
      CORONER_TRY(entries, layout_of(t));
      return definition_text(t, entries, false) + size;
    }
    case TypeKind::enumeration: {
      std::string text = t.spelling() + " {\n";
      for (const symbols::Enumerator& e : t.enumerators())
        text += t.is_signed() ? fmt::format("  {} = {}\n", e.name, static_cast<int64_t>(e.value))
                              : fmt::format("  {} = {}\n", e.name, e.value);
      return text + "};\n";
    }
    case TypeKind::typedef_type: {
      CORONER_TRY(aliased, symbols::underlying(type));  // crash names the final type
      return "typedef " + declaration(symbols::QualifiedType{aliased, 0}, t.name()) + ";\n" + size;
    }
    default: return declaration(type, "") + "\n" + size;
  }
}

// What both commands start from: the subject the arguments name, its type
// and, under --json, the document to emit (the type's JSON and the name).
struct Request {
  Subject subject;
  QualifiedType type;
  std::optional<nlohmann::json> document;
};

Expected<Request> prepare(const CommandContext& ctx, const Arguments& args) {
  const std::string text = joined(args);
  CORONER_TRY(subject, resolve(ctx.program, text));
  Request request{std::move(subject), {}, std::nullopt};
  request.type = request.subject.type ? *request.subject.type : request.subject.object->type();
  if (ctx.json()) {
    request.document = type_json(request.type);
    (*request.document)["name"] = text;
  }
  return request;
}

Expected<void> run_whatis(CommandContext& ctx, const Arguments& args) {
  CORONER_TRY(request, prepare(ctx, args));
  const Subject& subject = request.subject;
  if (request.document) {
    if (!subject.name.empty())
      (*request.document)["declaration"] = global_declaration(*subject.object, subject.name) + ";";
    ctx.emit(*request.document);
    return {};
  }
  if (subject.type) {
    CORONER_TRY(out, whatis_type_text(request.type));
    ctx.out << out;
  } else if (!subject.name.empty()) {
    ctx.out << global_declaration(*subject.object, subject.name) << ";\n";
  } else {
    ctx.out << declaration(request.type, "") << '\n';
  }
  return {};
}

Expected<void> run_ptype(CommandContext& ctx, const Arguments& args) {
  CORONER_TRY(request, prepare(ctx, args));
  if (request.document) {
    ctx.emit(*request.document);
    return {};
  }
  CORONER_TRY(out, ptype_text(request.type));
  ctx.out << "type = " << out << '\n';
  return {};
}

}  // namespace

Command whatis_command() {
  return {"whatis", "show the declaration of a type, symbol or expression",
          "  whatis struct NAME | union NAME | enum NAME | TYPEDEF | SYMBOL | EXPRESSION\n"
          "    structs and unions print their members and SIZE, as crash does\n"
          "  crash> whatis init_task\n"
          "  crash> whatis struct list_head",
          run_whatis};
}

Command ptype_command() {
  return {"ptype", "show a type, symbol's or expression's type expanded (gdb's ptype)",
          "  ptype struct NAME | union NAME | enum NAME | TYPEDEF | SYMBOL | EXPRESSION\n"
          "  crash> ptype enum pid_type\n"
          "  crash> ptype init_task.se",
          run_ptype};
}

}  // namespace coroner::commands
