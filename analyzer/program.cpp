#include "analyzer/program.hpp"

#include "analyzer/arch/freebsd_minidump_arch.hpp"
#include "analyzer/kernel_btf_scan.hpp"
#include "analyzer/kernel_data_symbols.hpp"
#include "analyzer/kernel_kallsyms.hpp"
#include "capture/format/decompressed_file.hpp"
#include "capture/format/freebsd_minidump.hpp"
#include "symbols/build_id_search.hpp"
#include "symbols/elf_file.hpp"

#include <algorithm>

namespace coroner {

namespace {

// Runtime minus link-time address of the kernel image, when VMCOREINFO's
// KERNELOFFSET is missing (older or odd producers): the relocated _stext of
// VMCOREINFO against vmlinux's.
int64_t slide_from_stext(const VmcoreInfo& info, const symbols::SymbolTable& table) {
  auto stext = info.symbol("_stext");
  const symbols::Symbol* linked = table.find("_stext");
  if (stext && linked) return static_cast<int64_t>(*stext - linked->address);
  return 0;
}

// What open() needs of vmlinux itself, from its headers alone (the symbol
// table is read on first use): its build-id and where per-CPU data is linked.
struct KernelImage {
  std::optional<std::string> build_id;
  bool percpu_linked_at_zero = false;
};

Expected<KernelImage> read_kernel_image(const std::string& vmlinux) {
  CORONER_TRY(binary, symbols::open_elf(vmlinux));
  KernelImage image;
  image.build_id = symbols::gnu_build_id(*binary.getBinary());
  if (auto percpu = symbols::find_section(*binary.getBinary(), ".data..percpu"))
    image.percpu_linked_at_zero = percpu->getAddress() == 0;
  return image;
}

// What symbol_table() and debug_info() say for a dump opened alone.
Error no_kernel_file(const std::string& dump) {
  return Error(Errc::not_found, fmt::format("{} was opened without a kernel file: no symbols or debug info", dump));
}

// The vmlinux a Linux dump opens with (path empty: none, and why).
struct VmlinuxChoice {
  std::string path;          // as given or found by build-id
  std::string origin;        // where it was found ("" when given)
  std::string decompressed;  // the file read
  KernelImage image;
  std::string reason;   // without a vmlinux: why
  std::string warning;  // a given vmlinux refused
};

// options.vmlinux, else the one the dump's build-id finds; none when that
// finds nothing, the one given is another kernel's, or --no-debuginfo sets
// it aside. A file that cannot be read is an error.
Expected<VmlinuxChoice> choose_vmlinux(const ProgramOptions& options, const std::string& dump_id,
                                       const std::string& dump_name, const std::string& cache) {
  VmlinuxChoice choice;
  if (options.no_debuginfo) {
    choice.reason = options.vmlinux.empty() ? "--no-debuginfo given"
                                            : fmt::format("--no-debuginfo set {} aside", options.vmlinux);
    return choice;
  }
  if (options.vmlinux.empty()) {
    if (dump_id.empty()) {
      choice.reason = "no vmlinux given, and the dump's VMCOREINFO has no BUILD-ID to find one by";
      return choice;
    }
    auto found = symbols::find_vmlinux_by_build_id(dump_id, {.debuginfo_dirs = options.debuginfo_dirs});
    if (!found) {
      choice.reason = found.error().message();
      return choice;
    }
    choice.path = found->path;
    choice.origin = found->origin;
  } else {
    choice.path = options.vmlinux;
  }
  CORONER_TRY(vmlinux, decompressed_path(choice.path, cache));
  CORONER_TRY(image, read_kernel_image(vmlinux));
  if (!dump_id.empty() && image.build_id && image.build_id->substr(0, dump_id.size()) != dump_id) {
    VmlinuxChoice refused;
    refused.warning = fmt::format("{} does not match {}: build-id {} in the kernel, {} in the dump's VMCOREINFO",
                                  choice.path, dump_name, *image.build_id, dump_id);
    refused.reason = fmt::format("{} is another kernel's (build-id {}, the dump's is {})", choice.path,
                                 *image.build_id, dump_id);
    return refused;
  }
  choice.decompressed = vmlinux;
  choice.image = image;
  return choice;
}

// More BTF than any kernel carries (a distribution kernel's: 5-8 MB).
constexpr uint64_t kMaxBtfBytes = 256ull << 20;

// Where the kernel's .BTF lies, from the linker's __start_BTF/__stop_BTF in
// kallsyms; nullopt when the kernel has none (no CONFIG_DEBUG_INFO_BTF).
std::optional<std::pair<uint64_t, uint64_t>> kernel_btf_bounds(const symbols::SymbolTable& table) {
  const symbols::Symbol* start = table.find("__start_BTF");
  const symbols::Symbol* stop = table.find("__stop_BTF");
  if (!start || !stop || stop->address <= start->address || stop->address - start->address > kMaxBtfBytes)
    return std::nullopt;
  return std::pair{start->address, stop->address - start->address};
}

// The kernel's BTF read out of the dump, as types for every DebugInfo user:
// between __start_BTF and __stop_BTF, or found by scanning the image when
// kallsyms lack those (kernel_btf_scan.hpp).
Expected<std::unique_ptr<symbols::DebugInfo>> open_kernel_btf(const KernelMemory& memory,
                                                              const symbols::SymbolTable& table,
                                                              const std::string& dump) {
  const auto bounds = kernel_btf_bounds(table);
  if (!bounds) {
    CORONER_TRY(scanned, scan_kernel_btf(memory, table, dump));
    return std::move(scanned.types);
  }
  const auto [address, size] = *bounds;
  std::vector<std::byte> bytes(size);
  if (auto read = memory.read(address, bytes); !read)
    return read.error().context(fmt::format("{}: the kernel's BTF at {:#x} ({} bytes)", dump, address, size));
  return symbols::DebugInfo::open_btf(std::move(bytes), fmt::format("{}: BTF at {:#x}", dump, address));
}

// Without DWARF or BTF: the layouts the OS model infers from the dump's
// memory (OsModel::infer_types), as types.
Expected<std::unique_ptr<symbols::DebugInfo>> open_inferred_types(const OsModel& os, const std::string& dump,
                                                                  const std::string& reason) {
  auto inferred = os.infer_types();
  if (!inferred)
    return make_error(Errc::unsupported, "{}: no debug info (types, lines): {}; opened from the dump's kallsyms, and "
                      "its types could not be inferred: {}", dump, reason, inferred.error().message());
  // What could not be inferred goes into the types' name, which their
  // errors carry: `ps` without task_struct says why there is none.
  std::string description = fmt::format("{}: types inferred from memory (no vmlinux", dump);
  for (const std::string& part : inferred->missing) description += fmt::format("; not inferred: {}", part);
  return symbols::DebugInfo::open_btf(std::move(inferred->btf), description + ")");
}

// kallsyms without data symbols (no CONFIG_KALLSYMS_ALL) cannot list
// __start_BTF even when the kernel has BTF: it is looked for in the image.
bool kallsyms_without_data(const symbols::SymbolTable& table) { return !table.find("init_task"); }

}  // namespace

std::string_view debuginfo_label(DebugInfoSource source) {
  switch (source) {
    case DebugInfoSource::none: return "none";
    case DebugInfoSource::dwarf: return "dwarf";
    case DebugInfoSource::kallsyms: return "kallsyms";
    case DebugInfoSource::btf_kallsyms: return "btf+kallsyms";
  }
  return "none";
}

Expected<std::unique_ptr<Program>> Program::open(const ProgramOptions& options) {
  if (!options.os_model)
    return make_error(Errc::invalid_argument, "{}: no OS model to open it with (ProgramOptions::os_model)",
                      options.dumps.empty() ? std::string("dump") : options.dumps.front());
  std::unique_ptr<Program> program(new Program());
  program->options_ = options;
  std::string cache = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  program->options_.cache_dir = cache;

  CORONER_TRY(dump, open_dump(options.dumps));
  program->dump_ = std::move(dump);
  const Dump& d = *program->dump_;
  std::string dump_name = options.dumps.empty() ? std::string("dump") : options.dumps.front();
  // A FreeBSD minidump opens with or without its kernel file (kernel.full,
  // kernel.debug; without one vmlinux_ stays empty: no symbols, no DWARF).
  // The dump's own page-table section translates; FreeBSD kernels run at
  // their link address (no slide).
  if (const auto* minidump = dynamic_cast<const freebsd::Minidump*>(&d)) {
    if (!options.vmlinux.empty()) {
      CORONER_TRY(kernel, decompressed_path(options.vmlinux, cache));
      // Not an ELF file, or one of another architecture: say so now, not at the first symbol.
      CORONER_TRY(binary, symbols::open_elf(kernel));
      const auto wanted = minidump->header().arch == freebsd::MinidumpArch::amd64 ? llvm::Triple::x86_64
                                                                                 : llvm::Triple::aarch64;
      if (binary.getBinary()->getArch() != wanted)
        return make_error(Errc::invalid_argument, "{} is built for {}, {} is a {} minidump", options.vmlinux,
                          llvm::Triple::getArchTypeName(binary.getBinary()->getArch()).str(), dump_name,
                          freebsd::minidump_arch_name(minidump->header().arch));
      program->vmlinux_ = kernel;
    } else {
      program->debuginfo_source_ = DebugInfoSource::none;
    }
    program->arch_ = arch::make_minidump_arch(*minidump);
    program->memory_ = std::make_unique<KernelMemory>(d, *program->arch_);
    CORONER_TRY(os, options.os_model(*program));
    program->os_ = std::move(os);
    return program;
  }

  auto text = d.vmcoreinfo_text();
  if (!text)
    return make_error(Errc::unsupported, "{}: the dump has no VMCOREINFO (not a Linux kernel dump, or the "
                                         "producer did not record it)", dump_name);
  program->vmcoreinfo_ = VmcoreInfo::parse(*text);
  CORONER_TRY(arch, arch::make_arch(d.machine(), program->vmcoreinfo_));
  program->arch_ = std::move(arch);
  program->memory_ = std::make_unique<KernelMemory>(d, *program->arch_);

  CORONER_TRY(choice, choose_vmlinux(options, program->vmcoreinfo_.build_id(), dump_name, cache));
  program->options_.vmlinux = choice.path;
  program->vmlinux_origin_ = choice.origin;
  program->vmlinux_ = choice.decompressed;
  program->debuginfo_warning_ = choice.warning;
  if (choice.path.empty()) {
    // Without a vmlinux the symbols are the dump's kallsyms, at run-time
    // addresses already (symbol_table()); the types are the dump's BTF when
    // the kernel has it (debug_info()).
    program->debuginfo_source_ = DebugInfoSource::kallsyms;
    program->debuginfo_reason_ = choice.reason;
    program->kaslr_offset_ = static_cast<int64_t>(program->vmcoreinfo_.kernel_offset().value_or(0));
    // x86_64 SMP kernels (every distribution's) link per-CPU data at 0.
    program->percpu_linked_at_zero_ = d.machine() == Machine::x86_64;
    if (auto table = program->symbol_table(); table && kernel_btf_bounds(**table)) {
      program->debuginfo_source_ = DebugInfoSource::btf_kallsyms;
    } else if (table && kallsyms_without_data(**table)) {
      program->debuginfo_source_ = DebugInfoSource::btf_kallsyms;
      if (!program->debug_info()) {
        program->debuginfo_source_ = DebugInfoSource::kallsyms;
      } else if (auto found = find_data_symbols(*program)) {
        // The globals kallsyms lack join its table before anyone looks.
        std::vector<symbols::Symbol> all = (*table)->by_address();
        all.insert(all.end(), found->begin(), found->end());
        program->symbols_ = symbols::SymbolTable::from_symbols(std::move(all));
      } else {
        // What needs init_task then says no symbol; the reason says why.
        program->debuginfo_reason_ += fmt::format("; kallsyms have no data symbols, and {}", found.error().message());
      }
    }
  } else {
    program->percpu_linked_at_zero_ = choice.image.percpu_linked_at_zero;
    if (const std::optional<uint64_t> offset = program->vmcoreinfo_.kernel_offset()) {
      program->kaslr_offset_ = static_cast<int64_t>(*offset);
    } else {
      // Without KERNELOFFSET the slide comes from a symbol: read them now.
      CORONER_TRY(table, program->symbol_table());
      auto& symbols = *program->symbols_;
      symbols.relocate(slide_from_stext(program->vmcoreinfo_, *table));
      program->kaslr_offset_ = symbols.slide();
    }
  }
  CORONER_TRY(os, options.os_model(*program));
  program->os_ = std::move(os);
  return program;
}

Expected<const symbols::SymbolTable*> Program::symbol_table() const {
  if (debuginfo_source_ == DebugInfoSource::none) return no_kernel_file(options_.dumps.front());
  std::call_once(symbols_once_, [this] {
    // kallsyms addresses are the running kernel's: no slide to apply. The
    // cache is written by the index builder after the session.
    auto read = debuginfo_source_ == DebugInfoSource::dwarf
                    ? symbols::SymbolTable::from_elf(vmlinux_, options_.cache_dir, kaslr_offset_,
                                                     symbols::SymbolTable::CacheWrite::no)
                    : read_kernel_kallsyms(vmcoreinfo_, *memory_);
    if (read) symbols_ = std::move(*read);
    else if (debuginfo_source_ == DebugInfoSource::dwarf) symbols_error_ = read.error();
    else symbols_error_ = read.error().context(fmt::format("{}: no symbols without a vmlinux", options_.dumps.front()));
    symbols_loaded_.store(true, std::memory_order_release);
  });
  if (symbols_error_) return *symbols_error_;
  return &*symbols_;
}

const symbols::SymbolTable& Program::symbols() const {
  static const symbols::SymbolTable empty;
  auto table = symbol_table();
  return table ? **table : empty;
}

namespace {

// Where the kernel's symbols came from, for "no symbol X in ..." errors.
std::string symbols_origin(DebugInfoSource source, const std::string& vmlinux) {
  return source == DebugInfoSource::dwarf ? vmlinux : "the dump's kallsyms";
}

}  // namespace

Expected<uint64_t> Program::symbol_address(std::string_view name) const {
  CORONER_TRY(table, symbol_table());
  if (const symbols::Symbol* s = table->find(name)) return s->address;
  const std::string origin = symbols_origin(debuginfo_source_, options_.vmlinux);
  if (auto list = modules(); list && !(*list)->empty()) {
    for (const auto& module : **list)
      if (const symbols::Symbol* s = module->find_symbol(name)) return s->address;
    return make_error(Errc::not_found, "no symbol {} in {} or its modules", name, origin);
  }
  return make_error(Errc::not_found, "no symbol {} in {}", name, origin);
}

Expected<uint64_t> Program::kernel_symbol_address(std::string_view name) const {
  CORONER_TRY(table, symbol_table());
  if (const symbols::Symbol* s = table->find(name)) return s->address;
  return make_error(Errc::not_found, "no symbol {} in {}", name, symbols_origin(debuginfo_source_, options_.vmlinux));
}

std::string SymbolicAddress::text() const {
  std::string text = offset ? fmt::format("{}+{}", symbol->name, offset) : symbol->name;
  return module.empty() ? text : fmt::format("{} [{}]", text, module);
}

std::optional<SymbolicAddress> Program::describe_address(uint64_t address) const {
  if (const symbols::Symbol* kernel = kernel_symbol_at(address))
    return SymbolicAddress{kernel, address - kernel->address, {}};
  // Module memory lies beyond vmlinux: vmlinux's last symbol would claim it.
  if (const KernelModule* module = module_at(address)) {
    const symbols::Symbol* s = module->containing(address);
    if (!s) return std::nullopt;
    return SymbolicAddress{s, address - s->address, module->name};
  }
  // Outside vmlinux's image, only a symbol whose size covers the address:
  // the nearest one below would name module memory the module list could
  // not place (fx_crash_level3 as __brk_limit+0x...) or vmalloc memory.
  const symbols::Symbol* s = symbols().containing(address);
  if (!s) return std::nullopt;
  // kallsyms without data symbols: past a section marker (_etext) lies
  // data it does not name, not "_etext+134120".
  const symbols::Symbol* init_task = symbols().find("init_task");
  if (init_task && init_task->section == kFoundDataSection && !s->is_function && !s->is_object &&
      address != s->address)
    return std::nullopt;
  const symbols::Symbol* end = symbols().find("_end");
  if (end && address >= end->address && address - s->address >= s->size) return std::nullopt;
  return SymbolicAddress{s, address - s->address, {}};
}

const KernelModule* Program::module_at(uint64_t address) const {
  if (auto list = modules())
    for (const auto& module : **list)
      if (module->contains(address)) return module.get();
  return nullptr;
}

// Inside vmlinux's image (_text to _end) an address is the kernel's, and
// the modules need not be read (a cold bt would pay for all their layouts).
const symbols::Symbol* Program::kernel_symbol_at(uint64_t address) const {
  const symbols::SymbolTable& table = symbols();
  const symbols::Symbol* start = table.find("_text");
  const symbols::Symbol* end = table.find("_end");
  if (!start || !end || address < start->address || address >= end->address) return nullptr;
  return table.containing(address);
}

Expected<const KernelModules*> Program::modules() const {
  std::call_once(modules_once_, [this] {
    auto read = os_->read_modules();
    if (read) modules_ = std::move(*read);
    else modules_error_ = read.error();
  });
  if (modules_error_) return *modules_error_;
  return &modules_.modules;
}

const std::vector<Error>& Program::modules_skipped() const {
  (void)modules();
  return modules_.skipped;
}

KernelModule* Program::find_module(std::string_view name) const {
  auto list = modules();
  if (!list) return nullptr;
  // Module names say '_' where the file name may say '-'.
  auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return (x == '-' ? '_' : x) == (y == '-' ? '_' : y);
           });
  };
  for (const auto& module : **list)
    if (same(module->name, name)) return module.get();
  return nullptr;
}

Expected<symbols::DebugInfo*> Program::debug_info() const {
  if (debuginfo_source_ == DebugInfoSource::none) return no_kernel_file(options_.dumps.front());
  if (debuginfo_source_ == DebugInfoSource::kallsyms && !os_)
    return make_error(Errc::unsupported, "{}: no debug info (types, lines): {}; opened from the dump's kallsyms",
                      options_.dumps.front(), debuginfo_reason_);
  std::call_once(debug_once_, [this] {
    auto opened = debuginfo_source_ == DebugInfoSource::dwarf ? symbols::DebugInfo::open(vmlinux_, options_.cache_dir)
                  : debuginfo_source_ == DebugInfoSource::btf_kallsyms
                      ? open_kernel_btf(*memory_, symbols(), options_.dumps.front())
                      : open_inferred_types(*os_, options_.dumps.front(), debuginfo_reason_);
    if (opened) debug_info_ = std::move(*opened);
    else debug_error_ = opened.error();
    debug_opened_.store(true, std::memory_order_release);
  });
  if (debug_error_) return *debug_error_;
  return debug_info_.get();
}

Expected<const symbols::LineTable*> Program::line_table_for(uint64_t address, int64_t* link_bias) const {
  std::string path = vmlinux_;
  const symbols::SectionAddresses* sections = nullptr;
  *link_bias = kaslr_offset_;
  const KernelModule* module = kernel_symbol_at(address) ? nullptr : module_at(address);
  if (module) {
    if (module->object_path().empty())
      return make_error(Errc::not_found, "module {} has no object file attached{}", module->name,
                        module->problem.empty() ? "" : ": " + module->problem);
    path = module->object_path();
    sections = &module->sections;
    *link_bias = 0;
  }
  std::lock_guard lock(line_tables_mutex_);
  if (auto known = line_tables_.find(path); known != line_tables_.end()) return known->second.get();
  if (auto failed = line_table_errors_.find(path); failed != line_table_errors_.end()) return failed->second;
  // vmlinux's line table shares the mapping and parsed units of its DWARF.
  auto opened = [&]() -> Expected<std::unique_ptr<symbols::LineTable>> {
    if (sections) return symbols::LineTable::open(path, sections);
    CORONER_TRY(info, debug_info());
    return symbols::LineTable::over(*info);
  }();
  if (!opened) {
    line_table_errors_.emplace(path, opened.error());
    return opened.error();
  }
  return line_tables_.emplace(path, std::move(*opened)).first->second.get();
}

Expected<uint64_t> Program::member_offset(std::string_view type, std::string_view member) const {
  CORONER_TRY(info, debug_info());
  return info->member_offset(type, member);
}

Expected<uint64_t> Program::type_size(std::string_view type) const {
  CORONER_TRY(info, debug_info());
  return info->type_size(type);
}

}  // namespace coroner
