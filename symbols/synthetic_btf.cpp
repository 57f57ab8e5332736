#include "symbols/synthetic_btf.hpp"

#include <bpf/btf.h>
#include <linux/btf.h>

#include <cstring>
#include <map>
#include <memory>

namespace coroner::symbols {

namespace {

struct BaseType {
  const char* name;
  size_t size;
  int encoding;
};
constexpr BaseType kBaseTypes[] = {{"char", 1, BTF_INT_SIGNED | BTF_INT_CHAR},
                                   {"unsigned char", 1, 0},
                                   {"short", 2, BTF_INT_SIGNED},
                                   {"unsigned short", 2, 0},
                                   {"int", 4, BTF_INT_SIGNED},
                                   {"unsigned int", 4, 0},
                                   {"long", 8, BTF_INT_SIGNED},
                                   {"unsigned long", 8, 0},
                                   {"long long", 8, BTF_INT_SIGNED},
                                   {"unsigned long long", 8, 0},
                                   {"_Bool", 1, BTF_INT_BOOL}};
// The kernel's fixed-size integer names (include/uapi/asm-generic/int-ll64.h).
constexpr std::pair<const char*, const char*> kIntegerTypedefs[] = {
    {"u8", "unsigned char"}, {"u16", "unsigned short"},  {"u32", "unsigned int"}, {"u64", "unsigned long long"},
    {"s8", "char"},          {"s16", "short"},           {"s32", "int"},          {"s64", "long long"},
    {"pid_t", "int"},        {"size_t", "unsigned long"}};

struct BtfDeleter {
  void operator()(btf* b) const { btf__free(b); }
};

// Type ids are given out before the types are written: libbpf takes a
// reference to an id not yet written, so every struct is written with its
// members first, then the pointers, arrays and forward declarations those
// members spell.
class Writer {
 public:
  explicit Writer(const std::vector<SyntheticStruct>& layouts) : layouts_(layouts), btf_(btf__new_empty()) {}

  Expected<std::vector<std::byte>> write() {
    if (!btf_) return make_error(Errc::io, "libbpf: cannot make an empty BTF");
    ids_["void"] = 0;  // BTF's type 0
    for (const BaseType& base : kBaseTypes)
      CORONER_CHECK(remember(base.name, btf__add_int(btf_.get(), base.name, base.size, base.encoding)));
    for (const auto& [name, target] : kIntegerTypedefs)
      CORONER_CHECK(remember(name, btf__add_typedef(btf_.get(), name, ids_.at(target))));
    // Ids: the structs in order, then the typedefs of anonymous ones, then
    // the derived types.
    int next = static_cast<int>(btf__type_cnt(btf_.get()));
    for (size_t i = 0; i < layouts_.size(); ++i) struct_ids_.push_back(next++);
    for (size_t i = 0; i < layouts_.size(); ++i) {
      if (layouts_[i].typedef_only)
        ids_[layouts_[i].name] = next++;
      else
        ids_["struct " + layouts_[i].name] = struct_ids_[i];
    }
    next_derived_ = next;
    std::vector<std::vector<int>> member_types(layouts_.size());
    for (size_t i = 0; i < layouts_.size(); ++i)
      for (const SyntheticMember& member : layouts_[i].members) {
        CORONER_TRY(id, id_of(member.type));
        member_types[i].push_back(id);
      }
    for (size_t i = 0; i < layouts_.size(); ++i)
      CORONER_CHECK(write_struct(layouts_[i], member_types[i], struct_ids_[i]));
    for (size_t i = 0; i < layouts_.size(); ++i)
      if (layouts_[i].typedef_only)
        CORONER_CHECK(expect(btf__add_typedef(btf_.get(), layouts_[i].name.c_str(), struct_ids_[i]),
                             ids_.at(layouts_[i].name), layouts_[i].name));
    for (const Derived& derived : derived_) CORONER_CHECK(write_derived(derived));
    uint32_t size = 0;
    const void* raw = btf__raw_data(btf_.get(), &size);
    if (!raw) return make_error(Errc::io, "libbpf: cannot write the BTF");
    std::vector<std::byte> bytes(size);
    std::memcpy(bytes.data(), raw, size);
    return bytes;
  }

 private:
  struct Derived {
    enum Kind { pointer, array, forward } kind;
    std::string target;  // pointed-to or element spelling; the struct's name for forward
    uint32_t count = 0;
    int id = 0;
  };

  Expected<void> remember(const char* name, int id) {
    if (id < 0) return make_error(Errc::io, "libbpf: cannot add {} to a BTF: {}", name, std::strerror(-id));
    ids_[name] = id;
    return {};
  }

  Expected<void> expect(int written, int planned, std::string_view what) {
    if (written != planned) return make_error(Errc::io, "libbpf: {} became type {}, not {}", what, written, planned);
    return {};
  }

  // The id of a spelled type, planning the derived types it needs.
  Expected<int> id_of(std::string spelling) {
    while (!spelling.empty() && spelling.back() == ' ') spelling.pop_back();
    if (auto known = ids_.find(spelling); known != ids_.end()) return known->second;
    Derived derived;
    if (spelling.ends_with("]")) {
      const size_t open = spelling.rfind('[');
      if (open == std::string::npos) return bad(spelling);
      const std::string count = spelling.substr(open + 1, spelling.size() - open - 2);
      if (count.empty() || count.size() > 9 || count.find_first_not_of("0123456789") != std::string::npos)
        return bad(spelling);
      derived = {Derived::array, spelling.substr(0, open), static_cast<uint32_t>(std::stoul(count))};
    } else if (spelling.ends_with("*")) {
      derived = {Derived::pointer, spelling.substr(0, spelling.size() - 1)};
    } else if (spelling.starts_with("struct ") && spelling.size() > 7) {
      derived = {Derived::forward, spelling.substr(7)};
    } else {
      return bad(spelling);
    }
    while (!derived.target.empty() && derived.target.back() == ' ') derived.target.pop_back();
    if (derived.kind != Derived::forward) {
      CORONER_TRY(target, id_of(derived.target));
      (void)target;
    }
    derived.id = next_derived_++;
    ids_[spelling] = derived.id;
    derived_.push_back(std::move(derived));
    return derived_.back().id;
  }

  Error bad(std::string_view spelling) const {
    return make_error(Errc::invalid_argument, "synthetic BTF: cannot spell the type \"{}\"", spelling);
  }

  Expected<void> write_struct(const SyntheticStruct& layout, const std::vector<int>& types, int planned) {
    const char* name = layout.typedef_only ? nullptr : layout.name.c_str();
    CORONER_CHECK(expect(btf__add_struct(btf_.get(), name, static_cast<uint32_t>(layout.size)), planned, layout.name));
    for (size_t i = 0; i < layout.members.size(); ++i) {
      const SyntheticMember& member = layout.members[i];
      // (a flexible array, "T[0]", may start at the end)
      const bool flexible = member.type.ends_with("[0]");
      if (member.offset > layout.size || (member.offset == layout.size && !flexible))
        return make_error(Errc::invalid_argument, "synthetic BTF: {}.{} at {} lies beyond its size {}", layout.name,
                          member.name, member.offset, layout.size);
      if (int err =
              btf__add_field(btf_.get(), member.name.c_str(), types[i], static_cast<uint32_t>(member.offset * 8), 0);
          err < 0)
        return make_error(Errc::io, "libbpf: cannot add {}.{}: {}", layout.name, member.name, std::strerror(-err));
    }
    return {};
  }

  Expected<void> write_derived(const Derived& derived) {
    int written = 0;
    switch (derived.kind) {
      case Derived::pointer:
        written = btf__add_ptr(btf_.get(), ids_.at(derived.target));
        break;
      case Derived::array:
        written = btf__add_array(btf_.get(), ids_.at("unsigned int"), ids_.at(derived.target), derived.count);
        break;
      case Derived::forward:
        written = btf__add_fwd(btf_.get(), derived.target.c_str(), BTF_FWD_STRUCT);
        break;
    }
    return expect(written, derived.id, derived.target);
  }

  const std::vector<SyntheticStruct>& layouts_;
  std::unique_ptr<btf, BtfDeleter> btf_;
  std::map<std::string, int, std::less<>> ids_;
  std::vector<int> struct_ids_;
  std::vector<Derived> derived_;
  int next_derived_ = 0;
};

}  // namespace

Expected<std::vector<std::byte>> synthetic_btf(const std::vector<SyntheticStruct>& layouts) {
  return Writer(layouts).write();
}

}  // namespace coroner::symbols
