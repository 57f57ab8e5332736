#include "symbols/types.hpp"

#include "symbols/dwarf_index.hpp"

#include <llvm/BinaryFormat/Dwarf.h>
#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/DWARF/DWARFDie.h>
#include <llvm/DebugInfo/DWARF/DWARFFormValue.h>

#include <charconv>

namespace coroner::symbols {

namespace {

using namespace llvm::dwarf;

const Type& void_type_instance() {
  static const Type instance;
  return instance;
}

// Qualifier DIE chains longer than this are cycles in hostile input.
constexpr int kMaxChain = 64;
// Anonymous members nested deeper than this are, too.
constexpr int kMaxAnonymousDepth = 32;

std::optional<uint64_t> unsigned_attribute(const llvm::DWARFDie& die, Attribute attribute) {
  if (auto value = die.find(attribute)) return value->getAsUnsignedConstant();
  return std::nullopt;
}

std::optional<int64_t> signed_attribute(const llvm::DWARFDie& die, Attribute attribute) {
  if (auto value = die.find(attribute)) return value->getAsSignedConstant();
  return std::nullopt;
}

std::string die_name(const llvm::DWARFDie& die) {
  const char* name = die.getShortName();
  return name ? name : "";
}

Encoding encoding_of(uint64_t ate) {
  switch (ate) {
    case DW_ATE_signed: return Encoding::signed_int;
    case DW_ATE_signed_char: return Encoding::signed_char;
    case DW_ATE_unsigned_char: return Encoding::unsigned_char;
    case DW_ATE_boolean: return Encoding::boolean;
    case DW_ATE_float: return Encoding::floating;
    default: return Encoding::unsigned_int;
  }
}

// GCC's spelling of a C integer type ("unsigned long" -> "long unsigned
// int"), or nullopt when the words are not an integer type.
std::optional<std::string> gcc_integer_name(std::string_view text) {
  int longs = 0, shorts = 0, ints = 0, chars = 0;
  bool is_unsigned = false, is_signed = false;
  size_t words = 0;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (word.empty()) continue;
    ++words;
    if (word == "long") ++longs;
    else if (word == "short") ++shorts;
    else if (word == "int") ++ints;
    else if (word == "char") ++chars;
    else if (word == "unsigned") is_unsigned = true;
    else if (word == "signed") is_signed = true;
    else return std::nullopt;
  }
  if (words == 0 || longs > 2 || shorts > 1 || ints > 1 || chars > 1 || (is_signed && is_unsigned)) return std::nullopt;
  if (chars) {
    if (longs || shorts || ints) return std::nullopt;
    return is_unsigned ? "unsigned char" : is_signed ? "signed char" : "char";
  }
  std::string name = shorts ? "short " : longs == 2 ? "long long " : longs == 1 ? "long " : "";
  return name + (is_unsigned ? "unsigned int" : "int");
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

bool consume_word(std::string_view& text, std::string_view word) {
  if (text.size() > word.size() && text.substr(0, word.size()) == word && text[word.size()] == ' ') {
    text = trim(text.substr(word.size()));
    return true;
  }
  return false;
}

}  // namespace

Expected<QualifiedType> TypeRef::get() const {
  if (graph_ != nullptr) return graph_->type_at(die_offset_);
  if (direct_.type == nullptr) return QualifiedType{&void_type_instance(), direct_.qualifiers};
  return direct_;
}

Expected<uint64_t> Type::size() const {
  switch (kind_) {
    case TypeKind::typedef_type: {
      CORONER_TRY(aliased, target_.get());
      return aliased.type->size();
    }
    case TypeKind::array: {
      if (!length_) return uint64_t{0};  // flexible array member
      CORONER_TRY(element, target_.get());
      CORONER_TRY(element_size, element.type->size());
      if (element_size != 0 && *length_ > UINT64_MAX / element_size)
        return make_error(Errc::corrupt, "{}: size overflows", spelling());
      return *length_ * element_size;
    }
    case TypeKind::enumeration:
      if (byte_size_) return *byte_size_;
      if (complete_) {
        CORONER_TRY(compatible, target_.get());
        return compatible.type->size();
      }
      break;
    default:
      if (byte_size_) return *byte_size_;
  }
  return make_error(Errc::not_found, "{} has no size{}", spelling(), complete_ ? "" : " (incomplete type)");
}

bool Type::is_signed() const {
  if (kind_ == TypeKind::enumeration || kind_ == TypeKind::typedef_type) {
    auto target = target_.get();
    return target && target->type->is_signed();
  }
  return encoding_ == Encoding::signed_int || encoding_ == Encoding::signed_char;
}

std::string Type::spelling() const {
  auto target_spelling = [this]() -> std::string {
    auto target = target_.get();
    return target ? target->type->spelling() : "?";
  };
  const std::string tag_name = name_.empty() ? "<anonymous>" : name_;
  switch (kind_) {
    case TypeKind::void_type: return "void";
    case TypeKind::structure: return "struct " + tag_name;
    case TypeKind::union_type: return "union " + tag_name;
    case TypeKind::enumeration: return "enum " + tag_name;
    case TypeKind::pointer: return target_spelling() + " *";
    case TypeKind::array: return target_spelling() + (length_ ? fmt::format(" [{}]", *length_) : " []");
    case TypeKind::function: {
      std::string text = target_spelling() + " (";
      for (size_t i = 0; i < parameters_.size(); ++i) {
        auto parameter = parameters_[i].type.get();
        text += (i ? ", " : "") + (parameter ? parameter->type->spelling() : std::string("?"));
      }
      if (variadic_) text += parameters_.empty() ? "..." : ", ...";
      return text + ")";
    }
    default: return name_;
  }
}

Expected<const Type*> underlying(QualifiedType type) {
  for (int i = 0; i < kMaxChain && type.type->kind() == TypeKind::typedef_type; ++i) {
    CORONER_TRY(aliased, type.type->target().get());
    type = aliased;
  }
  if (type.type->kind() == TypeKind::typedef_type)
    return make_error(Errc::corrupt, "typedef {} does not end in a type", type.type->name());
  return type.type;
}

TypeGraph::TypeGraph(llvm::DWARFContext& context, const NameLookup& names, std::string path)
    : context_(&context),
      names_(names),
      path_(std::move(path)),
      address_size_(context.getDWARFObj().getFile()->getBytesInAddress()),
      little_endian_(context.isLittleEndian()) {}

TypeGraph::~TypeGraph() = default;

Error TypeGraph::corrupt(uint64_t die_offset, std::string_view reason) const {
  return make_error(Errc::corrupt, "{}: DIE {:#x}: {}", path_, die_offset, reason);
}

TypeRef TypeGraph::type_of(const llvm::DWARFDie& die) const {
  if (btf_ != nullptr) return TypeRef(this, UINT64_MAX);  // no DIEs here
  if (!die.find(DW_AT_type)) return TypeRef::void_type();
  llvm::DWARFDie target = die.getAttributeValueAsReferencedDie(DW_AT_type);
  // An unresolvable reference becomes an error when the type is asked for.
  return TypeRef(this, target.isValid() ? target.getOffset() : UINT64_MAX);
}

Expected<QualifiedType> TypeGraph::type_at(uint64_t die_offset) const {
  if (btf_ != nullptr) return btf_type_at(die_offset);
  std::lock_guard lock(mutex_);
  uint8_t qualifiers = 0;
  for (int i = 0; i < kMaxChain; ++i) {
    if (auto cached = by_die_.find(die_offset); cached != by_die_.end()) return QualifiedType{cached->second, qualifiers};
    llvm::DWARFDie die = context_->getDIEForOffset(die_offset);
    if (!die.isValid()) return corrupt(die_offset, "no DIE at this offset");
    uint8_t qualifier = 0;
    switch (die.getTag()) {
      case DW_TAG_const_type: qualifier = qualifier_const; break;
      case DW_TAG_volatile_type: qualifier = qualifier_volatile; break;
      case DW_TAG_restrict_type: qualifier = qualifier_restrict; break;
      case DW_TAG_atomic_type: qualifier = qualifier_atomic; break;
      default: {
        CORONER_TRY(type, make(die));
        return QualifiedType{type, qualifiers};
      }
    }
    qualifiers |= qualifier;
    if (!die.find(DW_AT_type)) return QualifiedType{&void_type_instance(), qualifiers};
    llvm::DWARFDie next = die.getAttributeValueAsReferencedDie(DW_AT_type);
    if (!next.isValid()) return corrupt(die_offset, "DW_AT_type refers to no DIE");
    die_offset = next.getOffset();
  }
  return corrupt(die_offset, "qualifier chain too long (a cycle?)");
}

Expected<const Type*> TypeGraph::make(const llvm::DWARFDie& die) const {
  const uint64_t offset = die.getOffset();
  const Tag tag = die.getTag();
  Type type;
  type.die_offset_ = offset;
  type.name_ = die_name(die);
  type.byte_size_ = unsigned_attribute(die, DW_AT_byte_size);
  const bool declaration = die.find(DW_AT_declaration).has_value();
  switch (tag) {
    case DW_TAG_base_type:
      type.kind_ = TypeKind::base;
      type.encoding_ = encoding_of(unsigned_attribute(die, DW_AT_encoding).value_or(DW_ATE_unsigned));
      type.complete_ = true;
      break;
    case DW_TAG_unspecified_type:
      by_die_[offset] = &void_type_instance();
      return &void_type_instance();
    case DW_TAG_pointer_type: case DW_TAG_reference_type: case DW_TAG_rvalue_reference_type:
      type.kind_ = TypeKind::pointer;
      if (!type.byte_size_) type.byte_size_ = address_size_;
      type.target_ = type_of(die);
      type.complete_ = true;
      break;
    case DW_TAG_structure_type: case DW_TAG_class_type: case DW_TAG_union_type: case DW_TAG_enumeration_type: {
      const NameKind kind = tag == DW_TAG_union_type         ? NameKind::union_type
                            : tag == DW_TAG_enumeration_type ? NameKind::enumeration
                                                             : NameKind::structure;
      if (declaration && !type.name_.empty()) {
        // A declaration stands for the definition some other unit holds.
        CORONER_TRY(definition, names_.find(kind, type.name_));
        if (definition && *definition != offset) {
          CORONER_TRY(defined, type_at(*definition));
          by_die_[offset] = defined.type;
          return defined.type;
        }
      }
      type.kind_ = kind == NameKind::union_type    ? TypeKind::union_type
                   : kind == NameKind::enumeration ? TypeKind::enumeration
                                                   : TypeKind::structure;
      type.complete_ = !declaration;
      if (kind == NameKind::enumeration) type.target_ = type_of(die);
      CORONER_CHECK(read_members(die, type));
      break;
    }
    case DW_TAG_typedef:
      type.kind_ = TypeKind::typedef_type;
      type.target_ = type_of(die);
      type.complete_ = true;
      break;
    case DW_TAG_array_type:
      type.kind_ = TypeKind::array;
      CORONER_CHECK(read_array(die, type));
      break;
    case DW_TAG_subroutine_type: case DW_TAG_subprogram:
      type.kind_ = TypeKind::function;
      type.target_ = type_of(die);
      CORONER_CHECK(read_members(die, type));
      break;
    default:
      return corrupt(offset, fmt::format("{} is not a type", llvm::dwarf::TagString(tag).str()));
  }
  const Type* made = &made_.emplace_back(std::move(type));
  by_die_[offset] = made;
  return made;
}

// Members of a struct/union, enumerators of an enum, parameters of a
// function: the children of its DIE.
Expected<void> TypeGraph::read_members(const llvm::DWARFDie& die, Type& type) const {
  for (const llvm::DWARFDie& child : die.children()) {
    switch (child.getTag()) {
      case DW_TAG_member: {
        Member member;
        member.name = die_name(child);
        member.type = type_of(child);
        member.bit_size = unsigned_attribute(child, DW_AT_bit_size).value_or(0);
        uint64_t byte_offset = 0;
        if (auto location = child.find(DW_AT_data_member_location)) {
          if (auto constant = location->getAsUnsignedConstant()) {
            byte_offset = *constant;
          } else if (auto block = location->getAsBlock(); block && !block->empty() && (*block)[0] == DW_OP_plus_uconst) {
            // DWARF 2: DW_OP_plus_uconst ULEB128.
            llvm::DataExtractor data(llvm::StringRef(reinterpret_cast<const char*>(block->data()), block->size()),
                                     little_endian_, address_size_);
            uint64_t cursor = 1;
            llvm::Error error = llvm::Error::success();
            byte_offset = data.getULEB128(&cursor, &error);
            if (error) return corrupt(child.getOffset(), llvm::toString(std::move(error)));
          } else {
            return corrupt(child.getOffset(), "unsupported DW_AT_data_member_location");
          }
        }
        if (auto data_bit_offset = unsigned_attribute(child, DW_AT_data_bit_offset)) {
          member.bit_offset = *data_bit_offset;
        } else if (auto old_bit_offset = signed_attribute(child, DW_AT_bit_offset)) {
          // DWARF 2/3 bitfields count from the storage unit's most
          // significant bit.
          uint64_t storage = unsigned_attribute(child, DW_AT_byte_size).value_or(0);
          if (storage == 0) {
            CORONER_TRY(member_type, member.type.get());
            CORONER_TRY(member_size, member_type.type->size());
            storage = member_size;
          }
          const int64_t from_lsb = little_endian_
              ? static_cast<int64_t>(storage * 8) - *old_bit_offset - static_cast<int64_t>(member.bit_size)
              : *old_bit_offset;
          member.bit_offset = byte_offset * 8 + static_cast<uint64_t>(from_lsb);
        } else {
          member.bit_offset = byte_offset * 8;
        }
        type.members_.push_back(std::move(member));
        break;
      }
      case DW_TAG_enumerator: {
        auto value = child.find(DW_AT_const_value);
        if (!value) return corrupt(child.getOffset(), "enumerator without a value");
        const bool is_signed = value->getForm() == DW_FORM_sdata || value->getForm() == DW_FORM_implicit_const;
        auto number = is_signed ? std::optional<uint64_t>(value->getAsSignedConstant().value_or(0))
                                : value->getAsUnsignedConstant();
        type.enumerators_.push_back({die_name(child), number.value_or(0)});
        break;
      }
      case DW_TAG_formal_parameter:
        if (type.kind_ == TypeKind::function) type.parameters_.push_back({die_name(child), type_of(child)});
        break;
      case DW_TAG_unspecified_parameters:
        type.variadic_ = true;
        break;
      default:
        break;
    }
  }
  return {};
}

// One array type per dimension: int a[2][3] is an array of 2 arrays of 3.
Expected<void> TypeGraph::read_array(const llvm::DWARFDie& die, Type& type) const {
  std::vector<std::optional<uint64_t>> lengths;
  for (const llvm::DWARFDie& child : die.children()) {
    if (child.getTag() != DW_TAG_subrange_type) continue;
    std::optional<uint64_t> length = unsigned_attribute(child, DW_AT_count);
    if (!length) {
      auto upper = child.find(DW_AT_upper_bound);
      if (upper && upper->isFormClass(llvm::DWARFFormValue::FC_Constant)) {
        const int64_t lower = signed_attribute(child, DW_AT_lower_bound).value_or(0);
        // data1/2/4 bounds are unsigned (char x[256] has 0xff in a data1);
        // only sdata, implicit_const and an all-ones data8 (GCC's "-1" of
        // a zero-length array) can be negative.
        const auto form = upper->getForm();
        const bool is_signed = form == DW_FORM_sdata || form == DW_FORM_implicit_const || form == DW_FORM_data8;
        const int64_t high = is_signed ? upper->getAsSignedConstant().value_or(-1)
                                       : static_cast<int64_t>(upper->getAsUnsignedConstant().value_or(0));
        length = high < lower ? 0 : static_cast<uint64_t>(high - lower) + 1;  // [0] is upper bound -1
      }
    }
    lengths.push_back(length);
  }
  if (lengths.empty()) lengths.push_back(std::nullopt);
  TypeRef element = type_of(die);
  for (size_t i = lengths.size() - 1; i > 0; --i) {
    Type& inner = made_.emplace_back();
    inner.kind_ = TypeKind::array;
    inner.length_ = lengths[i];
    inner.complete_ = lengths[i].has_value();
    inner.target_ = element;
    element = TypeRef(QualifiedType{&inner, 0});
  }
  type.length_ = lengths[0];
  type.complete_ = lengths[0].has_value();
  type.target_ = element;
  return {};
}

const Type* TypeGraph::pointer_to(QualifiedType target) const {
  std::lock_guard lock(mutex_);
  auto& slot = pointers_[{target.type, target.qualifiers}];
  if (slot == nullptr) {
    Type& pointer = made_.emplace_back();
    pointer.kind_ = TypeKind::pointer;
    pointer.byte_size_ = address_size_;
    pointer.complete_ = true;
    pointer.target_ = TypeRef(target);
    slot = &pointer;
  }
  return slot;
}

const Type* TypeGraph::array_of(QualifiedType element) const {
  std::lock_guard lock(mutex_);
  auto& slot = arrays_[{element.type, element.qualifiers}];
  if (slot == nullptr) {
    Type& array = made_.emplace_back();
    array.kind_ = TypeKind::array;
    array.target_ = TypeRef(element);
    slot = &array;
  }
  return slot;
}

Expected<QualifiedType> TypeGraph::find_type(std::string_view spelled) const {
  std::string_view text = trim(spelled);
  int pointers = 0;
  while (!text.empty() && text.back() == '*') {
    ++pointers;
    text = trim(text.substr(0, text.size() - 1));
  }
  uint8_t qualifiers = 0;
  for (bool again = true; again;) {
    again = false;
    if (consume_word(text, "const")) qualifiers |= qualifier_const, again = true;
    if (consume_word(text, "volatile")) qualifiers |= qualifier_volatile, again = true;
  }
  std::optional<uint64_t> offset;
  auto find = [this, &offset](NameKind kind, std::string_view name) -> Expected<void> {
    CORONER_TRY(found, names_.find(kind, name));
    offset = found;
    return {};
  };
  if (text == "void") {  // no DIE or BTF type of its own
    QualifiedType type{&void_type_instance(), qualifiers};
    for (int i = 0; i < pointers; ++i) type = QualifiedType{pointer_to(type), 0};
    return type;
  }
  if (consume_word(text, "struct")) {
    CORONER_CHECK(find(NameKind::structure, text));
  } else if (consume_word(text, "union")) {
    CORONER_CHECK(find(NameKind::union_type, text));
  } else if (consume_word(text, "enum")) {
    CORONER_CHECK(find(NameKind::enumeration, text));
  } else if (auto gcc = gcc_integer_name(text);
             gcc || text == "float" || text == "double" || text == "long double" || text == "_Bool") {
    // Spelled with C keywords: only a base type can have the name (asking
    // for a typedef first would make a cold start prove there is none).
    // GCC's spelling first: GCC builds the kernels, and pahole's BTF keeps
    // its names; a cold start then need not prove clang's is absent.
    if (gcc) CORONER_CHECK(find(NameKind::base, *gcc));
    if (!offset && (!gcc || *gcc != text)) CORONER_CHECK(find(NameKind::base, text));
  } else {
    for (NameKind kind : {NameKind::typedef_type, NameKind::base, NameKind::structure, NameKind::union_type,
                          NameKind::enumeration}) {
      CORONER_CHECK(find(kind, text));
      if (offset) break;
    }
  }
  if (!offset) return make_error(Errc::not_found, "{}: no type named '{}'", path_, trim(spelled));
  CORONER_TRY(type, type_at(*offset));
  type.qualifiers |= qualifiers;
  for (int i = 0; i < pointers; ++i) type = QualifiedType{pointer_to(type), 0};
  return type;
}

namespace {

// Finds name among the members of a struct/union, descending into anonymous
// ones; bit offsets accumulate from base.
Expected<bool> find_named_member(const Type& type, std::string_view name, uint64_t base, int depth,
                                 MemberLocation& found) {
  for (const Member& member : type.members()) {
    if (member.name != name) continue;
    CORONER_TRY(member_type, member.type.get());
    found = {base + member.bit_offset, member.bit_size, member_type};
    return true;
  }
  if (depth >= kMaxAnonymousDepth) return false;
  for (const Member& member : type.members()) {
    if (!member.name.empty()) continue;
    CORONER_TRY(member_type, member.type.get());
    CORONER_TRY(inner, underlying(member_type));
    if (inner->kind() != TypeKind::structure && inner->kind() != TypeKind::union_type) continue;
    CORONER_TRY(hit, find_named_member(*inner, name, base + member.bit_offset, depth + 1, found));
    if (hit) return true;
  }
  return false;
}

}  // namespace

Expected<MemberLocation> TypeGraph::member(QualifiedType type, std::string_view path) const {
  MemberLocation location{0, 0, type};
  std::string_view rest = path;
  while (!rest.empty()) {
    CORONER_TRY(current, underlying(location.type));
    if (rest.front() == '[') {
      const size_t close = rest.find(']');
      uint64_t index = 0;
      auto parsed = std::from_chars(rest.data() + 1, rest.data() + (close == std::string_view::npos ? 1 : close), index);
      if (close == std::string_view::npos || parsed.ec != std::errc() || parsed.ptr != rest.data() + close)
        return make_error(Errc::invalid_argument, "bad array index in '{}'", path);
      if (current->kind() != TypeKind::array)
        return make_error(Errc::invalid_argument, "{} is not an array (in '{}')", current->spelling(), path);
      CORONER_TRY(element, current->target().get());
      CORONER_TRY(element_size, element.type->size());
      location = {location.bit_offset + index * element_size * 8, 0, element};
      rest.remove_prefix(close + 1);
      if (!rest.empty() && rest.front() == '.') rest.remove_prefix(1);
      continue;
    }
    const size_t end = rest.find_first_of(".[");
    const std::string_view name = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + (rest[end] == '.' ? 1 : 0));
    if (current->kind() != TypeKind::structure && current->kind() != TypeKind::union_type)
      return make_error(Errc::invalid_argument, "{} has no members (looking for '{}')", current->spelling(), name);
    MemberLocation found;
    CORONER_TRY(hit, find_named_member(*current, name, location.bit_offset, 0, found));
    if (!hit) return make_error(Errc::not_found, "{} has no member '{}'", current->spelling(), name);
    location = found;
  }
  return location;
}

}  // namespace coroner::symbols
