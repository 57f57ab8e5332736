// BTF made from a list of structure layouts (libbpf's btf__add_* writer):
// how types found some other way than from debug info -- the offsets the
// Linux model infers from a dump's memory when the kernel has neither DWARF
// nor BTF -- reach the same TypeGraph and DebugInfo as real BTF
// (DebugInfo::open_btf). Only what a layout names is described: a struct
// holds the members that were found, at their offsets, and nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "capture/format/error.hpp"

namespace coroner::symbols {

// A member's type is spelled as C spells it, from these pieces: the base
// types (char, int, unsigned int, long, unsigned long, ... and the kernel's
// u8..u64, s8..s64), "struct NAME" (a layout of the list, else a forward
// declaration), another layout's typedef name, then " *" for each level of
// pointer and "[N]" for an array: "char[16]", "struct task_struct *",
// "atomic_long_t[4]".
struct SyntheticMember {
  std::string name;
  uint64_t offset = 0;  // bytes
  std::string type;
};

struct SyntheticStruct {
  std::string name;   // "task_struct" for struct task_struct
  uint64_t size = 0;  // bytes; at least the end of its last member
  std::vector<SyntheticMember> members;
  bool typedef_only = false;  // an anonymous struct known by the typedef `name` (atomic_t)
};

// The raw BTF (what a .BTF section holds) of the layouts; an error names a
// type that cannot be spelled or a member beyond its struct's size.
Expected<std::vector<std::byte>> synthetic_btf(const std::vector<SyntheticStruct>& layouts);

}  // namespace coroner::symbols
