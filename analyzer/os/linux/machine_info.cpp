#include "analyzer/os/linux/machine_info.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/system_info.hpp"

namespace coroner::linux_kernel {

namespace {

// x86_64's fixed regions (arch/x86/include/asm/page_64_types.h,
// pgtable_64_types.h): the kernel image map and the module area after it.
constexpr uint64_t kX86StartKernelMap = 0xffffffff80000000;
constexpr uint64_t kX86ModulesVaddr = 0xffffffffc0000000;

template <typename T>
std::optional<T> keep(Expected<T> value, std::string_view what, std::vector<std::string>& problems) {
  if (value) return std::move(*value);
  problems.push_back(fmt::format("{}: {}", what, value.error().message()));
  return std::nullopt;
}

Expected<uint64_t> kernel_variable(const Program& program, std::string_view name) {
  CORONER_TRY(object, kernel_object(program, name));
  return object.read_unsigned();
}

Expected<uint64_t> vmcoreinfo_number(const Program& program, std::string_view name) {
  if (auto value = program.vmcoreinfo().number(name)) return static_cast<uint64_t>(*value);
  return make_error(Errc::not_found, "VMCOREINFO has no NUMBER({})", name);
}

void read_x86_64_regions(const Program& program, MachineInfo& info) {
  info.kernel_virtual_base = keep(kernel_variable(program, "page_offset_base"), "page_offset_base", info.problems);
  info.vmalloc_base = keep(kernel_variable(program, "vmalloc_base"), "vmalloc_base", info.problems);
  info.vmemmap_base = keep(kernel_variable(program, "vmemmap_base"), "vmemmap_base", info.problems);
  info.kernel_start_map = kX86StartKernelMap;
  info.modules_base = kX86ModulesVaddr;
}

void read_arm64_regions(const Program& program, MachineInfo& info) {
  // PAGE_OFFSET is the bottom of the VA_BITS-wide kernel half.
  if (auto va_bits = keep(vmcoreinfo_number(program, "VA_BITS"), "VA_BITS", info.problems); va_bits && *va_bits < 64)
    info.kernel_virtual_base = ~uint64_t{0} << *va_bits;
  info.modules_base = keep(vmcoreinfo_number(program, "MODULES_VADDR"), "MODULES_VADDR", info.problems);
  info.vmalloc_base = keep(vmcoreinfo_number(program, "VMALLOC_START"), "VMALLOC_START", info.problems);
  info.vmemmap_base = keep(vmcoreinfo_number(program, "VMEMMAP_START"), "VMEMMAP_START", info.problems);
}

// THREAD_SIZE: the init task's stack, which the linker script places
// between __start_init_task and __end_init_task.
Expected<uint64_t> thread_size(const Program& program) {
  CORONER_TRY(start, program.symbol_address("__start_init_task"));
  CORONER_TRY(end, program.symbol_address("__end_init_task"));
  if (end <= start) return make_error(Errc::corrupt, "__end_init_task {:#x} is not after __start_init_task", end);
  return end - start;
}

}  // namespace

Expected<uint64_t> linear_map_base(const Program& program) {
  if (auto base = program.arch().linear_map_base()) return *base;
  if (program.arch().machine() == Machine::x86_64) return kernel_variable(program, "page_offset_base");
  return make_error(Errc::unsupported, "the linear map of this {} dump is unknown", program.arch().name());
}

MachineInfo read_machine_info(const Program& program) {
  SystemInfo system = read_system_info(program);
  MachineInfo info;
  info.machine = system.uts.machine;
  info.memory_bytes = system.memory_bytes;
  info.cpus = system.present_cpus.size();
  info.cpu_mhz = system.cpu_mhz;
  info.problems = system.problems;
  info.hz = keep(tick_rate(program), "HZ", info.problems);
  info.page_size = program.arch().page_size();
  if (program.arch().machine() == Machine::x86_64) read_x86_64_regions(program, info);
  else read_arm64_regions(program, info);
  info.kernel_stack_size = keep(thread_size(program), "THREAD_SIZE", info.problems);
  return info;
}

Expected<std::vector<FirmwareMemoryRange>> e820_memory_map(const Program& program) {
  if (program.arch().machine() != Machine::x86_64)
    return make_error(Errc::unsupported, "the e820 memory map is x86_64's; this dump is {}", program.arch().name());
  CORONER_TRY(table, kernel_variable(program, "e820_table"));
  CORONER_TRY(count_offset, program.member_offset("struct e820_table", "nr_entries"));
  CORONER_TRY(entries, program.member_offset("struct e820_table", "entries"));
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(entries_size, debug->find_member("struct e820_table", "entries"));
  CORONER_TRY(array_bytes, entries_size.type.type->size());
  CORONER_TRY(entry_size, program.type_size("struct e820_entry"));
  CORONER_TRY(addr, program.member_offset("struct e820_entry", "addr"));
  CORONER_TRY(size, program.member_offset("struct e820_entry", "size"));
  CORONER_TRY(type, program.member_offset("struct e820_entry", "type"));
  const KernelMemory& memory = program.memory();
  CORONER_TRY(count, memory.read_u32(table + count_offset));
  if (entry_size == 0 || count > array_bytes / entry_size)
    return make_error(Errc::corrupt, "e820_table {:#x}: nr_entries {} exceeds its {} entries", table, count,
                      entry_size ? array_bytes / entry_size : 0);
  std::vector<FirmwareMemoryRange> ranges;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t entry = table + entries + i * entry_size;
    CORONER_TRY(start, memory.read_u64(entry + addr));
    CORONER_TRY(length, memory.read_u64(entry + size));
    CORONER_TRY(kind, memory.read_u32(entry + type));
    ranges.push_back({start, start + length, kind});
  }
  return ranges;
}

}  // namespace coroner::linux_kernel
