// eval: crash's calculator, `eval [-b] [-l] EXPRESSION` (+ - * / % << >>
// & | ^ ~, parentheses, symbols as their addresses, k/m/g suffixes), shown
// in hexadecimal, decimal, octal and binary; and ascii: `ascii VALUE...`,
// the bytes of a value as characters (or a chart without arguments).
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"

#include <array>
#include <cctype>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr int kMaxNesting = 256;

// A recursive-descent parser over C's precedence for the operators crash
// accepts; arithmetic wraps modulo 2^64 as crash's unsigned longs do.
class Calculator {
 public:
  Calculator(const Program& program, std::string_view text) : program_(program), text_(text) {}

  Expected<uint64_t> evaluate() {
    CORONER_TRY(value, binary(0));
    skip_space();
    if (pos_ != text_.size()) return make_error(Errc::invalid_argument, "unexpected '{}' in expression", text_.substr(pos_));
    return value;
  }

 private:
  struct Operator {
    std::string_view token;
    int precedence;
  };
  static constexpr std::array<Operator, 10> kOperators{{{"<<", 4}, {">>", 4}, {"|", 1}, {"^", 2}, {"&", 3},
                                                        {"+", 5}, {"-", 5}, {"*", 6}, {"/", 6}, {"%", 6}}};

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  const Operator* peek_operator() {
    skip_space();
    for (const Operator& op : kOperators)
      if (text_.substr(pos_).starts_with(op.token)) return &op;
    return nullptr;
  }

  // Operators of at least `min_precedence`, left-associative.
  Expected<uint64_t> binary(int min_precedence) {
    if (++depth_ > kMaxNesting) return make_error(Errc::invalid_argument, "expression nested too deeply");
    CORONER_TRY(left, unary());
    while (const Operator* op = peek_operator()) {
      if (op->precedence < min_precedence) break;
      pos_ += op->token.size();
      CORONER_TRY(right, binary(op->precedence + 1));
      CORONER_TRY(result, apply(op->token, left, right));
      left = result;
    }
    --depth_;
    return left;
  }

  static Expected<uint64_t> apply(std::string_view op, uint64_t a, uint64_t b) {
    if (op == "+") return a + b;
    if (op == "-") return a - b;
    if (op == "*") return a * b;
    if (op == "&") return a & b;
    if (op == "|") return a | b;
    if (op == "^") return a ^ b;
    if (op == "<<") return b >= 64 ? 0 : a << b;
    if (op == ">>") return b >= 64 ? 0 : a >> b;
    if (b == 0) return make_error(Errc::invalid_argument, "division by zero");
    return op == "/" ? a / b : a % b;
  }

  Expected<uint64_t> unary() {
    skip_space();
    if (pos_ >= text_.size()) return make_error(Errc::invalid_argument, "expression ends early");
    char c = text_[pos_];
    if (c == '~' || c == '-' || c == '+') {
      ++pos_;
      if (++depth_ > kMaxNesting) return make_error(Errc::invalid_argument, "expression nested too deeply");
      CORONER_TRY(v, unary());
      --depth_;
      return c == '~' ? ~v : c == '-' ? uint64_t{0} - v : v;
    }
    if (c == '(') {
      ++pos_;
      CORONER_TRY(v, binary(0));
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ')') return make_error(Errc::invalid_argument, "missing ')'");
      ++pos_;
      return v;
    }
    size_t begin = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
                                   text_[pos_] == '.' || text_[pos_] == '$'))
      ++pos_;
    if (pos_ == begin) return make_error(Errc::invalid_argument, "unexpected '{}' in expression", text_.substr(pos_));
    return operand(text_.substr(begin, pos_ - begin));
  }

  // A number (hex with 0x or hex letters, else decimal; k/m/g multiply) or
  // a symbol's address.
  Expected<uint64_t> operand(std::string_view word) {
    uint64_t scale = 1;
    std::string_view digits = word;
    char last = static_cast<char>(std::tolower(static_cast<unsigned char>(word.back())));
    if ((last == 'k' || last == 'm' || last == 'g') && word.size() > 1 &&
        std::isdigit(static_cast<unsigned char>(word.front()))) {
      scale = last == 'k' ? 1ull << 10 : last == 'm' ? 1ull << 20 : 1ull << 30;
      digits = word.substr(0, word.size() - 1);
    }
    bool hex_word = digits.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
    if (digits.starts_with("0x") || digits.starts_with("0X") || hex_word) {
      bool decimal = digits.find_first_not_of("0123456789") == std::string_view::npos;
      if (auto v = parse_number(digits, decimal ? 10 : 16)) return *v * scale;
    }
    if (scale == 1)
      if (auto address = program_.symbol_address(word)) return *address;
    return make_error(Errc::invalid_argument, "invalid number or unknown symbol: {}", word);
  }

  const Program& program_;
  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
};

std::string size_note(uint64_t v) {
  if (v == 0) return "";
  if (v % (1ull << 30) == 0) return fmt::format("({}GB)", v >> 30);
  if (v % (1ull << 20) == 0) return fmt::format("({}MB)", v >> 20);
  if (v % (1ull << 10) == 0) return fmt::format("({}KB)", v >> 10);
  return "";
}

Expected<void> run_eval(CommandContext& ctx, const Arguments& args) {
  bool bits = false;
  std::string expression;
  for (const std::string& a : args) {
    if (expression.empty() && a.size() > 1 && a[0] == '-' && a.find_first_not_of("bl", 1) == std::string::npos) {
      bits |= a.find('b') != std::string::npos;  // -l: values are 64-bit anyway
      continue;
    }
    expression += (expression.empty() ? "" : " ") + a;
  }
  if (expression.empty()) return make_error(Errc::invalid_argument, "missing expression (usage: eval [-b] EXPRESSION)");
  Calculator calculator(ctx.program, expression);
  CORONER_TRY(v, calculator.evaluate());

  std::vector<int> set;
  for (int i = 63; i >= 0; --i)
    if ((v >> i) & 1) set.push_back(i);
  const bool negative = static_cast<int64_t>(v) < 0;
  if (ctx.json()) {
    nlohmann::json doc = {{"hexadecimal", fmt::format("{:#x}", v)}, {"decimal", v}, {"octal", fmt::format("{:o}", v)},
                          {"binary", fmt::format("{:064b}", v)}};
    if (negative) doc["signed"] = static_cast<int64_t>(v);
    if (bits) doc["bits_set"] = set;
    ctx.emit(doc);
    return {};
  }
  std::string note = size_note(v);
  ctx.out << fmt::format("hexadecimal: {:x}  {}\n", v, note);
  ctx.out << fmt::format("    decimal: {}  {}\n", v, negative ? fmt::format("({})", static_cast<int64_t>(v)) : "");
  ctx.out << fmt::format("      octal: {:o}\n", v);
  ctx.out << fmt::format("     binary: {:064b}\n", v);
  if (bits) ctx.out << fmt::format("   bits set: {} \n", fmt::join(set, " "));
  return {};
}

constexpr std::array<std::string_view, 33> kControlNames = {
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS",  "HT",  "LF",  "VT",  "FF",  "CR",  "SO",  "SI", "DLE",
    "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM",  "SUB", "ESC", "FS",  "GS",  "RS",  "US",  "SP"};

// One byte as ascii shows it: the character, or <NAME> for control codes.
std::string character(uint8_t c) {
  if (c < 0x20) return fmt::format("<{}>", kControlNames[c]);
  if (c == 0x7f) return "<DEL>";
  if (c > 0x7f) return fmt::format("<{:02x}>", c);
  return std::string(1, static_cast<char>(c));
}

std::string chart() {
  std::string text = "\n      ";
  for (int column = 0; column < 8; ++column) text += fmt::format("{:>4}", column);
  text += "\n    +" + std::string(32, '-') + "\n";
  for (int row = 0; row < 16; ++row) {
    text += fmt::format("  {:X} |", row);
    for (int column = 0; column < 8; ++column) {
      int c = column * 16 + row;
      std::string name = c <= 0x20 ? std::string(kControlNames[c]) : c == 0x7f ? "DEL" : std::string(1, char(c));
      text += fmt::format("{:>4}", name);
    }
    text += '\n';
  }
  return text;
}

Expected<void> run_ascii(CommandContext& ctx, const Arguments& args) {
  if (args.empty()) {
    if (ctx.json()) {
      nlohmann::json table = nlohmann::json::array();
      for (int c = 0; c < 128; ++c) table.push_back(c < 0x20 || c == 0x7f ? character(uint8_t(c)) : std::string(1, char(c)));
      ctx.emit({{"chart", table}});
    } else {
      ctx.out << chart();
    }
    return {};
  }
  nlohmann::json values = nlohmann::json::array();
  for (const std::string& a : args) {
    CORONER_TRY(v, parse_number(a, 16));
    std::string text;
    for (int i = 0; i < 8; ++i) text += character(static_cast<uint8_t>(v >> (8 * i)));  // memory order
    if (ctx.json()) values.push_back({{"value", fmt::format("{:#x}", v)}, {"ascii", text}});
    else ctx.out << fmt::format("{:016x}: {}\n", v, text);
  }
  if (ctx.json()) ctx.emit({{"values", values}});
  return {};
}

}  // namespace

Command eval_command() {
  return {"eval", "evaluate an expression: hexadecimal, decimal, octal and binary",
          "  eval [-b] [-l] EXPRESSION\n"
          "    operators: + - * / % << >> & | ^, unary ~ and -, parentheses (C precedence)\n"
          "    operands: numbers (0x... or with hex letters: hex; digits only: decimal; suffix k, m\n"
          "              or g multiplies by 1024, 1M, 1G) and symbols (their addresses)\n"
          "    -b  list the bit positions that are set   -l  accepted (values are 64-bit)\n"
          "  crash> eval (1 << 12) - 1\n"
          "  crash> eval -b 0x80000011",
          run_eval};
}

Command ascii_command() {
  return {"ascii", "the bytes of hexadecimal values as ASCII characters",
          "  ascii [VALUE...]\n"
          "    each 64-bit hexadecimal VALUE's bytes in memory (little-endian) order, control\n"
          "    characters as <NAME>; without values, an ASCII chart\n"
          "  crash> ascii 2f6e69622f",
          run_ascii};
}

}  // namespace coroner::commands
