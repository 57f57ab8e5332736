// kdump-compressed dumps: the disk_dump_header and sub-header, the two
// bitmaps, the note area and VMCOREINFO, page descriptors and the pages
// they point to (raw or compressed).
#include "capture/format/kdump_compressed.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  auto dump = open_kdump({std::make_shared<fuzz::InputSource>(fuzz::input_bytes(data, size))});
  if (!dump) return 0;
  fuzz::exercise_dump(**dump);
  // The dumped pages among the first pfns, by descriptor (a scan of every
  // pfn would cost more than the rest of the run).
  const auto& kdump = static_cast<const KdumpDump&>(**dump);
  int dumped = 0;
  for (uint64_t pfn = 0; pfn < std::min<uint64_t>(kdump.max_mapnr(), 4096) && dumped < 16; ++pfn) {
    if (!kdump.page_dumped(pfn)) continue;
    ++dumped;
    (void)kdump.codec_of_page(pfn);
    std::byte byte;
    (void)kdump.read(pfn * kdump.page_size(), std::span(&byte, 1));
  }
  return 0;
}
