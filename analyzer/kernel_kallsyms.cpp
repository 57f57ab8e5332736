#include "analyzer/kernel_kallsyms.hpp"

#include "symbols/kallsyms_scan.hpp"

#include <algorithm>

namespace coroner {

namespace {

// How far past _stext the tables may lie: x86_64's kernel image is at most 1 GiB.
constexpr uint64_t kMaxImageScan = uint64_t{1} << 30, kBelowData = uint64_t{64} << 20;

// Where to look for the tables: the kernel image from _stext on (kallsyms
// is read-only data after the text); without SYMBOL(_stext), the 64 MiB
// below the lowest kernel-image symbol VMCOREINFO names.
Expected<std::pair<uint64_t, uint64_t>> image_range(const VmcoreInfo& info) {
  if (auto stext = info.symbol("_stext")) return std::pair{*stext, *stext + std::min(kMaxImageScan, ~*stext)};
  if (auto uts = info.symbol("init_uts_ns"); uts && *uts > kBelowData)
    return std::pair{*uts - kBelowData, *uts};
  return make_error(Errc::not_found, "kallsyms: VMCOREINFO names neither _stext nor init_uts_ns to find the kernel "
                                     "image by");
}

// Whether the decoded symbols are the kernel's: most of the VMCOREINFO
// SYMBOL()s that kallsyms has by name are there at VMCOREINFO's address
// (not all: SYMBOL(mem_section) is the array the pointer points to).
bool agrees_with(const std::vector<symbols::Symbol>& decoded, const VmcoreInfo& info) {
  size_t agree = 0, disagree = 0;
  for (const auto& [key, value] : info.entries()) {
    if (!key.starts_with("SYMBOL(") || !key.ends_with(")")) continue;
    const std::string_view name = std::string_view(key).substr(7, key.size() - 8);
    const std::optional<uint64_t> address = info.symbol(name);
    bool named = false, placed = false;
    for (const symbols::Symbol& s : decoded)
      if (s.name == name) {
        named = true;
        placed |= s.address == address;
      }
    agree += placed;
    disagree += named && !placed;
  }
  return agree > disagree;
}

// Before Linux 6.0: the tables found by their structure in the image, the
// layout whose symbols agree with VMCOREINFO's.
Expected<std::vector<symbols::Symbol>> scan_kernel_kallsyms(const VmcoreInfo& info,
                                                            const symbols::ReadKernelMemory& read) {
  const std::string release = info.osrelease();
  const std::string kernel = release.empty() ? "the kernel" : "the kernel (" + release + ")";
  auto range = image_range(info);
  if (!range) return range.error().context(fmt::format("VMCOREINFO has no SYMBOL(kallsyms_names) ({} is older "
                                                       "than Linux 6.0)", kernel));
  auto found = symbols::scan_kallsyms_tables(range->first, range->second, read);
  if (!found) return found.error().context(fmt::format("VMCOREINFO has no SYMBOL(kallsyms_names) ({} is older "
                                                       "than Linux 6.0), and scanning its image", kernel));
  for (const symbols::KallsymsTables& tables : *found)
    if (auto decoded = symbols::decode_kallsyms(tables, read); decoded && agrees_with(*decoded, info)) return decoded;
  return make_error(Errc::corrupt, "kallsyms: the tables found at {:#x} (kallsyms_names) decode to no addresses "
                                   "that agree with VMCOREINFO's symbols",
                    found->front().names);
}

}  // namespace

Expected<symbols::KallsymsTables> kallsyms_tables(const VmcoreInfo& info) {
  if (!info.symbol("kallsyms_names")) {
    const std::string release = info.osrelease();
    return make_error(Errc::not_found,
                      "kallsyms: VMCOREINFO has no SYMBOL(kallsyms_names): the kernel{} is older than Linux 6.0",
                      release.empty() ? "" : " (" + release + ")");
  }
  symbols::KallsymsTables tables;
  CORONER_TRY(num_syms, info.require_symbol("kallsyms_num_syms"));
  CORONER_TRY(names, info.require_symbol("kallsyms_names"));
  CORONER_TRY(token_table, info.require_symbol("kallsyms_token_table"));
  CORONER_TRY(token_index, info.require_symbol("kallsyms_token_index"));
  tables.num_syms = num_syms;
  tables.names = names;
  tables.token_table = token_table;
  tables.token_index = token_index;
  if (auto addresses = info.symbol("kallsyms_addresses")) {
    tables.addresses = *addresses;
  } else {
    CORONER_TRY(offsets, info.require_symbol("kallsyms_offsets"));
    CORONER_TRY(base, info.require_symbol("kallsyms_relative_base"));
    tables.offsets = offsets;
    tables.relative_base = base;
  }
  return tables;
}

Expected<symbols::SymbolTable> read_kernel_kallsyms(const VmcoreInfo& info, const KernelMemory& memory) {
  auto read = [&memory](uint64_t address, size_t length) -> Expected<std::vector<std::byte>> {
    std::vector<std::byte> bytes(length);
    CORONER_CHECK(memory.read(address, bytes));
    return bytes;
  };
  if (!info.symbol("kallsyms_names")) {
    CORONER_TRY(scanned, scan_kernel_kallsyms(info, read));
    return symbols::SymbolTable::from_symbols(std::move(scanned));
  }
  CORONER_TRY(tables, kallsyms_tables(info));
  CORONER_TRY(decoded, symbols::decode_kallsyms(tables, read));
  return symbols::SymbolTable::from_symbols(std::move(decoded));
}

}  // namespace coroner
