#include "analyzer/expression.hpp"

#include <cctype>
#include <charconv>
#include <limits>
#include <vector>

namespace coroner {

using symbols::QualifiedType;
using symbols::TypeKind;

namespace {

enum class TokenKind { identifier, number, punct, end };

struct Token {
  TokenKind kind = TokenKind::end;
  std::string text;
  uint64_t number = 0;
};

bool identifier_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

Expected<std::vector<Token>> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (identifier_char(c, true)) {
      size_t end = i;
      while (end < text.size() && identifier_char(text[end], false)) ++end;
      tokens.push_back({TokenKind::identifier, std::string(text.substr(i, end - i))});
      i = end;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      const bool hex = text.substr(i, 2) == "0x" || text.substr(i, 2) == "0X";
      size_t start = i + (hex ? 2 : 0), end = start;
      while (end < text.size() && std::isxdigit(static_cast<unsigned char>(text[end]))) ++end;
      Token token{TokenKind::number, std::string(text.substr(i, end - i))};
      auto parsed = std::from_chars(text.data() + start, text.data() + end, token.number, hex ? 16 : 10);
      if (parsed.ec != std::errc() || parsed.ptr != text.data() + end || end == start)
        return make_error(Errc::invalid_argument, "bad number '{}' in '{}'", token.text, text);
      while (end < text.size() && (text[end] == 'u' || text[end] == 'U' || text[end] == 'l' || text[end] == 'L')) ++end;
      tokens.push_back(std::move(token));
      i = end;
    } else if (text.substr(i, 2) == "->") {
      tokens.push_back({TokenKind::punct, "->"});
      i += 2;
    } else if (std::string_view("()[].*&+-/,").find(c) != std::string_view::npos) {
      tokens.push_back({TokenKind::punct, std::string(1, c)});
      ++i;
    } else {
      return make_error(Errc::invalid_argument, "unexpected '{}' at column {} of '{}'", c, i + 1, text);
    }
  }
  tokens.push_back({TokenKind::end, ""});
  return tokens;
}

bool is_type_keyword(const std::string& word) {
  static const char* const keywords[] = {"struct", "union", "enum",  "const", "volatile", "unsigned",
                                         "signed", "int",   "long",  "short", "char",     "void",
                                         "_Bool",  "float", "double"};
  for (const char* keyword : keywords)
    if (word == keyword) return true;
  return false;
}

class Evaluator {
 public:
  Evaluator(const Program& program, const symbols::TypeGraph& graph, std::string_view text,
            std::vector<Token> tokens, const EvaluationOptions& options)
      : program_(program), graph_(graph), text_(text), tokens_(std::move(tokens)), options_(options) {}

  Expected<Object> run() {
    CORONER_TRY(result, additive());
    if (peek().kind != TokenKind::end) return unexpected();
    return result;
  }

 private:
  const Token& peek(size_t ahead = 0) const { return tokens_[std::min(position_ + ahead, tokens_.size() - 1)]; }
  bool accept(std::string_view punct) {
    if (peek().kind == TokenKind::punct && peek().text == punct) {
      ++position_;
      return true;
    }
    return false;
  }
  Error unexpected() const {
    if (peek().kind == TokenKind::end) return make_error(Errc::invalid_argument, "'{}' ends too early", text_);
    return make_error(Errc::invalid_argument, "unexpected '{}' in '{}'", peek().text, text_);
  }
  Expected<void> expect(std::string_view punct) {
    if (!accept(punct)) return unexpected();
    return {};
  }

  Expected<QualifiedType> named_type(std::string_view name) const {
    CORONER_TRY(type, graph_.find_type(name));
    return type;
  }

  Expected<Object> integer(uint64_t value, std::string_view type_name) const {
    CORONER_TRY(type, named_type(type_name));
    return Object::value(program_, graph_, type, value);
  }

  Expected<Object> literal(uint64_t value) const {
    if (value <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return integer(value, "int");
    if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return integer(value, "long");
    return integer(value, "unsigned long");
  }

  // Whether the tokens from position_ on spell a type name up to a ')'.
  bool type_name_ahead() const {
    const Token& first = peek();
    if (first.kind != TokenKind::identifier) return false;
    if (!is_type_keyword(first.text)) {
      // A typedef name that is not also a variable.
      if (!graph_.find_type(first.text)) return false;
      if (find_global(program_, first.text)) return false;
    }
    for (size_t ahead = 1;; ++ahead) {
      const Token& token = peek(ahead);
      if (token.kind == TokenKind::punct && token.text == ")") return true;
      if (token.kind == TokenKind::identifier || (token.kind == TokenKind::punct && token.text == "*")) continue;
      return false;
    }
  }

  // Consumes a type name (the caller checked type_name_ahead()).
  Expected<QualifiedType> type_name() {
    std::string spelled;
    while (peek().kind == TokenKind::identifier || (peek().kind == TokenKind::punct && peek().text == "*")) {
      spelled += (spelled.empty() ? "" : " ") + peek().text;
      ++position_;
    }
    return named_type(spelled);
  }

  Expected<int64_t> integer_value(const Object& object) const {
    CORONER_TRY(type, object.underlying_type());
    if (type->kind() != TypeKind::base && type->kind() != TypeKind::enumeration)
      return make_error(Errc::invalid_argument, "{} is not an integer (in '{}')", object.type().type->spelling(), text_);
    return object.read_signed();
  }

  Expected<Object> additive() {
    CORONER_TRY(left, multiplicative());
    while (peek().kind == TokenKind::punct && (peek().text == "+" || peek().text == "-")) {
      const bool plus = peek().text == "+";
      ++position_;
      CORONER_TRY(right, multiplicative());
      CORONER_TRY(combined, arithmetic(left, right, plus ? '+' : '-'));
      left = combined;
    }
    return left;
  }

  Expected<Object> multiplicative() {
    CORONER_TRY(left, unary());
    while (peek().kind == TokenKind::punct && (peek().text == "*" || peek().text == "/")) {
      const char op = peek().text[0];
      ++position_;
      CORONER_TRY(right, unary());
      CORONER_TRY(combined, arithmetic(left, right, op));
      left = combined;
    }
    return left;
  }

  Expected<Object> arithmetic(const Object& left, const Object& right, char op) const {
    CORONER_TRY(left_type, left.underlying_type());
    CORONER_TRY(right_type, right.underlying_type());
    const bool left_pointer = left_type->kind() == TypeKind::pointer || left_type->kind() == TypeKind::array;
    const bool right_pointer = right_type->kind() == TypeKind::pointer || right_type->kind() == TypeKind::array;
    if (left_pointer && (op == '+' || op == '-')) {
      CORONER_TRY(element, left_type->target().get());
      uint64_t scale = 1;
      if (element.type->kind() != TypeKind::void_type) {
        CORONER_TRY(size, element.type->size());
        scale = size ? size : 1;
      }
      CORONER_TRY(base, left_type->kind() == TypeKind::array ? left.address_of() : Expected<Object>(left));
      CORONER_TRY(address, base.read_unsigned());
      if (right_pointer && op == '-') {
        CORONER_TRY(other_base, right_type->kind() == TypeKind::array ? right.address_of() : Expected<Object>(right));
        CORONER_TRY(other, other_base.read_unsigned());
        return integer(static_cast<uint64_t>(static_cast<int64_t>(address - other) / static_cast<int64_t>(scale)),
                       "long");
      }
      CORONER_TRY(count, integer_value(right));
      const uint64_t moved = address + (op == '+' ? 1 : -1) * static_cast<uint64_t>(count) * scale;
      return Object::value(program_, graph_, QualifiedType{graph_.pointer_to(element), 0}, moved);
    }
    CORONER_TRY(a, integer_value(left));
    CORONER_TRY(b, integer_value(right));
    if (op == '/' && b == 0) return make_error(Errc::invalid_argument, "division by zero in '{}'", text_);
    const uint64_t ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
    const int64_t result = op == '+'   ? static_cast<int64_t>(ua + ub)
                           : op == '-' ? static_cast<int64_t>(ua - ub)
                           : op == '*' ? static_cast<int64_t>(ua * ub)
                                       : (b == -1 ? static_cast<int64_t>(0 - ua) : a / b);
    const bool is_unsigned = !left_type->is_signed() && left_type->kind() == TypeKind::base;
    return integer(static_cast<uint64_t>(result), is_unsigned ? "unsigned long" : "long");
  }

  Expected<Object> unary() {
    if (accept("*")) {
      CORONER_TRY(operand, unary());
      return operand.deref();
    }
    if (accept("&")) {
      CORONER_TRY(operand, unary());
      return operand.address_of();
    }
    if (accept("-")) {
      CORONER_TRY(operand, unary());
      CORONER_TRY(value, integer_value(operand));
      return integer(static_cast<uint64_t>(0) - static_cast<uint64_t>(value), "long");
    }
    if (peek().kind == TokenKind::identifier && peek().text == "sizeof") {
      ++position_;
      if (accept("(")) {
        if (type_name_ahead()) {
          CORONER_TRY(type, type_name());
          CORONER_CHECK(expect(")"));
          CORONER_TRY(bytes, type.type->size());
          return integer(bytes, "unsigned long");
        }
        --position_;
      }
      CORONER_TRY(operand, unary());
      CORONER_TRY(size, operand.byte_size());
      return integer(size, "unsigned long");
    }
    if (peek().kind == TokenKind::punct && peek().text == "(") {
      ++position_;
      if (type_name_ahead()) {
        CORONER_TRY(type, type_name());
        CORONER_CHECK(expect(")"));
        CORONER_TRY(operand, unary());
        return operand.cast(type);
      }
      --position_;
    }
    return postfix();
  }

  Expected<Object> postfix() {
    CORONER_TRY(object, primary());
    for (;;) {
      if (accept(".") || accept("->")) {
        if (peek().kind != TokenKind::identifier) return unexpected();
        const std::string name = peek().text;
        ++position_;
        CORONER_TRY(type, object.underlying_type());
        if (type->kind() == TypeKind::pointer) {
          CORONER_TRY(target, object.deref());
          object = target;
        }
        CORONER_TRY(member, object.member(name));
        object = member;
      } else if (accept("[")) {
        CORONER_TRY(subscript, additive());
        CORONER_CHECK(expect("]"));
        CORONER_TRY(i, integer_value(subscript));
        CORONER_TRY(element, object.index(i));
        object = element;
      } else {
        return object;
      }
    }
  }

  Expected<Object> primary() {
    const Token token = peek();
    if (token.kind == TokenKind::number) {
      ++position_;
      return literal(token.number);
    }
    if (accept("(")) {
      CORONER_TRY(inner, additive());
      CORONER_CHECK(expect(")"));
      return inner;
    }
    if (token.kind != TokenKind::identifier) return unexpected();
    ++position_;
    if (token.text == "per_cpu" && accept("(")) {
      if (peek().kind != TokenKind::identifier) return unexpected();
      const std::string name = peek().text;
      ++position_;
      CORONER_CHECK(expect(","));
      CORONER_TRY(cpu, additive());
      CORONER_CHECK(expect(")"));
      CORONER_TRY(number, integer_value(cpu));
      if (number < 0 || number > std::numeric_limits<uint32_t>::max())
        return make_error(Errc::invalid_argument, "bad CPU number {}", number);
      CORONER_TRY(global, find_global(program_, name));
      return per_cpu(global, static_cast<uint32_t>(number));
    }
    return identifier(token.text);
  }

  Expected<Object> identifier(const std::string& name) const {
    auto global = find_global(program_, name);
    if (global) {
      if (!global->per_cpu) return global->object;
      if (!options_.cpu)
        return make_error(Errc::invalid_argument, "'{}' is a per-CPU variable: name a CPU ({}:CPU or per_cpu({}, CPU))",
                          name, name, name);
      return per_cpu(*global, *options_.cpu);
    }
    if (global.error().code() == Errc::not_found) {
      CORONER_TRY(info, program_.debug_info());
      if (auto enumerator = info->find_enumerator(name)) return integer(static_cast<uint64_t>(*enumerator), "int");
    }
    return global.error();
  }

  const Program& program_;
  const symbols::TypeGraph& graph_;
  std::string_view text_;
  std::vector<Token> tokens_;
  const EvaluationOptions& options_;
  size_t position_ = 0;
};

}  // namespace

bool is_identifier(std::string_view text) {
  if (text.empty() || !identifier_char(text[0], true)) return false;
  for (char c : text)
    if (!identifier_char(c, false)) return false;
  return true;
}

Expected<Object> evaluate(const Program& program, std::string_view expression, const EvaluationOptions& options) {
  CORONER_TRY(tokens, tokenize(expression));
  if (tokens.size() == 1) return make_error(Errc::invalid_argument, "empty expression");
  CORONER_TRY(graph, kernel_types(program));
  Evaluator evaluator(program, *graph, expression, std::move(tokens), options);
  return evaluator.run();
}

Expected<QualifiedType> parse_type_name(const Program& program, std::string_view text) {
  CORONER_TRY(graph, kernel_types(program));
  return graph->find_type(text);
}

}  // namespace coroner
