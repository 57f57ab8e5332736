#include "capture/erase/erased_dump.hpp"

#include "capture/format/text_file.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace coroner::capture {

Expected<std::vector<PhysicalErase>> physical_erases(const std::vector<EraseRange>& ranges,
                                                     const KernelMemory& memory, uint64_t page_size) {
  std::vector<PhysicalErase> out;
  for (const EraseRange& range : ranges) {
    uint64_t done = 0;
    while (done < range.size) {
      uint64_t vaddr = range.vaddr + done;
      uint64_t n = std::min(range.size - done, page_size - vaddr % page_size);
      auto where = memory.translate(vaddr);
      if (!where.paddr)
        return make_error(Errc::not_mapped, "cannot erase {:#x} ({} bytes): {}", vaddr, n,
                          where.error ? where.error->message() : "no translation");
      out.push_back({*where.paddr, n, range.fill});
      done += n;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.paddr < b.paddr; });
  return out;
}

ErasedDump::ErasedDump(const Dump& inner, std::vector<PhysicalErase> erases, std::string erase_info)
    : inner_(inner), erases_(std::move(erases)), erase_info_(std::move(erase_info)) {}

Expected<void> ErasedDump::read(uint64_t paddr, std::span<std::byte> out) const {
  CORONER_CHECK(inner_.read(paddr, out));
  uint64_t end = paddr + out.size();
  // Stretches are within one page, so none starting a page before `paddr` reaches it.
  uint64_t from = paddr > 0x10000 ? paddr - 0x10000 : 0;
  auto it = std::lower_bound(erases_.begin(), erases_.end(), from,
                             [](const PhysicalErase& e, uint64_t at) { return e.paddr < at; });
  for (; it != erases_.end() && it->paddr < end; ++it) {
    uint64_t start = std::max(paddr, it->paddr), stop = std::min(end, it->paddr + it->size);
    if (start < stop) std::fill(out.begin() + (start - paddr), out.begin() + (stop - paddr), it->fill);
  }
  return {};
}

Expected<std::unique_ptr<ErasedDump>> open_erased(const Dump& dump, const KernelMemory& memory,
                                                  const VmcoreInfo& info, const std::string& offsets_path) {
  auto text = read_text_file(offsets_path);
  if (!text) return make_error(Errc::not_found, "{}: cannot open the --config file", offsets_path);
  CORONER_TRY(program, parse_erase_offsets(*text, offsets_path));
  auto kernel_id = info.get("BUILD-ID");
  if (!program.build_id.empty() && kernel_id && *kernel_id != program.build_id)
    return make_error(Errc::invalid_argument,
                      "{}: made for the kernel of build-id {}, but the dump's kernel is {}: erasing at its "
                      "offsets could miss the secrets",
                      offsets_path, program.build_id, *kernel_id);
  auto ranges = evaluate_erase_program(program, memory, info.kernel_offset().value_or(0));
  if (!ranges) return ranges.error().context(offsets_path);
  auto erases = physical_erases(*ranges, memory, dump.page_size() ? dump.page_size() : 4096);
  if (!erases) return erases.error().context(offsets_path);
  return std::make_unique<ErasedDump>(dump, std::move(*erases), erase_info_text(*ranges));
}

uint64_t ErasedDump::erased_bytes() const {
  uint64_t total = 0;
  for (const PhysicalErase& e : erases_) total += e.size;
  return total;
}

}  // namespace coroner::capture
