// Values printed the way crash's `p` and `struct ADDR` show them (gdb's
// pretty printing: nested `{ member = value, ... }` with 2-space indents,
// pointers as 0x... <symbol+off>, char arrays as strings with every byte,
// "swapper/0\000\000..."), and as JSON (members as objects, numbers as
// numbers, pointers as "0x..." strings, char arrays as the C string up to
// the first NUL).
#pragma once

#include "analyzer/object.hpp"

#include <nlohmann/json.hpp>

namespace coroner {

// crash's p / px / pd (and struct -x / -d).
enum class IntegerBase { natural, hex, decimal };

// The value at nesting depth `depth` (members of the outermost struct are
// at depth 1). The object is read once, as a whole.
Expected<std::string> format_value(const Object& object, IntegerBase base, int depth = 0);
// As `p` shows a whole value: pointers with their type first
// ("(struct task_struct *) 0x... <init_task>"), functions as
// "{void (void)} 0x... <schedule>".
Expected<std::string> format_top_value(const Object& object, IntegerBase base);

Expected<nlohmann::json> value_json(const Object& object);

// " <name+off>" when address lies inside a kernel symbol, else "".
std::string symbol_suffix(const Program& program, uint64_t address);

}  // namespace coroner
