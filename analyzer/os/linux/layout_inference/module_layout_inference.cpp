#include "analyzer/os/linux/layout_inference/module_layout_inference.hpp"

#include <algorithm>
#include <cctype>

namespace coroner::linux_kernel::inference {

namespace {

constexpr uint64_t kModuleWindow = 4096;
constexpr uint64_t kListOffset = 8, kNameOffset = 24,
                   kNameLength = 56;  // MODULE_NAME_LEN
constexpr size_t kMaxModules = 65536;
constexpr uint32_t kMaxModuleBytes = 1u << 30;
constexpr uint32_t kMaxSymbols = 1u << 20;
constexpr uint64_t kModuleMemoryTypes = 7;  // MOD_MEM_NUM_TYPES (6.4+)

Error unfound(std::string_view member, std::string_view why) {
  return make_error(Errc::not_found, "module.{} not found in memory: {}", member, why);
}

// struct module_layout (before 6.4): a page-aligned base, then size,
// text_size, ro_size, ro_after_init_size in order; the core memory holds
// struct module itself (.gnu.linkonce.this_module).
bool core_layout_at(const Snapshot& module, uint64_t at) {
  const uint64_t base = module.u64(at);
  const uint32_t size = module.u32(at + 8), text = module.u32(at + 12), ro = module.u32(at + 16),
                 ro_after_init = module.u32(at + 20);
  return MemoryProbe::kernel_address(base) && base % 4096 == 0 && size < kMaxModuleBytes && text > 0 && text <= ro &&
         ro <= ro_after_init && ro_after_init <= size && module.address() >= base && module.address() - base < size;
}

// struct module_memory (6.4+): base, size, then the tree node's module.
bool module_memory_at(const Snapshot& module, uint64_t at) {
  const uint64_t base = module.u64(at);
  const uint32_t size = module.u32(at + 8);
  const uint64_t distance = base > module.address() ? base - module.address() : module.address() - base;
  return MemoryProbe::kernel_address(base) && base % 4096 == 0 && size > 0 && size < kMaxModuleBytes &&
         module.u64(at + 16) == module.address() && distance < kMaxModuleBytes;
}

// core_kallsyms: what the kallsyms pointer before it points to; symtab, a
// count, strtab.
bool kallsyms_at(const Snapshot& module, uint64_t at) {
  const uint32_t count = module.u32(at + 8);
  return module.u64(at - 8) == module.address() + at && MemoryProbe::kernel_address(module.u64(at)) && count > 0 &&
         count < kMaxSymbols && MemoryProbe::kernel_address(module.u64(at + 16));
}

// struct module_notes_attrs: the sysfs directory, the number of notes, then
// a struct bin_attribute per note (attr.name, mode, size, private).
constexpr uint64_t kNoteAttrs = 16;
constexpr uint32_t kMaxNotes = 64;

// The size of struct bin_attribute, when the pointer at `at` in every
// module leads to its notes: names ".note.*", one the build-id's.
std::optional<uint64_t> note_stride(const MemoryProbe& probe, const std::vector<Snapshot>& modules, uint64_t at) {
  for (uint64_t stride = 40; stride <= 160; stride += 8) {
    const bool fits = std::all_of(modules.begin(), modules.end(), [&](const Snapshot& m) {
      const uint64_t notes = m.u64(at);
      if (!MemoryProbe::kernel_address(notes)) return false;
      const auto count = probe.u32(notes + 8);
      if (!count || *count == 0 || *count > kMaxNotes) return false;
      bool build_id = false;
      for (uint32_t i = 0; i < *count; ++i) {
        const auto name_at = probe.u64(notes + kNoteAttrs + i * stride);
        const auto name = name_at ? probe.text(*name_at, 64) : std::nullopt;
        if (!name || !name->starts_with(".note")) return false;
        build_id = build_id || *name == ".note.gnu.build-id";
      }
      return build_id;
    });
    if (fits) return stride;
  }
  return std::nullopt;
}

template <typename Test>
std::optional<uint64_t> first_offset(const std::vector<Snapshot>& modules, uint64_t from, Test test) {
  for (uint64_t at = from; at + 32 <= kModuleWindow; at += 8)
    if (std::all_of(modules.begin(), modules.end(), [&](const Snapshot& m) { return test(m, at); })) return at;
  return std::nullopt;
}

}  // namespace

Expected<std::vector<symbols::SyntheticStruct>> infer_module_layouts(const MemoryProbe& probe) {
  auto head = probe.symbol("modules");
  if (!head) return unfound("list", "no modules in kallsyms");
  std::vector<Snapshot> modules;
  for (auto link = probe.u64(*head); link && *link != *head && modules.size() < kMaxModules; link = probe.u64(*link)) {
    Snapshot module = probe.snapshot(*link - kListOffset, kModuleWindow);
    if (module.empty() || !module.text(kNameOffset, kNameLength))
      return unfound("name", fmt::format("the module list's entry {:#x} has no name at {}", *link, kNameOffset));
    modules.push_back(std::move(module));
  }
  if (modules.empty()) return std::vector<symbols::SyntheticStruct>{};

  symbols::SyntheticStruct module{"module",
                                  kModuleWindow,
                                  {{"state", 0, "int"},
                                   {"list", kListOffset, "struct list_head"},
                                   {"name", kNameOffset, fmt::format("char[{}]", kNameLength)}}};
  std::vector<symbols::SyntheticStruct> layouts;
  if (auto core = first_offset(modules, kNameOffset + kNameLength, core_layout_at)) {
    // struct module_layout: base, size, text_size, ro_size, ...
    module.members.push_back({"core_layout", *core, "struct module_layout"});
    layouts.push_back({"module_layout",
                       24,
                       {{"base", 0, "void *"},
                        {"size", 8, "unsigned int"},
                        {"text_size", 12, "unsigned int"},
                        {"ro_size", 16, "unsigned int"}}});
  } else if (auto text = first_offset(modules, kNameOffset + kNameLength, module_memory_at)) {
    // 6.4+: struct module_memory mem[]: base, size, then the tree node.
    uint64_t stride = 0;
    for (uint64_t s = 64; s <= 256 && !stride; s += 8)
      if (std::all_of(modules.begin(), modules.end(),
                      [&](const Snapshot& m) { return m.u64(*text + s + 16) == m.address(); }))
        stride = s;
    if (!stride) return unfound("mem", "the module_memory after the text's is not found");
    module.members.push_back({"mem", *text, fmt::format("struct module_memory[{}]", kModuleMemoryTypes)});
    layouts.push_back({"module_memory", stride, {{"base", 0, "void *"}, {"size", 8, "unsigned int"}}});
  } else {
    return unfound("core_layout", "no page-aligned base and sizes whose memory holds the module");
  }
  auto kallsyms = first_offset(modules, kNameOffset + kNameLength + 8, kallsyms_at);
  if (!kallsyms) return unfound("core_kallsyms", "no kallsyms pointer points into the module");
  module.members.push_back({"core_kallsyms", *kallsyms, "struct mod_kallsyms"});
  // 4.13+ keeps the symbols' nm letters (typetab) after strtab, where
  // sect_attrs came before.
  const bool typetab = std::all_of(modules.begin(), modules.end(), [&](const Snapshot& m) {
    const uint64_t letters = m.u64(*kallsyms + 24);
    const uint64_t count = std::min<uint64_t>(m.u32(*kallsyms + 8), 16);
    const Snapshot head = MemoryProbe::kernel_address(letters) ? probe.snapshot(letters, count + 4) : Snapshot();
    if (head.empty()) return false;
    for (uint64_t i = 0; i < count; ++i) {
      const auto c = static_cast<char>(head.u32(i) & 0xff);
      if (!std::isalpha(static_cast<unsigned char>(c)) && c != '?') return false;
    }
    return true;
  });
  symbols::SyntheticStruct mod_kallsyms{
      "mod_kallsyms", 32, {{"symtab", 0, "void *"}, {"num_symtab", 8, "unsigned int"}, {"strtab", 16, "char *"}}};
  if (typetab) mod_kallsyms.members.push_back({"typetab", 24, "char *"});
  layouts.push_back(std::move(mod_kallsyms));
  // notes_attrs (sysfs's notes/ of the module, which holds its build-id)
  // follows sect_attrs after core_kallsyms.
  const uint64_t after_kallsyms = *kallsyms + (typetab ? 32 : 24);
  for (uint64_t at = after_kallsyms; at <= after_kallsyms + 16; at += 8)
    if (auto stride = note_stride(probe, modules, at)) {
      module.members.push_back({"notes_attrs", at, "struct module_notes_attrs *"});
      layouts.push_back({"attribute", 16, {{"name", 0, "char *"}}});
      layouts.push_back({"bin_attribute", *stride, {{"attr", 0, "struct attribute"}, {"size", 16, "unsigned long"},
                                                    {"private", 24, "void *"}}});
      layouts.push_back({"module_notes_attrs", kNoteAttrs,
                         {{"notes", 8, "unsigned int"}, {"attrs", kNoteAttrs, "struct bin_attribute[0]"}}});
      break;
    }
  layouts.push_back(std::move(module));
  return layouts;
}

}  // namespace coroner::linux_kernel::inference
