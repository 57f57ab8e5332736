// The kernel's BTF (or a module's split BTF on top of it), read out of a dump
// when there is no vmlinux: parsed by libbpf, checked, and indexed by name
// for the type graph (TypeGraph's BTF constructor) and DebugInfo: types,
// functions, enumerators and the per-CPU variables of ".data..percpu" --
// the only variables BTF describes.
#pragma once

#include "capture/format/error.hpp"
#include "symbols/dwarf_index.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct btf;

namespace coroner::symbols {

class BtfFile final : public NameLookup {
 public:
  // bytes: raw BTF (what a .BTF section holds). description names it in
  // errors. base: the kernel's BTF under a module's split BTF; it must
  // outlive this one. Besides libbpf's own checks, every type id a type
  // refers to must exist, and no type may contain or spell itself (a
  // typedef, qualifier or array loop; a pointer or function loop).
  static Expected<std::unique_ptr<BtfFile>> open(std::vector<std::byte> bytes, std::string description,
                                                 const BtfFile* base = nullptr);
  ~BtfFile() override;

  // The type id of the best (kind, name) -- a definition over a forward
  // declaration, then the lowest id; for a split BTF, its own types first,
  // then its base's. Kinds variable, function and enumerator: not types,
  // nullopt (see below).
  Expected<std::optional<uint64_t>> find(NameKind kind, std::string_view name) const override;

  struct PerCpuVariable {
    uint32_t var_id;   // the VAR
    uint32_t type_id;  // its type
    uint64_t offset;   // in .data..percpu (a module's: in its own section)
  };
  std::optional<PerCpuVariable> per_cpu_variable(std::string_view name) const;
  struct Function {
    uint32_t func_id;
    uint32_t prototype_id;  // its type
  };
  std::optional<Function> function(std::string_view name) const;
  // Sign-extended when the enum is signed.
  std::optional<int64_t> enumerator(std::string_view name) const;
  // Sorted names of those kinds that start with prefix, at most limit.
  std::vector<std::string> names_starting_with(std::string_view prefix, std::initializer_list<NameKind> kinds,
                                               size_t limit) const;

  const ::btf& parsed() const { return *btf_; }
  const std::string& description() const { return description_; }

 private:
  struct Entry {
    std::string_view name;  // into libbpf's copy of the strings
    NameKind kind;
    uint8_t rank;  // 0: a definition, 1: a forward declaration
    uint64_t id;   // enumerators: enum id << 16 | index
  };
  BtfFile() = default;
  Expected<void> check_references() const;
  Expected<void> check_loops() const;
  Expected<void> index();
  std::optional<uint64_t> find_entry(NameKind kind, std::string_view name) const;
  Error corrupt(uint32_t id, std::string_view reason) const;

  std::string description_;
  const BtfFile* base_ = nullptr;
  ::btf* btf_ = nullptr;
  uint32_t first_id_ = 1;  // of this file's own types (after its base's)
  uint32_t end_id_ = 1;
  std::vector<Entry> entries_;  // sorted by (kind, name), one per (kind, name)
  std::unordered_map<uint32_t, uint64_t> percpu_offsets_;  // VAR id -> offset
};

}  // namespace coroner::symbols
