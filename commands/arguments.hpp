// Parsing of the words commands take: numbers and addresses the way crash
// accepts them (hex with or without 0x, symbol names, symbol+offset).
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::commands {

// A number: "0x1f", "1f" (hex when it has hex letters or the command's
// default is hex), or decimal digits.
Expected<uint64_t> parse_number(std::string_view text, int default_base = 10);

// A PID: decimal digits only, at most INT64_MAX; anything else (a sign, hex,
// a number too large) is an error naming the text.
Expected<int64_t> parse_pid(std::string_view text);

// An address: a symbol ("init_task", "panic+0x10") or a hex number
// ("ffffffff81000000", "0xffff...").
Expected<uint64_t> parse_address(const Program& program, std::string_view text);

// A CPU list as crash's -c takes it: "3", "1,8,9", "1-3", "0,2-3".
Expected<std::vector<uint32_t>> parse_cpu_list(std::string_view text);

// The CPU list of the option letter at args[i][j] ("-c LIST" or "-cLIST"):
// the rest of the word, else the next word (i then moves past it).
Expected<std::vector<uint32_t>> option_cpu_list(const std::vector<std::string>& args, size_t& i, size_t j,
                                                std::string_view usage);

}  // namespace coroner::commands
