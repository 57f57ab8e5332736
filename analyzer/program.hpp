// A Program is one dumped system as the analyzer sees it: the dump, its
// architecture, kernel virtual memory, and the kernel's symbols and debug
// info (after libdrgn's program). Commands and OS models work from here;
// nothing here knows how results are printed.
#pragma once

#include "analyzer/arch/arch.hpp"
#include "analyzer/arch/kernel_memory.hpp"
#include "analyzer/kernel_module.hpp"
#include "analyzer/os_model.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/vmcoreinfo.hpp"
#include "symbols/debug_info.hpp"
#include "symbols/elf_symbols.hpp"
#include "symbols/line_table.hpp"

#include <atomic>
#include <memory>
#include <map>
#include <mutex>
#include <typeindex>
#include <optional>
#include <string>
#include <vector>

namespace coroner {

// Where a program's kernel symbols and types come from (README "Without a
// vmlinux").
enum class DebugInfoSource {
  none,          // a FreeBSD minidump opened without a kernel file: no symbols, no types
  dwarf,         // vmlinux (given or found by build-id): its ELF symbols and DWARF
  kallsyms,      // no usable vmlinux: the dump's own kallsyms, no types
  btf_kallsyms,  // no usable vmlinux: kallsyms, types from the dump's BTF
};
// "none", "dwarf", "kallsyms", "btf+kallsyms" (the "debuginfo" of JSON documents).
std::string_view debuginfo_label(DebugInfoSource source);

struct ProgramOptions {
  std::string vmlinux;               // may be .zst/.gz/.xz; "" = found by the dump's build-id
  std::vector<std::string> debuginfo_dirs;  // --debuginfo-dir: searched first for it
  std::vector<std::string> dumps;    // one dump, or the parts of a split dump
  std::vector<std::string> module_dirs;  // --mod-path
  std::string cache_dir;             // "" = default_cache_dir()
  bool no_debuginfo = false;         // --no-debuginfo: symbols from the dump's kallsyms even with a vmlinux
  // Builds the OS model once the dump, architecture and symbols are open
  // (linux_kernel::open_linux_kernel for Linux dumps); required.
  OsModelFactory os_model;
};

// An address as "name+offset [module]" (module empty for vmlinux).
struct SymbolicAddress {
  const symbols::Symbol* symbol = nullptr;
  uint64_t offset = 0;
  std::string module;
  std::string text() const;  // "panic+4", "fx_crash_level3 [fx_crash]"
};

class Program {
 public:
  // Opens the dump and the kernel (without options.vmlinux, the one its
  // build-id names: symbols/build_id_search.hpp), checks that they belong
  // together (build-id), and sets up translation. DWARF and the symbol table are read
  // on first use (the symbol table at once only when VMCOREINFO lacks
  // KERNELOFFSET: the slide then comes from _stext). A Linux dump whose
  // vmlinux is not found, does not match, or is set aside (no_debuginfo)
  // opens without it: symbols from the dump's kallsyms, no DWARF.
  static Expected<std::unique_ptr<Program>> open(const ProgramOptions& options);

  DebugInfoSource debuginfo_source() const { return debuginfo_source_; }
  std::string debuginfo_label() const { return std::string(coroner::debuginfo_label(debuginfo_source_)); }
  // Without a vmlinux, why ("no vmlinux for build-id ... (looked in ...)",
  // "--no-debuginfo"); "" with one. debug_info()'s error says it.
  const std::string& debuginfo_reason() const { return debuginfo_reason_; }
  // What the front end prints before the session: the refusal of a vmlinux
  // whose build-id does not match the dump's ("" when none).
  const std::string& debuginfo_warning() const { return debuginfo_warning_; }

  // options().vmlinux is the file found when none was given, and
  // vmlinux_origin() where (symbols::FoundVmlinux::origin; "" if given).
  const ProgramOptions& options() const { return options_; }
  const std::string& vmlinux_origin() const { return vmlinux_origin_; }
  const std::string& vmlinux_path() const { return vmlinux_; }  // decompressed copy
  const Dump& dump() const { return *dump_; }
  const VmcoreInfo& vmcoreinfo() const { return vmcoreinfo_; }
  const arch::Arch& arch() const { return *arch_; }
  const KernelMemory& memory() const { return *memory_; }

  // vmlinux's ELF symbols, relocated to the dumped kernel's addresses, read
  // (or loaded from the cache) on the first call; the error names the file.
  Expected<const symbols::SymbolTable*> symbol_table() const;
  // The same, for lookups that treat a missing table as no symbol: an empty
  // table when it could not be read (symbol_table() says why).
  const symbols::SymbolTable& symbols() const;
  // Whether symbol_table() has been read (tests: commands that need no
  // symbol do not pay for it).
  bool symbols_loaded() const { return symbols_loaded_.load(); }
  int64_t kaslr_offset() const { return kaslr_offset_; }
  // x86_64 links per-CPU data (.data..percpu) at 0: its variables' addresses
  // are offsets that KASLR does not move.
  bool percpu_linked_at_zero() const { return percpu_linked_at_zero_; }

  // The run-time address of a symbol of vmlinux, else of a loaded module;
  // the error names it.
  Expected<uint64_t> symbol_address(std::string_view name) const;
  // vmlinux's symbol alone, for the kernel's own variables: asking the
  // modules as well would read all their symbols to learn the kernel lacks
  // one (a feature probe: vm_numa_stat, hstates, irq_desc_tree).
  Expected<uint64_t> kernel_symbol_address(std::string_view name) const;
  // The symbol of vmlinux or of a module that holds address.
  std::optional<SymbolicAddress> describe_address(uint64_t address) const;

  // The OS model the program was opened with (options().os_model).
  const OsModel& os() const { return *os_; }

  // The dump's kernel modules, read by the OS model on the first call (with
  // their objects attached where found).
  Expected<const KernelModules*> modules() const;
  // What the module list walk could not read (empty when it was whole);
  // modules() holds the modules before the damage.
  const std::vector<Error>& modules_skipped() const;
  KernelModule* find_module(std::string_view name) const;  // nullptr if absent
  // The module whose memory holds address (nullptr if none; reads the modules).
  const KernelModule* module_at(uint64_t address) const;

  // vmlinux's DWARF, opened (and indexed or loaded from the cache) on the
  // first call.
  Expected<symbols::DebugInfo*> debug_info() const;
  // The same if debug_info() has opened it, else nullptr (never opens it).
  const symbols::DebugInfo* opened_debug_info() const {
    return debug_opened_.load(std::memory_order_acquire) ? debug_info_.get() : nullptr;
  }
  // Shorthands over debug_info().
  Expected<uint64_t> member_offset(std::string_view type, std::string_view member) const;
  Expected<uint64_t> type_size(std::string_view type) const;

  // The line table (source lines, inline chains) of the object that holds
  // code address `address` -- vmlinux or a module with its .ko attached --
  // opened once; `link_bias` receives what to subtract from a run-time
  // address to look it up there (the KASLR slide for vmlinux, 0 for a placed
  // module).
  Expected<const symbols::LineTable*> line_table_for(uint64_t address, int64_t* link_bias) const;

  // State a higher layer keeps per program (the unwinder and its tables),
  // made by `make` on first use and kept for the program's life.
  template <typename T, typename Make>
  T& extension(Make make) const {
    std::lock_guard lock(extensions_mutex_);
    auto& slot = extensions_[std::type_index(typeid(T))];
    if (!slot) slot = std::shared_ptr<T>(make());
    return *static_cast<T*>(slot.get());
  }

  // Reads of the dumped kernel's memory.
  Expected<uint64_t> read_pointer(uint64_t vaddr) const { return memory_->read_u64(vaddr); }

 private:
  // The vmlinux symbol at address when it lies in vmlinux's image, else nullptr.
  const symbols::Symbol* kernel_symbol_at(uint64_t address) const;
  Program() = default;

  ProgramOptions options_;
  std::string vmlinux_origin_;
  std::string vmlinux_;
  DebugInfoSource debuginfo_source_ = DebugInfoSource::dwarf;
  std::string debuginfo_reason_;
  std::string debuginfo_warning_;
  std::unique_ptr<Dump> dump_;
  VmcoreInfo vmcoreinfo_;
  std::unique_ptr<arch::Arch> arch_;
  std::unique_ptr<KernelMemory> memory_;
  int64_t kaslr_offset_ = 0;
  bool percpu_linked_at_zero_ = false;
  std::unique_ptr<OsModel> os_;

  mutable std::once_flag symbols_once_;
  mutable std::optional<symbols::SymbolTable> symbols_;
  mutable std::optional<Error> symbols_error_;
  mutable std::atomic<bool> symbols_loaded_ = false;

  mutable std::once_flag debug_once_;
  mutable std::unique_ptr<symbols::DebugInfo> debug_info_;
  mutable std::optional<Error> debug_error_;
  mutable std::atomic<bool> debug_opened_ = false;  // debug_once_ has run

  mutable std::mutex line_tables_mutex_;
  mutable std::map<std::string, std::unique_ptr<symbols::LineTable>> line_tables_;  // by object path
  mutable std::map<std::string, Error> line_table_errors_;

  mutable std::recursive_mutex extensions_mutex_;  // a maker may ask for another extension
  mutable std::map<std::type_index, std::shared_ptr<void>> extensions_;

  mutable std::once_flag modules_once_;
  mutable ModuleList modules_;
  mutable std::optional<Error> modules_error_;
};

}  // namespace coroner
