// Values printed the way crash's `p` and `struct ADDR` show them (gdb's
// pretty printing: nested `{ member = value, ... }` with 2-space indents,
// pointers as 0x... <symbol+off>, char arrays as strings with every byte,
// "swapper/0\000\000..."), and as JSON (members as objects, numbers as
// numbers, pointers as "0x..." strings, char arrays as the C string up to
// the first NUL).
#pragma once

#include "analyzer/object.hpp"
#include "analyzer/print_format.hpp"

#include <nlohmann/json.hpp>

namespace coroner {

// crash's p / px / pd (and struct -x / -d).
enum class IntegerBase { natural, hex, decimal };

// The value at nesting depth `depth` (members of the outermost struct are
// at depth 1). The object is read once, as a whole. A gdb format letter
// (p/x) applies to every scalar inside the value and overrides `base`.
Expected<std::string> format_value(const Object& object, IntegerBase base, int depth = 0,
                                   PrintFormat format = PrintFormat::natural);
// As `p` shows a whole value: pointers with their type first
// ("(struct task_struct *) 0x... <init_task>"), functions as
// "{void (void)} 0x... <schedule>"; with a format letter other than /s,
// pointers without their type (as gdb).
Expected<std::string> format_top_value(const Object& object, IntegerBase base,
                                       PrintFormat format = PrintFormat::natural);

Expected<nlohmann::json> value_json(const Object& object);

// " <name+off>" when address lies inside a kernel symbol, else "".
std::string symbol_suffix(const Program& program, uint64_t address);

}  // namespace coroner
