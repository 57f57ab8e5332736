// TypeGraph over BTF: the same Types as from DWARF, made from BTF type ids.
// BtfFile::open has checked every reference and that no type contains or
// spells itself, so making a type recurses only as far as C nesting goes.
#include "symbols/btf_file.hpp"
#include "symbols/types.hpp"

#include <bpf/btf.h>

namespace coroner::symbols {

namespace {

// Qualifier chains longer than this are not C.
constexpr int kMaxChain = 64;

std::string btf_name(const ::btf* btf, uint32_t offset) {
  const char* name = btf__name_by_offset(btf, offset);
  return name ? name : "";
}

// GCC's name of the integer type an enum of this size stands on, as its
// DWARF says (BTF keeps only the size and the signedness).
std::string_view enum_integer(uint64_t size, bool is_signed) {
  switch (size) {
    case 1: return is_signed ? "signed char" : "unsigned char";
    case 2: return is_signed ? "short int" : "short unsigned int";
    case 8: return is_signed ? "long int" : "long unsigned int";
    default: return is_signed ? "int" : "unsigned int";
  }
}

Encoding int_encoding(const btf_type* t, std::string_view name) {
  const uint8_t encoding = btf_int_encoding(t);
  if (encoding & BTF_INT_BOOL) return Encoding::boolean;
  const bool is_signed = encoding & BTF_INT_SIGNED;
  // pahole keeps DWARF's signedness of char but not that it is a char.
  if ((encoding & BTF_INT_CHAR) || (t->size == 1 && name.find("char") != std::string_view::npos))
    return is_signed ? Encoding::signed_char : Encoding::unsigned_char;
  return is_signed ? Encoding::signed_int : Encoding::unsigned_int;
}

}  // namespace

TypeGraph::TypeGraph(const ::btf& btf, const NameLookup& names, std::string path)
    : btf_(&btf),
      names_(names),
      path_(std::move(path)),
      address_size_(btf__pointer_size(&btf) ? static_cast<uint8_t>(btf__pointer_size(&btf)) : 8),
      little_endian_(btf__endianness(&btf) == BTF_LITTLE_ENDIAN) {}

Expected<QualifiedType> TypeGraph::btf_type_at(uint64_t id) const {
  std::lock_guard lock(mutex_);
  uint8_t qualifiers = 0;
  for (int i = 0; i < kMaxChain; ++i) {
    if (auto cached = by_die_.find(id); cached != by_die_.end()) return QualifiedType{cached->second, qualifiers};
    const btf_type* t = id <= UINT32_MAX ? btf__type_by_id(btf_, static_cast<uint32_t>(id)) : nullptr;
    if (t == nullptr) return make_error(Errc::corrupt, "{}: no BTF type id {}", path_, id);
    switch (btf_kind(t)) {
      case BTF_KIND_UNKN: {  // id 0, void
        CORONER_TRY(void_type, TypeRef::void_type().get());
        return QualifiedType{void_type.type, qualifiers};
      }
      case BTF_KIND_CONST: qualifiers |= qualifier_const; break;
      case BTF_KIND_VOLATILE: qualifiers |= qualifier_volatile; break;
      case BTF_KIND_RESTRICT: qualifiers |= qualifier_restrict; break;
      case BTF_KIND_TYPE_TAG: break;  // __user, __rcu, __percpu: no C meaning
      default: {
        CORONER_TRY(type, make_btf(static_cast<uint32_t>(id)));
        return QualifiedType{type, qualifiers};
      }
    }
    id = t->type;
  }
  return make_error(Errc::corrupt, "{}: BTF type id {}: qualifier chain too long", path_, id);
}

Expected<const Type*> TypeGraph::make_btf(uint32_t id) const {
  const btf_type* t = btf__type_by_id(btf_, id);
  auto ref = [this](uint32_t target) { return target == 0 ? TypeRef::void_type() : TypeRef(this, target); };
  auto corrupt = [&](std::string_view reason) {
    return make_error(Errc::corrupt, "{}: BTF type id {}: {}", path_, id, reason);
  };
  Type type;
  type.die_offset_ = id;
  type.name_ = btf_name(btf_, t->name_off);
  const uint16_t count = btf_vlen(t);
  switch (btf_kind(t)) {
    case BTF_KIND_INT: case BTF_KIND_FLOAT:
      type.kind_ = TypeKind::base;
      type.byte_size_ = t->size;
      type.encoding_ = btf_is_int(t) ? int_encoding(t, type.name_) : Encoding::floating;
      type.complete_ = true;
      break;
    case BTF_KIND_PTR:
      type.kind_ = TypeKind::pointer;
      type.byte_size_ = address_size_;
      type.target_ = ref(t->type);
      type.complete_ = true;
      break;
    case BTF_KIND_ARRAY: {
      // BTF says 0 for both x[0] and x[]: read as the flexible array
      // member the kernel spells x[].
      const struct btf_array* array = btf_array(t);
      type.kind_ = TypeKind::array;
      if (array->nelems) type.length_ = array->nelems;
      type.complete_ = array->nelems != 0;
      type.target_ = ref(array->type);
      break;
    }
    case BTF_KIND_STRUCT: case BTF_KIND_UNION:
      type.kind_ = btf_is_struct(t) ? TypeKind::structure : TypeKind::union_type;
      type.byte_size_ = t->size;
      type.complete_ = true;
      for (uint16_t i = 0; i < count; ++i) {
        const btf_member& member = btf_members(t)[i];
        Member out{btf_name(btf_, member.name_off), btf_member_bit_offset(t, i), btf_member_bitfield_size(t, i),
                   ref(member.type)};
        // Without the kind flag a bitfield is an INT of fewer bits.
        const btf_type* member_type = btf__type_by_id(btf_, member.type);
        if (!btf_kflag(t) && member_type && btf_is_int(member_type) && btf_int_bits(member_type) != member_type->size * 8) {
          out.bit_size = btf_int_bits(member_type);
          out.bit_offset += btf_int_offset(member_type);
        }
        type.members_.push_back(std::move(out));
      }
      break;
    case BTF_KIND_ENUM: case BTF_KIND_ENUM64: {
      // No enumerators: a declaration, which has no size in C (nor DWARF).
      type.kind_ = TypeKind::enumeration;
      if (count != 0) type.byte_size_ = t->size;
      type.complete_ = count != 0;
      const bool is_signed = btf_kflag(t);
      for (uint16_t i = 0; i < count; ++i) {
        if (btf_is_enum(t)) {
          const int32_t value = btf_enum(t)[i].val;
          type.enumerators_.push_back({btf_name(btf_, btf_enum(t)[i].name_off),
                                       is_signed ? static_cast<uint64_t>(int64_t{value}) : static_cast<uint32_t>(value)});
        } else {
          type.enumerators_.push_back({btf_name(btf_, btf_enum64(t)[i].name_off), btf_enum64_value(btf_enum64(t) + i)});
        }
      }
      CORONER_TRY(integer, names_.find(NameKind::base, enum_integer(t->size, is_signed)));
      if (integer) type.target_ = TypeRef(this, *integer);
      if (count == 0 && !type.name_.empty()) {
        CORONER_TRY(definition, names_.find(NameKind::enumeration, type.name_));
        if (definition && *definition != id) {
          CORONER_TRY(defined, btf_type_at(*definition));
          by_die_[id] = defined.type;
          return defined.type;
        }
      }
      break;
    }
    case BTF_KIND_FWD: {
      const NameKind kind = btf_kflag(t) ? NameKind::union_type : NameKind::structure;
      // A declaration stands for the definition elsewhere in the BTF.
      CORONER_TRY(definition, names_.find(kind, type.name_));
      if (definition && *definition != id) {
        CORONER_TRY(defined, btf_type_at(*definition));
        by_die_[id] = defined.type;
        return defined.type;
      }
      type.kind_ = btf_kflag(t) ? TypeKind::union_type : TypeKind::structure;
      break;
    }
    case BTF_KIND_TYPEDEF:
      type.kind_ = TypeKind::typedef_type;
      type.target_ = ref(t->type);
      type.complete_ = true;
      break;
    case BTF_KIND_FUNC_PROTO:
      type.kind_ = TypeKind::function;
      type.target_ = ref(t->type);
      for (uint16_t i = 0; i < count; ++i) {
        const btf_param& parameter = btf_params(t)[i];
        if (i + 1 == count && parameter.type == 0) type.variadic_ = true;  // "..."
        else type.parameters_.push_back({btf_name(btf_, parameter.name_off), ref(parameter.type)});
      }
      break;
    case BTF_KIND_FUNC: {
      // A function is its prototype, with the parameter names.
      CORONER_TRY(prototype, btf_type_at(t->type));
      by_die_[id] = prototype.type;
      return prototype.type;
    }
    case BTF_KIND_VAR: return corrupt("a variable, not a type");
    case BTF_KIND_DATASEC: return corrupt("a data section, not a type");
    case BTF_KIND_DECL_TAG: return corrupt("a declaration tag, not a type");
    default: return corrupt(fmt::format("unknown kind {}", btf_kind(t)));
  }
  const Type* made = &made_.emplace_back(std::move(type));
  by_die_[id] = made;
  return made;
}

}  // namespace coroner::symbols
