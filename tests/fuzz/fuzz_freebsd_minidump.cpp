// FreeBSD minidumps: the header by version and architecture, the section
// layout, dump_avail, the page bitmap and its rank index, page reads, the
// page-table section through the kernel-VA translation, the message
// buffer; and the same input as a dump-device image (kerneldumpheader
// leader and trailer, extent, key).
#include "analyzer/arch/freebsd_minidump_paging.hpp"
#include "capture/format/freebsd_dump_device.hpp"
#include "capture/format/freebsd_minidump.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  auto source = std::make_shared<fuzz::InputSource>(fuzz::input_bytes(data, size));
  (void)freebsd::locate_device_dump(*source);
  auto dump = freebsd::Minidump::open(source, {"fuzz-input"}, {});
  if (!dump) return 0;
  const freebsd::Minidump& minidump = **dump;
  fuzz::exercise_dump(minidump);
  (void)minidump.message_buffer_section();
  const auto& h = minidump.header();
  auto section = [&](uint64_t index) { return minidump.page_table_entry(index); };
  auto physical = fuzz::entry_reader(minidump);
  // Addresses at the ends of the kernel window and of the direct map.
  for (uint64_t vaddr : {h.kernbase, h.kernbase + 0x1234, h.kernbase + uint64_t{h.pmap_size} * 512 - 8, h.dmap_base,
                         h.dmap_end - 1, h.dmap_end, ~uint64_t{0}}) {
    arch::Translation t = arch::translate_minidump(h, vaddr, section, physical);
    std::byte byte;
    if (t.paddr) (void)minidump.read(*t.paddr, std::span(&byte, 1));
  }
  return 0;
}
