#include "analyzer/object.hpp"

#include "symbols/btf_globals.hpp"

namespace coroner {

using symbols::QualifiedType;
using symbols::Type;
using symbols::TypeKind;

namespace {

// Larger objects come from hostile DWARF or a mistyped cast, not the kernel.
constexpr uint64_t kMaxObjectBytes = 64 << 20;

bool is_scalar(TypeKind kind) {
  return kind == TypeKind::base || kind == TypeKind::enumeration || kind == TypeKind::pointer;
}

bool is_char(const Type& type) {
  return type.kind() == TypeKind::base && (type.encoding() == symbols::Encoding::signed_char ||
                                           type.encoding() == symbols::Encoding::unsigned_char);
}

// A variable or function of `info` (link-time addresses moved by slide).
// For vmlinux (`kernel`), its symbol table -- read only when needed -- gives
// the address of what DWARF only declares and the size of an array declared
// without one.
std::optional<Expected<GlobalObject>> lookup(const Program& program, symbols::DebugInfo& info, std::string_view name,
                                             int64_t slide, bool zero_based_percpu, bool kernel) {
  // A kernel global has an ELF symbol: without one there is nothing to read,
  // and the DWARF search would pass over all of .debug_info to say so.
  // (BTF's per-CPU variables need none: kallsyms without data symbols lack them.)
  if (kernel && info.has_dwarf() && program.symbols_loaded() && program.symbol_table() && !program.symbols().find(name))
    return std::nullopt;
  bool function = false;
  auto variable = info.find_variable(name);
  if (!variable) {
    variable = info.find_function(name);
    function = true;
  }
  if (!variable) return std::nullopt;
  uint64_t address = 0;
  if (variable->address && variable->per_cpu && !zero_based_percpu && !info.has_dwarf()) {
    // BTF gives the offset in .data..percpu; the section starts at the
    // run-time __per_cpu_start (arm64 links it at its image address).
    const symbols::Symbol* start = program.symbols().find("__per_cpu_start");
    if (!start) return make_error(Errc::not_found, "'{}' is per-CPU, and there is no __per_cpu_start", name);
    address = *variable->address + start->address;
  } else if (variable->address) {
    // x86_64 links .data..percpu at 0: those offsets are not moved by KASLR.
    address = *variable->address + (variable->per_cpu && zero_based_percpu ? 0 : slide);
  } else if (const symbols::Symbol* symbol = kernel ? program.symbols().find(name) : nullptr) {
    address = symbol->address;  // only declared in DWARF (jiffies is a linker-script alias)
  } else {
    return make_error(Errc::not_found, "'{}' has no address in {} (optimized out or only declared)", name, info.path());
  }
  Object object = Object::reference(program, info.types(), variable->type, address);
  // An array declared without a length: its definition's symbol has the size.
  auto type = object.underlying_type();
  if (kernel && type && (*type)->kind() == TypeKind::array && !(*type)->length()) {
    const symbols::Symbol* symbol = program.symbols().find(name);
    if (symbol && symbol->size && symbol->address == *object.address()) object = object.with_size(symbol->size);
  }
  return GlobalObject{std::string(name), std::move(object), variable->per_cpu, function};
}

}  // namespace

uint64_t scalar_from_bytes(std::span<const std::byte> bytes, uint64_t bit_offset, uint64_t bit_size, bool is_signed) {
  if (bit_size == 0) bit_size = std::min<uint64_t>(bytes.size(), 8) * 8;
  bit_size = std::min<uint64_t>(bit_size, 64);
  unsigned __int128 raw = 0;
  const size_t first = bit_offset / 8;
  const size_t count = std::min<size_t>((bit_offset % 8 + bit_size + 7) / 8, 9);
  for (size_t i = 0; i < count && first + i < bytes.size(); ++i)
    raw |= static_cast<unsigned __int128>(std::to_integer<uint8_t>(bytes[first + i])) << (8 * i);
  uint64_t value = static_cast<uint64_t>(raw >> (bit_offset % 8));
  if (bit_size < 64) {
    value &= (uint64_t{1} << bit_size) - 1;
    if (is_signed && (value >> (bit_size - 1)) & 1) value |= ~uint64_t{0} << bit_size;
  }
  return value;
}

Object Object::reference(const Program& program, const symbols::TypeGraph& graph, QualifiedType type,
                         uint64_t address, uint8_t bit_offset, uint64_t bit_size) {
  Object object;
  object.program_ = &program;
  object.graph_ = &graph;
  object.type_ = type;
  object.address_ = address + bit_offset / 8;
  object.bit_offset_ = bit_offset % 8;
  object.bit_size_ = bit_size;
  return object;
}

Expected<Object> Object::value(const Program& program, const symbols::TypeGraph& graph, QualifiedType type,
                               uint64_t bits) {
  CORONER_TRY(size, type.type->size());
  if (size == 0 || size > 8)
    return make_error(Errc::invalid_argument, "{} cannot hold a scalar value", type.type->spelling());
  Object object;
  object.program_ = &program;
  object.graph_ = &graph;
  object.type_ = type;
  object.held_ = true;
  for (uint64_t i = 0; i < size; ++i) object.bytes_.push_back(static_cast<std::byte>(bits >> (8 * i)));
  return object;
}

Error Object::fault(const Error& read_error) const {
  return read_error.context(fmt::format("reading {}", type_.type->spelling()));
}

Object Object::with_size(uint64_t bytes) const {
  Object sized = *this;
  sized.size_ = bytes;
  return sized;
}

Expected<uint64_t> Object::byte_size() const {
  if (bit_size_) return (bit_offset_ + bit_size_ + 7) / 8;
  if (size_) return *size_;
  return type_.type->size();
}

Expected<Object> Object::member(std::string_view path) const {
  if (held_) return make_error(Errc::invalid_argument, "{} is a value, not in memory: no member '{}'",
                               type_.type->spelling(), path);
  CORONER_TRY(location, graph_->member(type_, path));
  const uint64_t bits = bit_offset_ + location.bit_offset;
  return reference(*program_, *graph_, location.type, address_ + bits / 8, bits % 8, location.bit_size);
}

Expected<Object> Object::deref() const {
  CORONER_TRY(kind_type, underlying_type());
  if (kind_type->kind() == TypeKind::array) return index(0);
  if (kind_type->kind() != TypeKind::pointer)
    return make_error(Errc::invalid_argument, "cannot dereference {} (not a pointer)", type_.type->spelling());
  CORONER_TRY(target, kind_type->target().get());
  if (target.type->kind() == TypeKind::void_type)
    return make_error(Errc::invalid_argument, "cannot dereference a void pointer (cast it first)");
  CORONER_TRY(pointer, read_unsigned());
  return reference(*program_, *graph_, target, pointer);
}

Expected<Object> Object::index(int64_t i) const {
  CORONER_TRY(kind_type, underlying_type());
  const TypeKind kind = kind_type->kind();
  if (kind != TypeKind::array && kind != TypeKind::pointer)
    return make_error(Errc::invalid_argument, "cannot index {} (not an array or pointer)", type_.type->spelling());
  CORONER_TRY(element, kind_type->target().get());
  if (element.type->kind() == TypeKind::void_type)
    return make_error(Errc::invalid_argument, "cannot index a void pointer (cast it first)");
  CORONER_TRY(element_size, element.type->size());
  uint64_t base = 0;
  if (kind == TypeKind::array) {
    if (held_) return make_error(Errc::invalid_argument, "the array is not in memory");
    if (kind_type->length() && (i < 0 || static_cast<uint64_t>(i) >= *kind_type->length()))
      return make_error(Errc::invalid_argument, "index {} is out of bounds of {}", i, type_.type->spelling());
    base = address_;
  } else {
    CORONER_TRY(pointer, read_unsigned());
    base = pointer;
  }
  return reference(*program_, *graph_, element, base + static_cast<uint64_t>(i) * element_size);
}

Expected<Object> Object::address_of() const {
  if (held_) return make_error(Errc::invalid_argument, "cannot take the address of a value that is not in memory");
  if (bit_size_) return make_error(Errc::invalid_argument, "cannot take the address of a bitfield");
  return value(*program_, *graph_, QualifiedType{graph_->pointer_to(type_), 0}, address_);
}

Expected<Object> Object::cast(QualifiedType type) const {
  CORONER_TRY(to, symbols::underlying(type));
  CORONER_TRY(from, underlying_type());
  if (is_scalar(to->kind()) && from->kind() == TypeKind::array && !held_)
    return value(*program_, *graph_, type, address_);  // the array decays to its address
  if (is_scalar(to->kind()) && is_scalar(from->kind())) {
    CORONER_TRY(bits, read_unsigned());
    return value(*program_, *graph_, type, bits);
  }
  if (!held_) return reference(*program_, *graph_, type, address_, bit_offset_, bit_size_);
  return make_error(Errc::invalid_argument, "cannot cast {} to {}", type_.type->spelling(), type.type->spelling());
}

Expected<std::vector<std::byte>> Object::read_bytes() const {
  if (held_) return bytes_;
  CORONER_TRY(size, byte_size());
  if (size > kMaxObjectBytes)
    return make_error(Errc::invalid_argument, "{} at {:#x} is {} bytes, more than this reads at once",
                      type_.type->spelling(), address_, size);
  std::vector<std::byte> bytes(size);
  auto done = program_->memory().read(address_, bytes);
  if (!done) return fault(done.error());
  return bytes;
}

Expected<uint64_t> Object::read_unsigned() const {
  CORONER_TRY(kind_type, underlying_type());
  if (!is_scalar(kind_type->kind()))
    return make_error(Errc::invalid_argument, "{} is not a scalar", type_.type->spelling());
  CORONER_TRY(bytes, read_bytes());
  return scalar_from_bytes(bytes, bit_offset_, bit_size_, kind_type->is_signed());
}

Expected<int64_t> Object::read_signed() const {
  CORONER_TRY(bits, read_unsigned());
  return static_cast<int64_t>(bits);
}

Expected<std::string> Object::read_c_string(size_t max) const {
  CORONER_TRY(kind_type, underlying_type());
  CORONER_TRY(element, kind_type->target().get());
  CORONER_TRY(element_type, symbols::underlying(element));
  if (!is_char(*element_type) ||
      (kind_type->kind() != TypeKind::array && kind_type->kind() != TypeKind::pointer))
    return make_error(Errc::invalid_argument, "{} is not a string (char array or pointer)", type_.type->spelling());
  if (kind_type->kind() == TypeKind::pointer) {
    CORONER_TRY(pointer, read_unsigned());
    auto text = program_->memory().read_string(pointer, max);
    if (!text) return fault(text.error());
    return *text;
  }
  CORONER_TRY(bytes, read_bytes());
  std::string text;
  for (std::byte b : bytes) {
    if (b == std::byte{0} || text.size() >= max) break;
    text.push_back(static_cast<char>(b));
  }
  return text;
}

Expected<const symbols::TypeGraph*> kernel_types(const Program& program) {
  CORONER_TRY(info, program.debug_info());
  return &info->types();
}

namespace {

Error missing_global(const Program& program, std::string_view name, std::string_view searched) {
  if (const symbols::Symbol* symbol = program.symbols().find(name))
    return make_error(Errc::not_found, "'{}' has no debug info type; cast its address: *(long *){:#x}", name,
                      symbol->address);
  return make_error(Errc::not_found, "no symbol '{}' in {}{}", name, program.options().vmlinux, searched);
}

// vmlinux's own global; nullopt when its debug info has no such name.
std::optional<Expected<GlobalObject>> kernel_lookup(const Program& program, symbols::DebugInfo& info,
                                                    std::string_view name) {
  return lookup(program, info, name, program.kaslr_offset(), program.percpu_linked_at_zero(), true);
}

Expected<Object> plain_object(Expected<GlobalObject> global, std::string_view name) {
  if (!global) return global.error();
  if (global->per_cpu)
    return make_error(Errc::invalid_argument, "'{}' is a per-CPU variable: name a CPU ({}:CPU)", name, name);
  return std::move(global->object);
}

}  // namespace

// Before the DWARF name index exists, finding a variable's DIE scans the
// units until one defines it, most of a cold session's time. The model's
// reads of the well-known globals (symbols/btf_globals.hpp: their C types
// are stable from 4.18 to 6.x) take that type and the ELF symbol instead;
// what the user names (find_global) still gets its DWARF type.
namespace {

std::optional<GlobalObject> known_kernel_global(const Program& program, symbols::DebugInfo& info,
                                                std::string_view name) {
  const auto known = symbols::known_global(name);
  // Per-CPU variables keep their DWARF lookup: the variable's DIE leads to
  // its type, where a name scan for a short one ("struct rq": GCC writes
  // such names inline, not in .debug_str) reads every unit.
  if (!known || known->per_cpu || !info.has_dwarf() || info.indexed()) return std::nullopt;
  const symbols::Symbol* symbol = program.symbols().find(name);
  if (!symbol || (known->array && !symbol->size)) return std::nullopt;
  auto type = info.find_type(known->type);
  if (!type) return std::nullopt;
  // An array's length is its symbol's size (__per_cpu_offset: NR_CPUS).
  const QualifiedType object_type = known->array ? QualifiedType{info.types().array_of(*type), 0} : *type;
  Object object = Object::reference(program, info.types(), object_type, symbol->address);
  if (known->array) object = object.with_size(symbol->size);
  return GlobalObject{std::string(name), std::move(object), false, false};
}

}  // namespace

Expected<GlobalObject> find_kernel_global(const Program& program, std::string_view name) {
  CORONER_TRY(info, program.debug_info());
  if (auto known = known_kernel_global(program, *info, name)) return std::move(*known);
  if (auto found = kernel_lookup(program, *info, name)) return std::move(*found);
  return missing_global(program, name, "");
}

Expected<GlobalObject> find_global(const Program& program, std::string_view name) {
  CORONER_TRY(info, program.debug_info());
  if (auto found = kernel_lookup(program, *info, name)) return std::move(*found);
  // Then the loaded modules' debug info, already placed at their sections.
  if (auto modules = program.modules())
    for (const auto& module : **modules) {
      if (!module->has_types()) continue;
      auto debug = module->debug_info();
      if (!debug) continue;
      if (auto found = lookup(program, **debug, name, 0, false, false)) return std::move(*found);
    }
  return missing_global(program, name, " or the modules' debug info");
}

Expected<Object> global_object(const Program& program, std::string_view name) {
  return plain_object(find_global(program, name), name);
}

Expected<Object> kernel_object(const Program& program, std::string_view name) {
  return plain_object(find_kernel_global(program, name), name);
}

Expected<std::vector<uint32_t>> possible_cpus(const Program& program) {
  CORONER_TRY(ids, kernel_object(program, "nr_cpu_ids"));
  CORONER_TRY(count, ids.read_unsigned());
  CORONER_TRY(mask, kernel_object(program, "__cpu_possible_mask"));
  CORONER_TRY(bits, mask.member("bits"));
  CORONER_TRY(bytes, bits.read_bytes());
  std::vector<uint32_t> cpus;
  for (uint64_t cpu = 0; cpu < count && cpu < bytes.size() * 8; ++cpu)
    if (std::to_integer<uint8_t>(bytes[cpu / 8]) >> (cpu % 8) & 1) cpus.push_back(static_cast<uint32_t>(cpu));
  return cpus;
}

Expected<Object> per_cpu(const GlobalObject& variable, uint32_t cpu) {
  if (!variable.per_cpu) return make_error(Errc::invalid_argument, "'{}' is not a per-CPU variable", variable.name);
  const Program& program = variable.object.program();
  CORONER_TRY(offsets, kernel_object(program, "__per_cpu_offset"));
  if (auto ids = kernel_object(program, "nr_cpu_ids")) {
    CORONER_TRY(count, ids->read_unsigned());
    if (cpu >= count) return make_error(Errc::invalid_argument, "CPU {} does not exist (nr_cpu_ids is {})", cpu, count);
  }
  CORONER_TRY(slot, offsets.index(cpu));
  CORONER_TRY(offset, slot.read_unsigned());
  CORONER_TRY(base, variable.object.address_of());
  CORONER_TRY(address, base.read_unsigned());
  return Object::reference(program, variable.object.graph(), variable.object.type(), address + offset);
}

Expected<Object> container_of(const Object& pointer, QualifiedType type, std::string_view member) {
  CORONER_TRY(address, pointer.read_unsigned());
  CORONER_TRY(location, pointer.graph().member(type, member));
  if (location.bit_size) return make_error(Errc::invalid_argument, "container_of: '{}' is a bitfield", member);
  return Object::value(pointer.program(), pointer.graph(), QualifiedType{pointer.graph().pointer_to(type), 0},
                       address - location.bit_offset / 8);
}

}  // namespace coroner
