// The C type model of one file's DWARF, or of a BTF blob (the kernel's .BTF,
// a module's split BTF): struct/union/enum/typedef/pointer/array/base/function
// types with their members, bitfields, enumerators and parameters. A Type is
// made from its DIE (or BTF type id) on first use and never changes
// afterwards; the types it refers to (a pointer's target, a member's type)
// are made when asked for, so looking at task_struct does not pull in the
// whole kernel's type graph. Which of the two a graph reads is its own
// business: every user sees the same Types.
#pragma once

#include "capture/format/error.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class DWARFContext;
class DWARFDie;
}

struct btf;  // libbpf's parsed BTF (<bpf/btf.h>)

namespace coroner::symbols {

class NameLookup;
class Type;
class TypeGraph;

enum class TypeKind : uint8_t { void_type, base, pointer, structure, union_type, enumeration, typedef_type, array, function };

// How a base type's bytes are read.
enum class Encoding : uint8_t { none, signed_int, unsigned_int, signed_char, unsigned_char, boolean, floating };

enum Qualifier : uint8_t { qualifier_const = 1, qualifier_volatile = 2, qualifier_restrict = 4, qualifier_atomic = 8 };

struct QualifiedType {
  const Type* type = nullptr;
  uint8_t qualifiers = 0;  // Qualifier bits
};

// A reference to a type, resolved (and cached by the graph) on first use.
// id: a DIE offset in a DWARF graph, a BTF type id in a BTF graph.
class TypeRef {
 public:
  TypeRef() = default;
  TypeRef(const TypeGraph* graph, uint64_t id) : graph_(graph), die_offset_(id) {}
  explicit TypeRef(QualifiedType type) : direct_(type) {}
  // void when the DIE has no DW_AT_type.
  static TypeRef void_type() { return TypeRef(); }

  Expected<QualifiedType> get() const;

 private:
  const TypeGraph* graph_ = nullptr;
  uint64_t die_offset_ = 0;
  QualifiedType direct_;
};

struct Member {
  std::string name;         // empty for an anonymous struct/union member
  uint64_t bit_offset = 0;  // from the start of the enclosing struct/union
  uint64_t bit_size = 0;    // 0 unless a bitfield
  TypeRef type;
};

struct Enumerator {
  std::string name;
  uint64_t value = 0;  // two's complement when the enum is signed
};

struct Parameter {
  std::string name;
  TypeRef type;
};

class Type {
 public:
  TypeKind kind() const { return kind_; }
  // Tag, typedef or base type name; empty when anonymous (and for pointers,
  // arrays, functions).
  const std::string& name() const { return name_; }
  // False for a struct/union/enum known only by declaration, void, functions
  // and arrays without a length.
  bool is_complete() const { return complete_; }
  // Size in bytes, following typedefs and array element types.
  Expected<uint64_t> size() const;
  Encoding encoding() const { return encoding_; }
  bool is_signed() const;
  // Pointee, aliased type, array element, enum's compatible type or a
  // function's return type; void otherwise.
  const TypeRef& target() const { return target_; }
  std::optional<uint64_t> length() const { return length_; }  // arrays
  const std::vector<Member>& members() const { return members_; }
  const std::vector<Enumerator>& enumerators() const { return enumerators_; }
  const std::vector<Parameter>& parameters() const { return parameters_; }
  bool is_variadic() const { return variadic_; }
  // The DIE (BTF: the type id) this type was made from; 0 for types made by
  // the graph (pointers from find_type("x *"), inner dimensions of arrays,
  // void).
  uint64_t die_offset() const { return die_offset_; }
  // C spelling: "struct task_struct", "int", "char *", "char [16]".
  std::string spelling() const;

 private:
  friend class TypeGraph;
  TypeKind kind_ = TypeKind::void_type;
  std::string name_;
  bool complete_ = false;
  std::optional<uint64_t> byte_size_;
  Encoding encoding_ = Encoding::none;
  TypeRef target_;
  std::optional<uint64_t> length_;
  std::vector<Member> members_;
  std::vector<Enumerator> enumerators_;
  std::vector<Parameter> parameters_;
  bool variadic_ = false;
  uint64_t die_offset_ = 0;
};

// Where a member path ("thread.sp", "pids[1].pid") lands inside a type.
struct MemberLocation {
  uint64_t bit_offset = 0;
  uint64_t bit_size = 0;  // 0 unless a bitfield
  QualifiedType type;
};

// Strips typedefs (and their qualifiers) down to the underlying type.
Expected<const Type*> underlying(QualifiedType type);

class TypeGraph {
 public:
  TypeGraph(llvm::DWARFContext& context, const NameLookup& names, std::string path);
  // The types of a BTF blob (btf_types.cpp); names finds type ids. btf and
  // names must outlive the graph, and btf must have passed check_btf_loops()
  // (btf_file.hpp): a type may not contain or spell itself.
  TypeGraph(const ::btf& btf, const NameLookup& names, std::string path);
  ~TypeGraph();

  // The type of a type DIE or BTF type id (qualifiers -- DIEs, BTF
  // const/volatile/restrict/type_tag -- fold into the qualifiers).
  Expected<QualifiedType> type_at(uint64_t die_offset) const;
  // A type by C name: "struct task_struct", "task_struct" (typedefs, base
  // types, then tags), "unsigned long", "const char *".
  Expected<QualifiedType> find_type(std::string_view spelled) const;
  // A member path inside a struct/union (through typedefs); members of
  // anonymous structs and unions are found transparently.
  Expected<MemberLocation> member(QualifiedType type, std::string_view path) const;
  // A pointer to type (size: the file's address size).
  const Type* pointer_to(QualifiedType type) const;
  // An array of element without a length (as "extern T name[];" declares).
  const Type* array_of(QualifiedType element) const;
  // The type of a DW_AT_type attribute of die (void when absent); DWARF
  // graphs only (in a BTF graph the reference fails when resolved).
  TypeRef type_of(const llvm::DWARFDie& die) const;
  bool from_btf() const { return btf_ != nullptr; }

  // The file's path, or the BTF's description.
  const std::string& path() const { return path_; }

 private:
  Expected<const Type*> make(const llvm::DWARFDie& die) const;
  Expected<QualifiedType> btf_type_at(uint64_t id) const;  // btf_types.cpp
  Expected<const Type*> make_btf(uint32_t id) const;
  Expected<void> read_members(const llvm::DWARFDie& die, Type& type) const;
  Expected<void> read_array(const llvm::DWARFDie& die, Type& type) const;
  Error corrupt(uint64_t die_offset, std::string_view reason) const;

  llvm::DWARFContext* context_ = nullptr;  // exactly one of context_ and btf_
  const ::btf* btf_ = nullptr;
  const NameLookup& names_;
  std::string path_;
  uint8_t address_size_;
  bool little_endian_;
  mutable std::recursive_mutex mutex_;
  mutable std::deque<Type> made_;                  // every type of this graph
  mutable std::map<uint64_t, const Type*> by_die_;  // declarations map to their definition
  mutable std::map<std::pair<const Type*, uint8_t>, const Type*> pointers_;
  mutable std::map<std::pair<const Type*, uint8_t>, const Type*> arrays_;
};

}  // namespace coroner::symbols
