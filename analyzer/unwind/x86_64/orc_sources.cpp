#include "analyzer/unwind/x86_64/orc_sources.hpp"

#include "analyzer/unwind/x86_64/module_orc_location.hpp"

#include "symbols/elf_file.hpp"

#include <llvm/BinaryFormat/ELF.h>

#include <algorithm>

namespace coroner::unwind {
namespace {

// An ORC table holds one entry per instruction boundary at most: more
// entries than its code has bytes means a corrupt struct module or symbol.
// The absolute caps keep a garbled size from asking for gigabytes (vmlinux
// has some 10^5..10^6 entries, a module far fewer).
constexpr uint64_t kMaxModuleOrcs = 1u << 22;
constexpr uint64_t kMaxVmlinuxOrcs = 1u << 24;

struct SectionBytes {
  uint64_t address = 0;  // link-time
  llvm::StringRef bytes;
};

Expected<SectionBytes> section_bytes(const llvm::object::ObjectFile& object, const std::string& path,
                                     std::string_view wanted) {
  auto section = symbols::find_section(object, wanted);
  if (!section)
    return make_error(Errc::not_found, "{}: no {} section (a kernel built without CONFIG_UNWINDER_ORC?)", path, wanted);
  auto contents = section->getContents();
  if (!contents)
    return make_error(Errc::corrupt, "{}: section {}: {}", path, wanted, symbols::llvm_message(contents.takeError()));
  return SectionBytes{section->getAddress(), *contents};
}

std::span<const std::byte> as_bytes(llvm::StringRef text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// [start, end) between two run-time symbols; the error names the missing
// or reversed one.
Expected<MemoryRange> symbol_range(const Program& program, std::string_view start, std::string_view end) {
  CORONER_TRY(low, program.symbol_address(start));
  CORONER_TRY(high, program.symbol_address(end));
  if (high < low) return make_error(Errc::corrupt, "{} {:#x} is below {} {:#x}", end, high, start, low);
  return MemoryRange{low, high - low};
}

}  // namespace

const Expected<symbols::OrcFormat>& OrcSources::format() const {
  std::call_once(format_once_, [&] {
    // The kernel's DWARF says which layout struct orc_entry has; without it
    // the release decides.
    auto debug_info = program_.debug_info();
    if (debug_info) {
      auto from_dwarf = symbols::OrcFormat::from_debug_info(**debug_info);
      if (from_dwarf || from_dwarf.error().code() == Errc::unsupported) {
        format_.emplace(std::move(from_dwarf));
        return;
      }
    }
    format_.emplace(symbols::OrcFormat::for_release(program_.vmcoreinfo().osrelease()));
  });
  return *format_;
}

Expected<OrcSources::VmlinuxOrc> OrcSources::load_vmlinux_orc() const {
  const std::string& path = program_.vmlinux_path();
  CORONER_TRY(binary, symbols::open_elf(path));
  const llvm::object::ObjectFile& object = *binary.getBinary();
  const auto bias = static_cast<uint64_t>(program_.kaslr_offset());

  VmlinuxOrc orc;
  for (const llvm::object::SectionRef& section : object.sections()) {
    auto flags = llvm::object::ELFSectionRef(section).getFlags();
    if ((flags & llvm::ELF::SHF_ALLOC) && (flags & llvm::ELF::SHF_EXECINSTR) && section.getSize() > 0)
      orc.text.push_back({section.getAddress() + bias, section.getSize()});
  }
  CORONER_TRY(ips, section_bytes(object, path, ".orc_unwind_ip"));
  CORONER_TRY(entries, section_bytes(object, path, ".orc_unwind"));
  const Expected<symbols::OrcFormat>& layout = format();
  if (!layout) return layout.error();
  // The sections hold final contents: the ips are relative to their own
  // addresses, so the KASLR slide of the array is all that moves them.
  // The table is looked up where the sections lie: it keeps the file mapped.
  auto mapped = std::make_shared<llvm::object::OwningBinary<llvm::object::ObjectFile>>(std::move(binary));
  CORONER_TRY(table, symbols::OrcTable::build({as_bytes(ips.bytes), ips.address + bias, as_bytes(entries.bytes), mapped},
                                              *layout, path));
  orc.table = std::move(table);
  return orc;
}

Expected<OrcSources::VmlinuxOrc> OrcSources::read_vmlinux_orc() const {
  // The code the kernel's own unwinder looks up in these tables (its
  // core_kernel_text / init text; init text is freed after boot but its
  // entries stay).
  VmlinuxOrc orc;
  for (const auto& [start, end] : {std::pair{"_stext", "_etext"}, std::pair{"_sinittext", "_einittext"}}) {
    auto range = symbol_range(program_, start, end);
    if (!range) return range.error().context("vmlinux's code in the dump");
    orc.text.push_back(*range);
  }
  auto ips = symbol_range(program_, "__start_orc_unwind_ip", "__stop_orc_unwind_ip");
  auto entries = symbol_range(program_, "__start_orc_unwind", "__stop_orc_unwind");
  if (!ips || !entries)
    return (ips ? entries : ips)
        .error()
        .context("vmlinux's ORC tables in the dump (a kernel built without CONFIG_UNWINDER_ORC or KALLSYMS_ALL?)");
  const std::string where = fmt::format("vmlinux ORC tables in the dump (ips at {:#x}, entries at {:#x})", ips->start,
                                        entries->start);
  const uint64_t count = ips->size / symbols::OrcTable::kIpSize;
  uint64_t text_bytes = 0;
  for (const MemoryRange& range : orc.text) text_bytes += range.size;
  if (ips->size % symbols::OrcTable::kIpSize != 0 || entries->size != count * symbols::OrcTable::kEntrySize)
    return make_error(Errc::corrupt, "{}: {} bytes of ips and {} of entries are not {} entries of {}+{} bytes", where,
                      ips->size, entries->size, count, symbols::OrcTable::kIpSize, symbols::OrcTable::kEntrySize);
  if (count == 0 || count > kMaxVmlinuxOrcs || count > text_bytes)
    return make_error(Errc::corrupt, "{}: {} entries for {} bytes of code", where, count, text_bytes);
  const Expected<symbols::OrcFormat>& layout = format();
  if (!layout) return layout.error();

  std::vector<std::byte> ip_bytes(ips->size);
  std::vector<std::byte> entry_bytes(entries->size);
  if (auto read = program_.memory().read(ips->start, ip_bytes); !read) return read.error().context(where);
  if (auto read = program_.memory().read(entries->start, entry_bytes); !read) return read.error().context(where);
  CORONER_TRY(table, symbols::OrcTable::build(
                         symbols::OrcArrays::owning(std::move(ip_bytes), ips->start, std::move(entry_bytes)), *layout,
                         where));
  orc.table = std::move(table);
  return orc;
}

const Expected<OrcSources::VmlinuxOrc>& OrcSources::vmlinux_orc() const {
  std::call_once(vmlinux_once_, [&] {
    vmlinux_.emplace(source_ == UnwindSource::dump ? read_vmlinux_orc() : load_vmlinux_orc());
  });
  return *vmlinux_;
}

Expected<OrcSources::SharedOrc> OrcSources::load_module_orc(const KernelModule& module) const {
  const KernelMemory& memory = program_.memory();
  // Without the kernel's types (no vmlinux, no BTF) struct module's arch
  // is found by its shape.
  auto location = typed_module_orc_location(program_, module);
  if (!location) {
    auto by_shape = module_orc_location_by_shape(memory, module);
    if (!by_shape)
      return make_error(by_shape.error().code(), "{}; by its shape: {}", location.error().message(),
                        by_shape.error().message());
    location = *by_shape;
  }
  const auto [count, ips_address, entries_address] = *location;
  const std::string where = fmt::format("module {} (struct module at {:#x})", module.name, module.struct_address);
  if (count == 0 || ips_address == 0 || entries_address == 0)
    return make_error(Errc::not_found, "{}: no ORC table", where);
  if (count > kMaxModuleOrcs || count > module.size)
    return make_error(Errc::corrupt, "{}: arch.num_orcs {} is more than the module's {} bytes", where, count,
                      module.size);
  const Expected<symbols::OrcFormat>& layout = format();
  if (!layout) return layout.error();

  std::vector<std::byte> ips(count * symbols::OrcTable::kIpSize);
  std::vector<std::byte> entries(count * symbols::OrcTable::kEntrySize);
  if (auto read = memory.read(ips_address, ips); !read) return read.error().context(where + ": ORC ips");
  if (auto read = memory.read(entries_address, entries); !read) return read.error().context(where + ": ORC entries");
  CORONER_TRY(table, symbols::OrcTable::build(
                         symbols::OrcArrays::owning(std::move(ips), ips_address, std::move(entries)), *layout, where));
  return std::make_shared<const symbols::OrcTable>(std::move(table));
}

Expected<OrcSources::SharedOrc> OrcSources::module_orc(const KernelModule& module) const {
  {
    std::lock_guard lock(mutex_);
    if (auto it = modules_.find(module.struct_address); it != modules_.end()) return it->second;
  }
  auto loaded = load_module_orc(module);  // outside the lock: reads memory and DWARF
  std::lock_guard lock(mutex_);
  return modules_.emplace(module.struct_address, std::move(loaded)).first->second;
}

Expected<const KernelModule*> OrcSources::module_at(uint64_t pc) const {
  CORONER_TRY(modules, program_.modules());
  for (const auto& module : *modules)
    if (module->contains(pc)) return module.get();
  return static_cast<const KernelModule*>(nullptr);
}

Expected<std::optional<symbols::OrcEntry>> OrcSources::find(uint64_t pc) const {
  const Expected<VmlinuxOrc>& vmlinux = vmlinux_orc();
  if (vmlinux &&
      std::any_of(vmlinux->text.begin(), vmlinux->text.end(), [pc](const MemoryRange& r) { return r.contains(pc); }))
    return vmlinux->table->find(pc);
  // Modules' tables are their own: an unreadable vmlinux table (a page
  // missing from the dump) leaves them usable.
  CORONER_TRY(module, module_at(pc));
  if (!module) {
    if (!vmlinux) return vmlinux.error();
    return std::optional<symbols::OrcEntry>();
  }
  CORONER_TRY(table, module_orc(*module));
  return table->find(pc);
}

Expected<OrcSources::SharedCfi> OrcSources::cfi_table(const std::string& path, int64_t bias,
                                                      const symbols::SectionAddresses* sections) const {
  {
    std::lock_guard lock(mutex_);
    if (auto it = cfi_tables_.find(path); it != cfi_tables_.end()) return it->second;
  }
  Expected<SharedCfi> loaded = [&]() -> Expected<SharedCfi> {
    CORONER_TRY(table, symbols::CfiTable::open(path, bias, sections));
    return SharedCfi(std::move(table));
  }();
  std::lock_guard lock(mutex_);
  return cfi_tables_.emplace(path, std::move(loaded)).first->second;
}

Expected<std::optional<symbols::CfiRow>> OrcSources::find_cfi(uint64_t pc) const {
  // A pc in vmlinux's text needs no module list: reading the modules can
  // cost a cold session the DWARF name index (their types lie deep in it).
  const Expected<VmlinuxOrc>& vmlinux = vmlinux_orc();
  const bool in_vmlinux = vmlinux && std::any_of(vmlinux->text.begin(), vmlinux->text.end(),
                                                 [pc](const MemoryRange& r) { return r.contains(pc); });
  const KernelModule* module = nullptr;
  if (!in_vmlinux) {
    CORONER_TRY(found, module_at(pc));
    module = found;
  }
  if (module && module->object_path().empty())
    return make_error(Errc::not_found, "module {}: no object file for DWARF CFI", module->name);
  if (!module && source_ == UnwindSource::dump) return std::optional<symbols::CfiRow>();  // no vmlinux file
  auto table = module ? cfi_table(module->object_path(), 0, &module->sections)
                      : cfi_table(program_.vmlinux_path(), program_.kaslr_offset(), nullptr);
  if (!table) return table.error();
  return (*table)->find(pc);
}

}  // namespace coroner::unwind
