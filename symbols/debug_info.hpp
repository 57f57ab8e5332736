// One ELF file's DWARF (vmlinux or a module): the name index (built in
// parallel or read from the cache), types and variables by name. Or, with no
// vmlinux, the kernel's (or a module's split) BTF read out of the dump: the
// same types, per-CPU variables and function types, no line numbers, locals
// or other globals (those addresses come from kallsyms).
#pragma once

#include "capture/format/error.hpp"
#include "symbols/dwarf_index.hpp"
#include "symbols/section_addresses.hpp"
#include "symbols/types.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class DWARFContext;
}

namespace coroner::symbols {

// Load addresses of a module's sections (".text" -> 0xffffffffc0000000),
// applied to the addresses its DWARF gives (variables, functions).

struct Variable {
  std::string name;
  std::optional<uint64_t> address;  // link-time; nullopt without a static location
  QualifiedType type;
  // In .data..percpu: address is the per-CPU offset, add __per_cpu_offset[cpu]
  // (x86_64 links the section at 0; arm64 at its image address). From BTF,
  // address is the offset in the section: add __per_cpu_start (kallsyms) on
  // arm64 to get what DWARF gives; on x86_64 the two are equal.
  bool per_cpu = false;
  uint64_t die_offset = 0;  // BTF: the VAR or FUNC type id
};

struct OpenStats {
  bool from_cache = false;    // the name index came from the cache
  size_t index_entries = 0;   // 0 while names are scanned for
  double index_seconds = 0;   // building it
};

class DebugInfo {
 public:
  // cache_dir: where the name index is kept, keyed by the file's build-id
  // (empty: no cache). sections: load addresses for a relocatable module.
  // Without a cached index, names are found by scanning (name_scan.hpp)
  // until that has cost about what the index costs, which is then built.
  static Expected<std::unique_ptr<DebugInfo>> open(const std::string& path, const std::string& cache_dir,
                                                   const SectionAddresses* sections = nullptr);
  // Types from raw BTF bytes (the kernel's .BTF, read out of the dump between
  // __start_BTF and __stop_BTF); description names where they came from, for
  // errors ("vmcore: BTF at 0xffffffff82438070").
  static Expected<std::unique_ptr<DebugInfo>> open_btf(std::vector<std::byte> bytes, std::string description);
  // A module's split BTF on top of the kernel's (base must be a BTF
  // DebugInfo, and outlive this one).
  static Expected<std::unique_ptr<DebugInfo>> open_split_btf(const DebugInfo& base, std::vector<std::byte> bytes,
                                                             std::string description);
  ~DebugInfo();

  // False for BTF: no line table, locals or dwarf_context().
  bool has_dwarf() const;

  // Builds the name index now (and writes its cache) unless it exists.
  Expected<void> build_index();
  // Whether the index exists (cached or built); else names are scanned for.
  bool indexed() const;

  // "task_struct", "struct task_struct", "int", "unsigned long", typedef names, "char *".
  Expected<QualifiedType> find_type(std::string_view type_name);
  Expected<uint64_t> type_size(std::string_view type_name);
  // "tasks", "thread.sp", "pids[1]"; anonymous struct/union members are
  // found transparently.
  Expected<MemberLocation> find_member(std::string_view type_name, std::string_view member_path);
  Expected<uint64_t> member_offset(std::string_view type_name, std::string_view member_path);
  // For fields renamed across kernel versions (task_struct.state vs __state).
  Expected<bool> has_member(std::string_view type_name, std::string_view member);

  // From BTF: per-CPU variables, and well-known globals (btf_globals.hpp)
  // without an address; others are not_found.
  Expected<Variable> find_variable(std::string_view name);
  // A function's type and entry address (low_pc; from BTF: nullopt).
  Expected<Variable> find_function(std::string_view name);
  // The value of an enumerator ("TASK_COMM_LEN" is a #define, but
  // "PIDTYPE_PID", "NR_FREE_PAGES" are enumerators).
  Expected<int64_t> find_enumerator(std::string_view name);

  // Names of `kinds` that start with prefix, sorted, at most limit (for
  // completion): from the name index; without one, every identifier of
  // .debug_str with that prefix (member and parameter names too), so that
  // asking never waits for the index to be built.
  std::vector<std::string> names_starting_with(std::string_view prefix, std::initializer_list<NameKind> kinds,
                                               size_t limit) const;

  const TypeGraph& types() const;
  // LLVM's view of the file's DWARF (thread-safe), for readers that share
  // this mapping and its parsed units (LineTable::over). Only when
  // has_dwarf(): ask that first.
  llvm::DWARFContext& dwarf_context() const;
  // The file's path; from BTF, its description.
  const std::string& path() const { return path_; }
  const std::string& build_id() const { return build_id_; }
  OpenStats stats() const;

 private:
  class Names;
  struct State;
  DebugInfo() = default;
  Expected<Variable> read_variable(uint64_t die_offset, std::string_view name, bool function);

  std::string path_;
  std::string build_id_;
  bool from_cache_ = false;
  std::unique_ptr<State> state_;
};

}  // namespace coroner::symbols
