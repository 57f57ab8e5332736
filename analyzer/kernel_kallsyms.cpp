#include "analyzer/kernel_kallsyms.hpp"

namespace coroner {

Expected<symbols::KallsymsTables> kallsyms_tables(const VmcoreInfo& info) {
  if (!info.symbol("kallsyms_names")) {
    const std::string release = info.osrelease();
    return make_error(Errc::unsupported,
                      "kallsyms: VMCOREINFO has no SYMBOL(kallsyms_names): the kernel{} is older than Linux 6.0, and "
                      "finding the tables by scanning its image is not implemented",
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
  CORONER_TRY(tables, kallsyms_tables(info));
  auto read = [&memory](uint64_t address, size_t length) -> Expected<std::vector<std::byte>> {
    std::vector<std::byte> bytes(length);
    CORONER_CHECK(memory.read(address, bytes));
    return bytes;
  };
  CORONER_TRY(decoded, symbols::decode_kallsyms(tables, read));
  return symbols::SymbolTable::from_symbols(std::move(decoded));
}

}  // namespace coroner
