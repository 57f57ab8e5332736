// gdb's print format letters, which crash users type as `p/x EXPR` (crash
// hands them to gdb): x hex, d signed and u unsigned decimal, o octal,
// t binary, c character, a address, s string, z zero-padded hex.
#pragma once

#include "capture/format/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace coroner {

enum class PrintFormat : char {
  natural = 0,
  hex = 'x',
  signed_decimal = 'd',
  unsigned_decimal = 'u',
  octal = 'o',
  binary = 't',
  character = 'c',
  address = 'a',
  string = 's',  // a value's natural form (char arrays and char * as strings)
  zero_hex = 'z',
};

// The letter after "p/" ("x" of "p/x"): one of the letters above.
Expected<PrintFormat> parse_print_format(std::string_view letters);

// A scalar of `bits` bits (the low bits of `value`; signed types are read
// sign-extended from them) in one of the numeric formats: x d u o t c z
// (not a or s, which need the program; a as x here).
std::string format_scalar(uint64_t value, uint64_t bits, bool is_signed, PrintFormat format);

// A character inside a C string or char literal, escaped as gdb does
// ("\n", "\\", the quote, "\ooo" for other non-printable bytes).
std::string escaped_char(unsigned char c, char quote);

}  // namespace coroner
