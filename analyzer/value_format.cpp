#include "analyzer/value_format.hpp"

#include "analyzer/print_format.hpp"
#include "analyzer/type_format.hpp"

#include <cstring>

namespace coroner {

using symbols::QualifiedType;
using symbols::Type;
using symbols::TypeKind;

namespace {

// gdb's `print elements` limit, raised: longer arrays end in "...".
constexpr uint64_t kMaxElements = 10000;
constexpr int kMaxDepth = 64;

std::string indent(int depth) { return std::string(static_cast<size_t>(std::max(depth, 0)) * 2, ' '); }

bool is_char(const Type& type) {
  return type.kind() == TypeKind::base && (type.encoding() == symbols::Encoding::signed_char ||
                                           type.encoding() == symbols::Encoding::unsigned_char);
}

template <typename Bytes>
std::string c_quoted(const Bytes& text) {
  std::string out = "\"";
  for (auto c : text) out += escaped_char(static_cast<unsigned char>(c), '"');
  return out + "\"";
}

// A view of part of an object's bytes with the type it holds there.
struct Slice {
  QualifiedType type;
  std::span<const std::byte> bytes;  // from the slice's first byte
  uint64_t bit_offset = 0;           // < 8 for bitfields
  uint64_t bit_size = 0;
};

class Walker {
 public:
  Walker(const Program& program, IntegerBase base, PrintFormat format)
      : program_(program), base_(base), format_(format == PrintFormat::string ? PrintFormat::natural : format) {}

  Expected<std::string> text(const Slice& slice, int depth) const {
    if (depth > kMaxDepth) return make_error(Errc::corrupt, "values nested deeper than {} levels", kMaxDepth);
    CORONER_TRY(type, symbols::underlying(slice.type));
    switch (type->kind()) {
      case TypeKind::structure: case TypeKind::union_type: return aggregate_text(*type, slice, depth);
      case TypeKind::array: return array_text(*type, slice, depth);
      case TypeKind::pointer: {
        const uint64_t address = scalar(slice, false);
        if (format_ != PrintFormat::natural) return lettered_text(address, false, slice);
        std::string out = fmt::format("{:#x}", address) + symbol_suffix(program_, address);
        CORONER_TRY(target, type->target().get());
        CORONER_TRY(target_type, symbols::underlying(target));
        if (is_char(*target_type) && address != 0) {
          if (auto string = program_.memory().read_string(address, 200)) out += " " + c_quoted(*string);
        }
        return out;
      }
      case TypeKind::enumeration: {
        const uint64_t value = scalar(slice, type->is_signed());
        if (format_ != PrintFormat::natural) return lettered_text(value, type->is_signed(), slice);
        if (base_ == IntegerBase::natural)
          for (const symbols::Enumerator& e : type->enumerators())
            if (e.value == value) return e.name;
        return integer_text(value, type->is_signed(), slice);
      }
      case TypeKind::base: return base_text(*type, slice);
      case TypeKind::function: return std::string("{") + declaration(slice.type, "") + "}";
      default: return std::string("void");
    }
  }

  Expected<nlohmann::json> json(const Slice& slice, int depth) const {
    if (depth > kMaxDepth) return make_error(Errc::corrupt, "values nested deeper than {} levels", kMaxDepth);
    CORONER_TRY(type, symbols::underlying(slice.type));
    switch (type->kind()) {
      case TypeKind::structure: case TypeKind::union_type: {
        nlohmann::json out = nlohmann::json::object();
        CORONER_CHECK(for_each_member(*type, slice, [&](const symbols::Member& m, const Slice& s) -> Expected<void> {
          CORONER_TRY(value, json(s, depth + 1));
          if (m.name.empty() && value.is_object()) out.update(value);  // anonymous: its members are ours
          else out[m.name] = std::move(value);
          return {};
        }));
        return out;
      }
      case TypeKind::array: {
        CORONER_TRY(element, type->target().get());
        CORONER_TRY(element_type, symbols::underlying(element));
        if (is_char(*element_type)) return nlohmann::json(c_string(slice));
        nlohmann::json out = nlohmann::json::array();
        CORONER_CHECK(for_each_element(*type, slice, [&](const Slice& s) -> Expected<void> {
          CORONER_TRY(value, json(s, depth + 1));
          out.push_back(std::move(value));
          return {};
        }));
        return out;
      }
      case TypeKind::pointer: return nlohmann::json(fmt::format("{:#x}", scalar(slice, false)));
      case TypeKind::enumeration: {
        const uint64_t value = scalar(slice, type->is_signed());
        for (const symbols::Enumerator& e : type->enumerators())
          if (e.value == value) return nlohmann::json(e.name);
        return type->is_signed() ? nlohmann::json(static_cast<int64_t>(value)) : nlohmann::json(value);
      }
      case TypeKind::base: {
        const uint64_t value = scalar(slice, type->is_signed());
        if (type->encoding() == symbols::Encoding::boolean) return nlohmann::json(value != 0);
        if (type->encoding() == symbols::Encoding::floating) return nlohmann::json(floating(slice));
        return type->is_signed() ? nlohmann::json(static_cast<int64_t>(value)) : nlohmann::json(value);
      }
      default: return nlohmann::json(nullptr);
    }
  }

 private:
  static uint64_t scalar(const Slice& slice, bool is_signed) {
    return scalar_from_bytes(slice.bytes, slice.bit_offset, slice.bit_size, is_signed);
  }

  static double floating(const Slice& slice) {
    if (slice.bytes.size() == sizeof(float)) {
      float f;
      std::memcpy(&f, slice.bytes.data(), sizeof f);
      return f;
    }
    double d = 0;
    std::memcpy(&d, slice.bytes.data(), std::min(sizeof d, slice.bytes.size()));
    return d;
  }

  static std::string c_string(const Slice& slice) {
    std::string out;
    for (std::byte b : slice.bytes) {
      if (b == std::byte{0}) break;
      out.push_back(static_cast<char>(b));
    }
    return out;
  }

  // crash (gdb with `print null-stop off`, no element limit, no repeats)
  // shows every byte of a char array in any radix -- "swapper/0\000\000..."
  // -- except one NUL that ends the array. Without a length (an extern
  // `char x[]`) the bytes read are the array: the symbol's size.
  static std::string char_array_text(const Type& type, const Slice& slice) {
    std::span<const std::byte> bytes = slice.bytes.first(std::min(slice.bytes.size(), type.length().value_or(SIZE_MAX)));
    const bool truncated = bytes.size() > kMaxElements;
    if (truncated) bytes = bytes.first(kMaxElements);
    else if (!bytes.empty() && bytes.back() == std::byte{0}) bytes = bytes.first(bytes.size() - 1);
    return c_quoted(bytes) + (truncated ? "..." : "");
  }

  static uint64_t bit_width(const Slice& slice) { return slice.bit_size ? slice.bit_size : slice.bytes.size() * 8; }

  // An integer in a gdb format letter (/a: with the symbol it points into).
  std::string lettered_text(uint64_t value, bool is_signed, const Slice& slice) const {
    std::string out = format_scalar(value, bit_width(slice), is_signed, format_);
    return format_ == PrintFormat::address ? out + symbol_suffix(program_, value) : out;
  }

  std::string integer_text(uint64_t value, bool is_signed, const Slice& slice) const {
    if (base_ == IntegerBase::hex) {
      const uint64_t bits = bit_width(slice);
      return fmt::format("{:#x}", bits < 64 ? value & ((uint64_t{1} << bits) - 1) : value);
    }
    if (is_signed) return fmt::format("{}", static_cast<int64_t>(value));
    return fmt::format("{}", value);
  }

  std::string base_text(const Type& type, const Slice& slice) const {
    const uint64_t value = scalar(slice, type.is_signed());
    if (type.encoding() == symbols::Encoding::floating && (base_ == IntegerBase::natural || format_ != PrintFormat::natural))
      return fmt::format("{}", floating(slice));
    if (format_ != PrintFormat::natural) return lettered_text(value, type.is_signed(), slice);
    if (type.encoding() == symbols::Encoding::boolean && base_ == IntegerBase::natural) return value ? "true" : "false";
    std::string out = integer_text(value, type.is_signed(), slice);
    if (is_char(type) && base_ != IntegerBase::hex)
      out += " '" + escaped_char(static_cast<unsigned char>(value), '\'') + "'";
    return out;
  }

  template <typename Visit>
  Expected<void> for_each_member(const Type& type, const Slice& slice, Visit visit) const {
    for (const symbols::Member& member : type.members()) {
      CORONER_TRY(member_type, member.type.get());
      const uint64_t bits = slice.bit_offset + member.bit_offset;
      const uint64_t first = bits / 8;
      const uint64_t size = member.bit_size ? (bits % 8 + member.bit_size + 7) / 8 : member_type.type->size().value_or(0);
      if (first > slice.bytes.size() || size > slice.bytes.size() - first)
        return make_error(Errc::corrupt, "member '{}' of {} lies outside it", member.name, type.spelling());
      CORONER_CHECK(visit(member, Slice{member_type, slice.bytes.subspan(first, size), bits % 8, member.bit_size}));
    }
    return {};
  }

  template <typename Visit>
  Expected<void> for_each_element(const Type& array, const Slice& slice, Visit visit) const {
    CORONER_TRY(element, array.target().get());
    CORONER_TRY(size, element.type->size());
    if (size == 0) return {};
    // Without a length (a flexible or extern array) the bytes tell how many.
    const uint64_t length = std::min<uint64_t>(array.length().value_or(slice.bytes.size() / size), kMaxElements);
    for (uint64_t i = 0; i < length; ++i) {
      if ((i + 1) * size > slice.bytes.size()) break;
      CORONER_CHECK(visit(Slice{element, slice.bytes.subspan(i * size, size)}));
    }
    return {};
  }

  Expected<std::string> aggregate_text(const Type& type, const Slice& slice, int depth) const {
    std::vector<std::string> lines;
    CORONER_CHECK(for_each_member(type, slice, [&](const symbols::Member& m, const Slice& s) -> Expected<void> {
      CORONER_TRY(value, text(s, depth + 1));
      lines.push_back(indent(depth + 1) + (m.name.empty() ? "" : m.name + " = ") + value);
      return {};
    }));
    if (lines.empty()) return std::string("{<No data fields>}");  // gdb's (and so crash's) words
    std::string out = "{\n";
    for (size_t i = 0; i < lines.size(); ++i) out += lines[i] + (i + 1 < lines.size() ? ",\n" : "\n");
    return out + indent(depth) + "}";
  }

  Expected<std::string> array_text(const Type& type, const Slice& slice, int depth) const {
    CORONER_TRY(element, type.target().get());
    CORONER_TRY(element_type, symbols::underlying(element));
    // With a format letter, char arrays are arrays of numbers (p/x comm).
    if (is_char(*element_type) && format_ == PrintFormat::natural) return char_array_text(type, slice);
    std::string out = "{";
    size_t count = 0;
    CORONER_CHECK(for_each_element(type, slice, [&](const Slice& s) -> Expected<void> {
      CORONER_TRY(value, text(s, depth + 1));
      out += (count++ ? ", " : "") + value;
      return {};
    }));
    if (type.length().value_or(0) > kMaxElements) out += "...";
    return out + "}";
  }

  const Program& program_;
  IntegerBase base_;
  PrintFormat format_;  // a gdb letter overrides base_ for every scalar
};

}  // namespace

std::string symbol_suffix(const Program& program, uint64_t address) {
  const symbols::Symbol* symbol = program.symbols().containing(address);
  if (!symbol) return "";
  const uint64_t offset = address - symbol->address;
  if (symbol->size ? offset >= symbol->size : offset != 0) return "";
  return offset ? fmt::format(" <{}+{}>", symbol->name, offset) : fmt::format(" <{}>", symbol->name);
}

Expected<std::string> format_value(const Object& object, IntegerBase base, int depth, PrintFormat format) {
  CORONER_TRY(bytes, object.read_bytes());
  Walker walker(object.program(), base, format);
  return walker.text(Slice{object.type(), bytes, object.bit_offset(), object.bit_size()}, depth);
}

Expected<std::string> format_top_value(const Object& object, IntegerBase base, PrintFormat format) {
  CORONER_TRY(type, object.underlying_type());
  if (type->kind() == TypeKind::function) {
    const uint64_t address = object.address().value_or(0);
    return fmt::format("{{{}}} {:#x}{}", declaration(object.type(), ""), address,
                       symbol_suffix(object.program(), address));
  }
  CORONER_TRY(text, format_value(object, base, 0, format));
  // gdb shows a pointer's type only in its natural form (p, p/s).
  if (type->kind() != TypeKind::pointer || (format != PrintFormat::natural && format != PrintFormat::string))
    return text;
  CORONER_TRY(target, type->target().get());
  CORONER_TRY(target_type, symbols::underlying(target));
  if (is_char(*target_type)) return text;  // gdb shows the string instead of the type
  return fmt::format("({}) {}", declaration(object.type(), ""), text);
}

Expected<nlohmann::json> value_json(const Object& object) {
  CORONER_TRY(type, object.underlying_type());
  if (type->kind() == TypeKind::function) return nlohmann::json(fmt::format("{:#x}", object.address().value_or(0)));
  CORONER_TRY(bytes, object.read_bytes());
  Walker walker(object.program(), IntegerBase::natural, PrintFormat::natural);
  return walker.json(Slice{object.type(), bytes, object.bit_offset(), object.bit_size()}, 0);
}

}  // namespace coroner
