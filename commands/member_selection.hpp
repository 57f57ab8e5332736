// What `list -s` and `tree -s` print below each entry (crash's
// "-s STRUCT[.MEMBER[,MEMBER...]]"), and the offsets `-o`/`-r`/`-l` take
// ("STRUCT.MEMBER" or a number). Types are looked up in vmlinux, then in
// the loaded modules' debug info (list fx_item.node of fx_crash.ko).
#pragma once

#include "analyzer/value_format.hpp"
#include "commands/command.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::commands {

// A struct/union type by name with the graph that holds it.
struct NamedType {
  const symbols::TypeGraph* graph = nullptr;
  symbols::QualifiedType type;
  std::string name;  // as written: "fx_item"
};
Expected<NamedType> find_named_type(const Program& program, std::string_view name);

// "STRUCT.MEMBER.PATH" -> its byte offset; a number -> itself.
Expected<uint64_t> parse_member_offset(const Program& program, std::string_view text);

struct MemberSelection {
  NamedType type;
  std::vector<std::string> members;  // empty: the whole structure
  IntegerBase base = IntegerBase::natural;
};
// "task_struct.pid,comm", "task_struct", "task_struct.se.on_rq"; its
// integers shown in `base` (-x/-d).
Expected<MemberSelection> parse_member_selection(const Program& program, std::string_view spec, IntegerBase base);

struct ShownMembers {
  std::string text;  // lines, each ending in '\n'
  nlohmann::json json = nlohmann::json::object();
};
// The selection of the structure at `address`, as crash prints it
// ("  pid = 1,\n" per member, or "struct NAME {...}\n").
Expected<ShownMembers> show_members(const Program& program, const MemberSelection& selection, uint64_t address);

// A start address: a number, symbol[+off], or an expression naming an
// object (`init_task.tasks` gives the address of the member).
Expected<uint64_t> parse_start_address(const Program& program, std::string_view text);

// How `list` and `tree` end their parsing: the -s SPEC if one was given
// (shown in `base`), then START. SPEC is checked first, so that its errors
// come before START's.
struct SelectionAndStart {
  std::optional<MemberSelection> members;
  uint64_t start = 0;
};
Expected<SelectionAndStart> parse_selection_and_start(const Program& program, std::optional<std::string_view> spec,
                                                      IntegerBase base, std::string_view start);

}  // namespace coroner::commands
