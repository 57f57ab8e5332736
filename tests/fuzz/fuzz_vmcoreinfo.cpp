// VMCOREINFO text: the KEY=VALUE parser, its typed lookups, and the
// architectures built from it (page size, VA bits, KASLR, 5-level paging).
#include "analyzer/arch/arch.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  VmcoreInfo info = VmcoreInfo::parse(text);
  for (const auto& [key, value] : info.entries()) {
    (void)parse_uint(value, 0);
    (void)parse_int(value, 0);
  }
  (void)info.symbol("swapper_pg_dir");
  (void)info.number("phys_base");
  (void)info.offset("page.flags");
  (void)info.size("page");
  (void)info.length("mem_section");
  (void)info.kernel_offset();
  (void)info.page_size();
  (void)info.crash_time();
  (void)info.osrelease();
  (void)info.build_id();
  for (Machine machine : {Machine::x86_64, Machine::aarch64}) {
    auto arch = arch::make_arch(machine, info);
    if (!arch) continue;
    (void)(*arch)->direct_to_phys(0xffffffff81000000);
    (void)(*arch)->linear_map_base();
  }
  return 0;
}
