// Typed values of the dumped kernel, after libdrgn's Object: a type plus
// either an address in kernel memory (a reference, read lazily) or bytes the
// analyzer holds (a value: a literal, &x, a cast, pointer arithmetic).
//
//   CORONER_TRY(task, global_object(program, "init_task"));
//   CORONER_TRY(comm, task.member("comm"));
//   CORONER_TRY(text, comm.read_c_string());
//
// Every read goes through KernelMemory, so a failure names the address and
// why (not mapped, excluded by the dump filter, not in the dump).
#pragma once

#include "analyzer/program.hpp"
#include "symbols/types.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coroner {

class Object {
 public:
  // The object of `type` stored at `address`; a bitfield starts bit_offset
  // (< 8) bits after it and is bit_size bits wide.
  static Object reference(const Program& program, const symbols::TypeGraph& graph, symbols::QualifiedType type,
                          uint64_t address, uint8_t bit_offset = 0, uint64_t bit_size = 0);
  // A scalar (integer, enum, pointer) held by the analyzer; the low bytes of
  // `bits` up to the type's size.
  static Expected<Object> value(const Program& program, const symbols::TypeGraph& graph, symbols::QualifiedType type,
                                uint64_t bits);

  const Program& program() const { return *program_; }
  const symbols::TypeGraph& graph() const { return *graph_; }
  symbols::QualifiedType type() const { return type_; }
  // The type with typedefs stripped.
  Expected<const symbols::Type*> underlying_type() const { return symbols::underlying(type_); }
  bool is_reference() const { return !held_; }
  std::optional<uint64_t> address() const { return held_ ? std::nullopt : std::optional(address_); }
  uint8_t bit_offset() const { return bit_offset_; }
  uint64_t bit_size() const { return bit_size_; }  // 0 unless a bitfield

  // A member path of a struct/union ("comm", "se.load.weight", "pids[1]");
  // anonymous members are searched transparently.
  Expected<Object> member(std::string_view path) const;
  // *pointer, or the first element of an array.
  Expected<Object> deref() const;
  // array[i] or pointer[i].
  Expected<Object> index(int64_t i) const;
  // &object: a pointer value.
  Expected<Object> address_of() const;
  // (type)object: scalars convert like C; a reference of another size or
  // kind is reinterpreted in place (what crash's `struct NAME ADDR` does).
  Expected<Object> cast(symbols::QualifiedType type) const;

  Expected<uint64_t> byte_size() const;
  // An array declared without a length (extern char x[];) takes its size
  // from elsewhere (the ELF symbol): the same object, `bytes` long.
  Object with_size(uint64_t bytes) const;
  // The object's bytes (for a bitfield: the bytes that hold it).
  Expected<std::vector<std::byte>> read_bytes() const;
  // Integers, enums, bools, pointers and bitfields; signed types sign-extend.
  Expected<uint64_t> read_unsigned() const;
  Expected<int64_t> read_signed() const;
  // A char array up to its first NUL, or the string a char pointer points to.
  Expected<std::string> read_c_string(size_t max = 4096) const;

 private:
  Object() = default;
  Error fault(const Error& read_error) const;

  const Program* program_ = nullptr;
  const symbols::TypeGraph* graph_ = nullptr;
  symbols::QualifiedType type_;
  bool held_ = false;
  uint64_t address_ = 0;
  std::vector<std::byte> bytes_;  // held values
  uint8_t bit_offset_ = 0;
  uint64_t bit_size_ = 0;
  std::optional<uint64_t> size_;  // with_size()
};

// A scalar from raw little-endian bytes: bit_size bits starting bit_offset
// bits into `bytes` (bit_size 0: the whole span, at most 8 bytes),
// sign-extended when is_signed.
uint64_t scalar_from_bytes(std::span<const std::byte> bytes, uint64_t bit_offset, uint64_t bit_size, bool is_signed);

// A global of the kernel, else of a loaded module with debug info:
// variables and functions at their run-time addresses. A per-CPU
// variable's object is its per-CPU offset (not readable); per_cpu() gives
// one CPU's instance.
struct GlobalObject {
  std::string name;
  Object object;
  bool per_cpu = false;
  bool function = false;
};
Expected<GlobalObject> find_global(const Program& program, std::string_view name);
// Shorthand for globals that are not per-CPU: the variable's object.
Expected<Object> global_object(const Program& program, std::string_view name);
// The same for the kernel's own globals only, never a module's: what the OS
// model reads, so that a variable this kernel lacks (contig_page_data on a
// NUMA kernel) does not make it read every module to be sure.
Expected<GlobalObject> find_kernel_global(const Program& program, std::string_view name);
Expected<Object> kernel_object(const Program& program, std::string_view name);

// per_cpu(var, cpu): the variable's instance of `cpu`, at its per-CPU
// offset plus __per_cpu_offset[cpu].
Expected<Object> per_cpu(const GlobalObject& variable, uint32_t cpu);
// The CPUs with per-CPU areas (bits of __cpu_possible_mask below nr_cpu_ids).
Expected<std::vector<uint32_t>> possible_cpus(const Program& program);

// container_of(pointer, type, member): the address of the `type` whose
// `member` `pointer` points at, as a pointer to `type`.
Expected<Object> container_of(const Object& pointer, symbols::QualifiedType type, std::string_view member);

// vmlinux's type graph (from the program's debug info).
Expected<const symbols::TypeGraph*> kernel_types(const Program& program);

}  // namespace coroner
