#include "analyzer/os/linux/modules.hpp"

#include "analyzer/os/linux/list_walk.hpp"
#include "analyzer/os/linux/module_btf.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <span>

namespace coroner::linux_kernel {

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxModules = 65536;       // the list is bounded by memory, not by the kernel
constexpr uint32_t kMaxSections = 65535;    // ELF's e_shnum
constexpr uint32_t kMaxNotes = 256;
constexpr uint64_t kMaxNoteBytes = 4096;
constexpr size_t kMaxScannedEntries = 200000;  // per search directory
constexpr int kMaxScanDepth = 8;

// Offsets of struct module and friends that every module needs, read from
// DWARF once per listing.
struct Layout {
  uint64_t list = 0, name = 0, name_size = 0;
  // 6.4+: mem[MOD_MEM_NUM_TYPES] of struct module_memory.
  bool per_type_memory = false;
  uint64_t mem = 0, mem_count = 0, mem_stride = 0, mem_base = 0, mem_size = 0;
  std::set<uint64_t> init_types;  // MOD_INIT_* indexes of mem[]
  uint64_t text_type = 0;         // MOD_TEXT
  // 4.5-6.3: core_layout.{base,size}; earlier: module_core, core_size.
  uint64_t core_base = 0, core_size = 0;
  std::optional<uint64_t> sect_attrs;  // absent without sysfs or kallsyms
  uint64_t nsections = 0, sect_array = 0, sect_stride = 0, sect_name = 0, sect_address = 0;
  std::optional<uint64_t> notes_attrs;
  uint64_t nnotes = 0, note_array = 0, note_stride = 0, note_name = 0, note_size = 0, note_data = 0;
};

Expected<std::optional<uint64_t>> optional_member(symbols::DebugInfo& info, std::string_view type,
                                                  std::string_view member) {
  CORONER_TRY(present, info.has_member(type, member));
  if (!present) return std::optional<uint64_t>();
  CORONER_TRY(offset, info.member_offset(type, member));
  return std::optional<uint64_t>(offset);
}

Expected<Layout> read_layout(symbols::DebugInfo& info) {
  Layout l;
  CORONER_TRY(list, info.member_offset("struct module", "list"));
  CORONER_TRY(name, info.find_member("struct module", "name"));
  CORONER_TRY(name_size, name.type.type->size());
  l.list = list;
  l.name = name.bit_offset / 8;
  l.name_size = name_size;

  CORONER_TRY(mem, optional_member(info, "struct module", "mem"));
  CORONER_TRY(core_layout, optional_member(info, "struct module", "core_layout"));
  if (mem) {
    l.per_type_memory = true;
    l.mem = *mem;
    CORONER_TRY(member, info.find_member("struct module", "mem"));
    CORONER_TRY(array, underlying(member.type));
    CORONER_TRY(stride, info.type_size("struct module_memory"));
    CORONER_TRY(base, info.member_offset("struct module_memory", "base"));
    CORONER_TRY(size, info.member_offset("struct module_memory", "size"));
    l.mem_count = array->length().value_or(0);
    l.mem_stride = stride;
    l.mem_base = base;
    l.mem_size = size;
    if (auto text = info.find_enumerator("MOD_TEXT")) l.text_type = static_cast<uint64_t>(*text);
    for (const char* init : {"MOD_INIT_TEXT", "MOD_INIT_DATA", "MOD_INIT_RODATA"})
      if (auto value = info.find_enumerator(init)) l.init_types.insert(static_cast<uint64_t>(*value));
  } else if (core_layout) {
    CORONER_TRY(base, info.member_offset("struct module", "core_layout.base"));
    CORONER_TRY(size, info.member_offset("struct module", "core_layout.size"));
    l.core_base = base;
    l.core_size = size;
  } else {
    CORONER_TRY(base, info.member_offset("struct module", "module_core"));
    CORONER_TRY(size, info.member_offset("struct module", "core_size"));
    l.core_base = base;
    l.core_size = size;
  }

  CORONER_TRY(sect_attrs, optional_member(info, "struct module", "sect_attrs"));
  if (sect_attrs) {
    l.sect_attrs = sect_attrs;
    CORONER_TRY(count, info.member_offset("struct module_sect_attrs", "nsections"));
    CORONER_TRY(array, info.member_offset("struct module_sect_attrs", "attrs"));
    CORONER_TRY(stride, info.type_size("struct module_sect_attr"));
    // 5.8 moved the name into a bin_attribute.
    CORONER_TRY(plain_name, optional_member(info, "struct module_sect_attr", "name"));
    CORONER_TRY(address, info.member_offset("struct module_sect_attr", "address"));
    auto name_at = plain_name ? Expected<uint64_t>(*plain_name) : info.member_offset("struct module_sect_attr", "battr.attr.name");
    if (!name_at) return name_at.error();
    l.nsections = count;
    l.sect_array = array;
    l.sect_stride = stride;
    l.sect_name = *name_at;
    l.sect_address = address;
  }
  CORONER_TRY(notes_attrs, optional_member(info, "struct module", "notes_attrs"));
  if (notes_attrs) {
    l.notes_attrs = notes_attrs;
    CORONER_TRY(count, info.member_offset("struct module_notes_attrs", "notes"));
    CORONER_TRY(array, info.member_offset("struct module_notes_attrs", "attrs"));
    CORONER_TRY(stride, info.type_size("struct bin_attribute"));
    CORONER_TRY(name_at, info.member_offset("struct bin_attribute", "attr.name"));
    CORONER_TRY(size, info.member_offset("struct bin_attribute", "size"));
    CORONER_TRY(data, info.member_offset("struct bin_attribute", "private"));
    l.nnotes = count;
    l.note_array = array;
    l.note_stride = stride;
    l.note_name = name_at;
    l.note_size = size;
    l.note_data = data;
  }
  return l;
}

// The GNU build-id in a run of ELF notes, "" when there is none.
std::string build_id_in_notes(const std::vector<uint8_t>& bytes) {
  auto u32 = [&bytes](size_t at) {
    return uint32_t(bytes[at]) | uint32_t(bytes[at + 1]) << 8 | uint32_t(bytes[at + 2]) << 16 |
           uint32_t(bytes[at + 3]) << 24;
  };
  auto align4 = [](uint64_t n) { return (n + 3) & ~uint64_t(3); };
  uint64_t at = 0;
  while (at + 12 <= bytes.size()) {
    const uint64_t name_size = u32(at), desc_size = u32(at + 4), type = u32(at + 8);
    const uint64_t name_at = at + 12, desc_at = name_at + align4(name_size);
    if (desc_at > bytes.size() || desc_size > bytes.size() - desc_at) break;
    if (type == 3 /* NT_GNU_BUILD_ID */ && name_size == 4 && std::equal(bytes.begin() + name_at,
                                                                        bytes.begin() + name_at + 4, "GNU")) {
      std::string hex;
      for (uint64_t i = 0; i < desc_size; ++i) hex += fmt::format("{:02x}", bytes[desc_at + i]);
      return hex;
    }
    at = desc_at + align4(desc_size);
  }
  return {};
}

Expected<void> read_memory(const Program& program, const Layout& l, KernelModule& module) {
  const KernelMemory& memory = program.memory();
  const uint64_t m = module.struct_address;
  if (l.per_type_memory) {
    for (uint64_t type = 0; type < l.mem_count; ++type) {
      const uint64_t entry = m + l.mem + type * l.mem_stride;
      CORONER_TRY(base, memory.read_u64(entry + l.mem_base));
      CORONER_TRY(size, memory.read_u32(entry + l.mem_size));
      if (type == l.text_type) module.base = base;
      if (l.init_types.count(type) || size == 0) continue;
      module.core.push_back({base, size});
      module.size += size;
    }
    return {};
  }
  CORONER_TRY(base, memory.read_u64(m + l.core_base));
  CORONER_TRY(size, memory.read_u32(m + l.core_size));
  module.base = base;
  module.size = size;
  module.core.push_back({base, size});
  return {};
}

Expected<void> read_sections(const Program& program, const Layout& l, KernelModule& module) {
  if (!l.sect_attrs) return {};
  const KernelMemory& memory = program.memory();
  CORONER_TRY(attrs, memory.read_u64(module.struct_address + *l.sect_attrs));
  if (attrs == 0) return {};
  CORONER_TRY(count, memory.read_u32(attrs + l.nsections));
  if (count > kMaxSections)
    return make_error(Errc::corrupt, "module {}: section list at {:#x} claims {} sections", module.name, attrs, count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t entry = attrs + l.sect_array + i * l.sect_stride;
    CORONER_TRY(name_pointer, memory.read_u64(entry + l.sect_name));
    CORONER_TRY(name, memory.read_string(name_pointer, 256));
    CORONER_TRY(address, memory.read_u64(entry + l.sect_address));
    module.sections[name] = address;
  }
  return {};
}

Expected<void> read_build_id(const Program& program, const Layout& l, KernelModule& module) {
  if (!l.notes_attrs) return {};
  const KernelMemory& memory = program.memory();
  CORONER_TRY(attrs, memory.read_u64(module.struct_address + *l.notes_attrs));
  if (attrs == 0) return {};
  CORONER_TRY(count, memory.read_u32(attrs + l.nnotes));
  if (count > kMaxNotes)
    return make_error(Errc::corrupt, "module {}: note list at {:#x} claims {} notes", module.name, attrs, count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t entry = attrs + l.note_array + i * l.note_stride;
    CORONER_TRY(name_pointer, memory.read_u64(entry + l.note_name));
    CORONER_TRY(name, memory.read_string(name_pointer, 256));
    if (name != ".note.gnu.build-id") continue;
    CORONER_TRY(size, memory.read_u64(entry + l.note_size));
    CORONER_TRY(data, memory.read_u64(entry + l.note_data));
    std::vector<uint8_t> bytes(std::min(size, kMaxNoteBytes));
    CORONER_CHECK(memory.read(data, std::as_writable_bytes(std::span(bytes))));
    module.build_id = build_id_in_notes(bytes);
  }
  return {};
}

std::string normalized(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

// The module name a file would hold: "fx-crash.ko" -> "fx_crash".
std::optional<std::string> module_name_of(const fs::path& file) {
  std::string name = file.filename().string();
  for (std::string_view suffix : {".ko.debug", ".ko"})
    if (name.size() > suffix.size() && name.ends_with(suffix))
      return normalized(name.substr(0, name.size() - suffix.size()));
  return std::nullopt;
}

// Object files by module name under each directory, in search order. A
// file reached twice (a directory listed twice, or inside another listed
// one, or through a link) is listed once: each candidate is opened once.
std::map<std::string, std::vector<std::string>> scan_objects(const std::vector<std::string>& dirs) {
  std::map<std::string, std::vector<std::string>> found;
  std::set<fs::path> listed;
  for (const std::string& dir : dirs) {
    std::error_code error;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, error);
    size_t seen = 0;
    for (; !error && it != fs::recursive_directory_iterator() && seen < kMaxScannedEntries; it.increment(error), ++seen) {
      if (it.depth() >= kMaxScanDepth) it.disable_recursion_pending();
      if (!it->is_regular_file(error)) continue;
      auto name = module_name_of(it->path());
      if (!name) continue;
      std::error_code unresolved;
      fs::path real = fs::canonical(it->path(), unresolved);
      if (unresolved) real = it->path();
      if (listed.insert(real).second) found[*name].push_back(it->path().string());
    }
  }
  return found;
}

// The kernel keeps a copy of each module's symbol table for kallsyms
// (struct module.core_kallsyms: Elf64_Sym symtab[num_symtab], strtab, and
// since 4.13 typetab with nm letters): names for a module whose .ko is not
// at hand.
Expected<void> read_kallsyms(const Program& program, KernelModule& module) {
  CORONER_TRY(info, program.debug_info());
  CORONER_TRY(kallsyms, info->member_offset("struct module", "core_kallsyms"));
  CORONER_TRY(symtab_at, info->member_offset("struct mod_kallsyms", "symtab"));
  CORONER_TRY(count_at, info->member_offset("struct mod_kallsyms", "num_symtab"));
  CORONER_TRY(strtab_at, info->member_offset("struct mod_kallsyms", "strtab"));
  CORONER_TRY(has_types, info->has_member("struct mod_kallsyms", "typetab"));
  const KernelMemory& memory = program.memory();
  const uint64_t base = module.struct_address + kallsyms;
  CORONER_TRY(symtab, memory.read_u64(base + symtab_at));
  CORONER_TRY(count, memory.read_u32(base + count_at));
  CORONER_TRY(strtab, memory.read_u64(base + strtab_at));
  uint64_t typetab = 0;
  if (has_types) {
    CORONER_TRY(types_at, info->member_offset("struct mod_kallsyms", "typetab"));
    CORONER_TRY(types, memory.read_u64(base + types_at));
    typetab = types;
  }
  constexpr uint32_t kMaxSymbols = 1 << 20;  // a corrupt count must not drive the reads
  if (count > kMaxSymbols)
    return make_error(Errc::corrupt, "module {} at {:#x}: {} kallsyms symbols", module.name, module.struct_address, count);
  struct Elf64Sym {
    uint32_t name;
    uint8_t info, other;
    uint16_t shndx;
    uint64_t value, size;
  };
  std::vector<Elf64Sym> entries(count);
  CORONER_CHECK(memory.read(symtab, std::as_writable_bytes(std::span(entries))));
  std::vector<symbols::Symbol> found;
  for (uint32_t i = 0; i < count; ++i) {
    const Elf64Sym& entry = entries[i];
    if (entry.value == 0 || !module.contains(entry.value)) continue;
    auto name = memory.read_string(strtab + entry.name, 512);
    if (!name || name->empty()) continue;
    symbols::Symbol symbol;
    symbol.name = std::move(*name);
    symbol.address = entry.value;
    symbol.size = entry.size;
    symbol.is_function = (entry.info & 0xf) == 2;  // STT_FUNC
    symbol.is_object = (entry.info & 0xf) == 1;    // STT_OBJECT
    symbol.type = symbol.is_function ? 't' : 'd';
    if (typetab)
      if (auto letter = memory.read_value<char>(typetab + i)) symbol.type = *letter;
    found.push_back(std::move(symbol));
  }
  module.use_memory_symbols(std::move(found));
  return {};
}

}  // namespace

Expected<ModuleList> read_modules(const Program& program) {
  CORONER_TRY(info, program.debug_info());
  CORONER_TRY(layout, read_layout(*info));
  // Not symbol_address(): that falls back to the modules being read.
  const symbols::Symbol* head_symbol = program.symbols().find("modules");
  if (!head_symbol) return make_error(Errc::not_found, "no symbol 'modules' in {}", program.options().vmlinux);
  const uint64_t head = head_symbol->address;
  const KernelMemory& memory = program.memory();

  ModuleList list;
  ListBudget budget{kMaxModules};
  // A module that cannot be read is skipped; the walk goes on through its
  // list_head, which read_module does not need.
  auto read_module = [&](uint64_t address) -> Expected<void> {
    auto module = std::make_unique<KernelModule>();
    module->struct_address = address;
    module->cache_dir = program.options().cache_dir;
    auto where = [address](const Error& e) { return e.context(fmt::format("struct module at {:#x}", address)); };
    auto name = memory.read_string(address + layout.name, layout.name_size);
    if (!name) {
      list.skipped.push_back(where(name.error()));
      return {};
    }
    module->name = *name;
    for (auto step : {read_memory, read_sections, read_build_id})
      if (auto done = step(program, layout, *module); !done) {
        list.skipped.push_back(where(done.error()).context(module->name));
        return {};
      }
    list.modules.push_back(std::move(module));
    return {};
  };
  if (auto walked = walk_list(memory, "module list", head, layout.list, budget, read_module); !walked)
    list.skipped.push_back(walked.error());
  return list;
}

std::vector<std::string> module_search_dirs(const Program& program) {
  std::vector<std::string> dirs = program.options().module_dirs;
  const std::string release = program.vmcoreinfo().osrelease();
  // Beside the vmlinux (crash's habit); without one, not the working directory.
  std::vector<std::string> defaults;
  if (!program.options().vmlinux.empty()) defaults.push_back(fs::path(program.options().vmlinux).parent_path().string());
  if (!release.empty()) {
    defaults.push_back("/lib/modules/" + release);
    defaults.push_back("/usr/lib/debug/lib/modules/" + release);
  }
  for (std::string& dir : defaults) {
    if (dir.empty()) dir = ".";
    std::error_code error;
    if (fs::is_directory(dir, error)) dirs.push_back(dir);
  }
  return dirs;
}

size_t attach_objects(const KernelModules& modules, const std::vector<std::string>& dirs, bool replace) {
  const auto found = scan_objects(dirs);
  size_t attached = 0;
  for (const auto& module : modules) {
    if (!module->object_path().empty() && !replace) continue;
    auto candidates = found.find(normalized(module->name));
    if (candidates == found.end()) {
      if (module->object_path().empty())
        module->problem = dirs.empty() ? fmt::format("no directory to look for {}.ko in", module->name)
                                       : fmt::format("no {}.ko in {}", module->name, fmt::join(dirs, ", "));
      continue;
    }
    std::string last_error;
    for (const std::string& path : candidates->second) {
      auto done = module->attach_object(path);
      if (done) {
        ++attached;
        last_error.clear();
        break;
      }
      last_error = done.error().message();
    }
    if (!last_error.empty() && module->object_path().empty()) module->problem = last_error;
  }
  return attached;
}

Expected<ModuleList> read_and_attach_modules(const Program& program) {
  CORONER_TRY(list, read_modules(program));
  attach_objects(list.modules, module_search_dirs(program));
  for (const auto& module : list.modules)
    if (module->object_path().empty())
      if (auto read = read_kallsyms(program, *module); !read)
        module->problem += fmt::format("; no symbols in memory either: {}", read.error().message());
  // Without a vmlinux its BTF gives the kernel's types, the kernel's copies
  // of the modules' BTF theirs.
  if (program.debuginfo_source() == DebugInfoSource::btf_kallsyms)
    if (auto attached = attach_module_btf(program, list.modules); !attached)
      list.skipped.push_back(attached.error().context("the modules' BTF"));
  return list;
}

}  // namespace coroner::linux_kernel
