#include "analyzer/print_format.hpp"

#include <fmt/format.h>

namespace coroner {

Expected<PrintFormat> parse_print_format(std::string_view letters) {
  static constexpr std::string_view kLetters = "xduotcasz";
  if (letters.size() != 1 || kLetters.find(letters.front()) == std::string_view::npos)
    return make_error(Errc::invalid_argument, "'/{}' is not a print format (one of /x /d /u /o /t /c /a /s /z)",
                      letters);
  return static_cast<PrintFormat>(letters.front());
}

std::string escaped_char(unsigned char c, char quote) {
  switch (c) {
    case '\a': return "\\a";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\v': return "\\v";
    case '\\': return "\\\\";
    default: break;
  }
  if (c == static_cast<unsigned char>(quote)) return std::string("\\") + quote;
  if (c < 0x20 || c >= 0x7f) return fmt::format("\\{:03o}", c);
  return std::string(1, static_cast<char>(c));
}

std::string format_scalar(uint64_t value, uint64_t bits, bool is_signed, PrintFormat format) {
  bits = std::min<uint64_t>(std::max<uint64_t>(bits, 1), 64);
  const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  const uint64_t raw = value & mask;
  // The value sign-extended from its width: /d shows every type as signed.
  const auto as_signed = [&](uint64_t v, uint64_t width) {
    const uint64_t sign = uint64_t{1} << (width - 1);
    return static_cast<int64_t>((v ^ sign) - sign);
  };
  switch (format) {
    case PrintFormat::signed_decimal: return fmt::format("{}", as_signed(raw, bits));
    case PrintFormat::unsigned_decimal: return fmt::format("{}", raw);
    case PrintFormat::octal: return raw ? fmt::format("0{:o}", raw) : "0";
    case PrintFormat::binary: return fmt::format("{:b}", raw);
    case PrintFormat::zero_hex: return fmt::format("0x{:0{}x}", raw, (bits + 3) / 4);
    case PrintFormat::character: {
      // gdb shows the low byte as a char of the value's signedness:
      // (int)-1 is "-1 '\377'", (unsigned char)200 is "200 '\310'".
      const uint64_t byte = raw & 0xff;
      const std::string number =
          is_signed ? fmt::format("{}", as_signed(byte, 8)) : fmt::format("{}", byte);
      return number + " '" + escaped_char(static_cast<unsigned char>(byte), '\'') + "'";
    }
    default: return fmt::format("{:#x}", raw);
  }
}

}  // namespace coroner
