// A kernel module loaded in the dumped system: where it lives in memory (the
// OS model reads that from the kernel) and, once its object file (.ko) is
// attached, its ELF symbols and DWARF placed at the run-time addresses of
// its sections. Nothing here knows how the kernel records modules.
#pragma once

#include "capture/format/error.hpp"
#include "symbols/debug_info.hpp"
#include "symbols/elf_symbols.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner {

struct MemoryRange {
  uint64_t start = 0;
  uint64_t size = 0;
  bool contains(uint64_t address) const { return address >= start && address - start < size; }
};

// How far an attached object file is trusted to be the loaded module.
enum class ObjectMatch { none, build_id, name_only };

class KernelModule {
 public:
  // Found in the dump by the OS model.
  std::string name;
  uint64_t struct_address = 0;        // the kernel's descriptor (struct module)
  uint64_t base = 0;                  // start of the module's core text
  uint64_t size = 0;                  // bytes of core memory, all parts
  std::vector<MemoryRange> core;      // core memory (init memory is freed after loading)
  symbols::SectionAddresses sections; // run-time address of each loaded section
  std::string build_id;               // from its notes in memory; "" when unknown
  std::string cache_dir;              // where the DWARF name index is kept

  bool contains(uint64_t address) const;

  // Attaches the .ko at `path`: a build-id that differs from build_id is an
  // error and leaves the module as it was; without a build-id on either
  // side the object is accepted by name (ObjectMatch::name_only). Reads its
  // symbols at `sections`; DWARF is opened by debug_info() on first use.
  Expected<void> attach_object(const std::string& path);

  const std::string& object_path() const { return object_path_; }  // "" until attached
  ObjectMatch match() const { return match_; }
  bool has_dwarf() const { return has_dwarf_; }  // the attached object has .debug_info
  // DWARF, or BTF from memory: debug_info() gives types.
  bool has_types() const { return has_dwarf_ || btf_base_; }
  // Why no object is attached (no .ko found, build-id mismatch, ...), for `mod`.
  std::string problem;

  // The attached object's symbols at run-time addresses, sorted by address;
  // symbols of sections the kernel did not load are dropped.
  const std::vector<symbols::Symbol>& symbols() const { return symbols_.by_address(); }
  const symbols::Symbol* find_symbol(std::string_view name) const;
  // The nearest text/data symbol at or below address, inside core memory.
  const symbols::Symbol* containing(uint64_t address) const;

  // Symbols of a module without an attached object, from the kernel's own
  // copy of its symbol table (kallsyms in memory): names, no DWARF.
  void use_memory_symbols(std::vector<symbols::Symbol> found) {
    symbols_ = symbols::SymbolTable::from_symbols(std::move(found));
  }
  bool has_symbols() const { return !symbols_.by_address().empty(); }

  // Types of a module without an attached object, from the kernel's copy
  // of its split BTF (5.11+, CONFIG_DEBUG_INFO_BTF_MODULES) on top of the
  // kernel's BTF `base`, which must outlive the module. debug_info() opens
  // it; `description` names it in errors.
  void use_memory_btf(std::vector<std::byte> bytes, const symbols::DebugInfo& base, std::string description);

  // The attached object's DWARF, placed at `sections`, or the BTF from
  // memory; opened once.
  Expected<symbols::DebugInfo*> debug_info() const;

 private:
  std::string object_path_;
  ObjectMatch match_ = ObjectMatch::none;
  bool has_dwarf_ = false;
  symbols::SymbolTable symbols_;  // placed at `sections`

  mutable std::mutex debug_mutex_;
  mutable std::unique_ptr<symbols::DebugInfo> debug_info_;
  mutable std::optional<Error> debug_error_;
  mutable std::vector<std::byte> btf_;  // moved into debug_info_ when opened
  const symbols::DebugInfo* btf_base_ = nullptr;
  std::string btf_description_;
};

}  // namespace coroner
