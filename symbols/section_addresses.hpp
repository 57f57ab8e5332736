// Where a relocatable object's (a kernel module's) sections were loaded.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace coroner::symbols {

// Section name -> run-time load address.
using SectionAddresses = std::map<std::string, uint64_t>;

}  // namespace coroner::symbols
