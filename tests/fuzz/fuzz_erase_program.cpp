// The erase offsets coroner-capture --config reads: a file made in advance
// on another machine, so possibly damaged or hostile. Parsed (every line
// form, the loops' nesting, the refs' steps), and the parsed program's erase
// info written back; running it against memory is left to the unit tests,
// whose bounds (2^24 elements) are too many executions for a fuzz run.
#include "capture/erase/erase_program.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner::capture;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto program = parse_erase_offsets(text, "fuzz.offsets");
  if (!program) {
    (void)program.error().message();
    return 0;
  }
  // Every command of every nested loop, as one range each.
  std::vector<EraseRange> ranges;
  auto visit = [&](const EraseLoop& loop, auto& self) -> void {
    for (const EraseCommand& command : loop.commands) ranges.push_back({0, 1, std::byte{'X'}, command.label});
    for (const EraseLoop& inner : loop.body) self(inner, self);
  };
  for (const EraseLoop& block : program->blocks) visit(block, visit);
  (void)erase_info_text(ranges);
  return 0;
}
