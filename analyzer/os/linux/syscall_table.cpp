#include "analyzer/os/linux/syscall_table.hpp"

#include "analyzer/object.hpp"

namespace coroner::linux_kernel {

namespace {

// More slots than any architecture has (x86_64 has about 450): a larger
// table is a misread size.
constexpr uint64_t kMaxSystemCalls = 4096;

// How far into a handler crash looks for a row outside a header.
constexpr uint64_t kMaxLineScan = 256;

bool in_header(const std::string& file) { return file.ends_with(".h") && file.find("include/") != std::string::npos; }

// The handler's source line: the first row from its entry on that is not in
// an include/*.h header.
void find_line(const Program& program, SystemCall& call, uint64_t handler_size) {
  int64_t bias = 0;
  auto table = program.line_table_for(call.handler, &bias);
  if (!table) return;
  uint64_t scan = std::min(handler_size ? handler_size : 1, kMaxLineScan);
  for (uint64_t at = call.handler; at < call.handler + scan; ++at) {
    auto line = (*table)->line_for_address(at - static_cast<uint64_t>(bias));
    if (!line || in_header(line->file)) continue;
    call.file = line->file, call.line = line->line;
    return;
  }
}

Expected<uint64_t> table_slots(const Program& program, const GlobalObject& table) {
  auto size = table.object.byte_size();
  uint64_t bytes = size ? *size : 0;
  if (bytes == 0)
    if (const symbols::Symbol* symbol = program.symbols().find("sys_call_table")) bytes = symbol->size;
  if (bytes == 0) return make_error(Errc::not_found, "sys_call_table: its size is unknown (no DWARF array length, "
                                    "no ELF symbol size)");
  uint64_t slots = bytes / 8;
  if (slots > kMaxSystemCalls)
    return make_error(Errc::corrupt, "sys_call_table: {} slots exceed {}", slots, kMaxSystemCalls);
  return slots;
}

}  // namespace

Expected<SystemCallTable> system_call_table(const Program& program, bool with_lines) {
  CORONER_TRY(table, find_kernel_global(program, "sys_call_table"));
  CORONER_TRY(slots, table_slots(program, table));
  SystemCallTable result;
  result.address = table.object.address().value_or(0);
  std::vector<uint64_t> handlers(slots);
  CORONER_CHECK(program.memory().read(result.address, std::as_writable_bytes(std::span(handlers))));
  for (uint64_t i = 0; i < slots; ++i) {
    SystemCall call;
    call.number = static_cast<uint32_t>(i);
    call.handler = handlers[i];
    uint64_t handler_size = 0;
    if (auto symbol = program.describe_address(call.handler); symbol && symbol->offset == 0) {
      call.name = symbol->symbol->name;
      handler_size = symbol->symbol->size;
    }
    if (with_lines && !call.name.empty()) find_line(program, call, handler_size);
    result.calls.push_back(std::move(call));
  }
  return result;
}

}  // namespace coroner::linux_kernel
