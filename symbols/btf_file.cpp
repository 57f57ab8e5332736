#include "symbols/btf_file.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <tuple>

#include <sys/mman.h>
#include <unistd.h>

namespace coroner::symbols {

namespace {

// libbpf reports why it refused a blob through its print callback (stderr
// by default): the last warning of this thread becomes the error's reason.
thread_local std::string last_libbpf_warning;

int remember_warning(enum libbpf_print_level level, const char* format, va_list arguments) {
  if (level != LIBBPF_WARN) return 0;
  char text[256];
  std::vsnprintf(text, sizeof text, format, arguments);
  std::string_view message(text);
  if (message.starts_with("libbpf: ")) message.remove_prefix(8);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.remove_suffix(1);
  last_libbpf_warning = message;
  return 0;
}

enum class Loop { contains, spells, any };

// The type ids t refers to. contains: what its size and members are made
// of (members, element, aliased or qualified type); spells: what its C
// spelling is made of (pointee, element, qualified type, return and
// parameter types); any: every reference.
void references(const btf_type* t, Loop loop, std::vector<uint32_t>& out) {
  out.clear();
  const bool any = loop == Loop::any;
  switch (btf_kind(t)) {
    case BTF_KIND_STRUCT: case BTF_KIND_UNION:
      if (loop == Loop::spells) break;
      for (uint16_t i = 0; i < btf_vlen(t); ++i) out.push_back(btf_members(t)[i].type);
      break;
    case BTF_KIND_ARRAY:
      out.push_back(btf_array(t)->type);
      if (any) out.push_back(btf_array(t)->index_type);
      break;
    case BTF_KIND_TYPEDEF:
      if (loop != Loop::spells) out.push_back(t->type);
      break;
    case BTF_KIND_CONST: case BTF_KIND_VOLATILE: case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
      out.push_back(t->type);
      break;
    case BTF_KIND_PTR: case BTF_KIND_FUNC:
      if (loop != Loop::contains) out.push_back(t->type);
      break;
    case BTF_KIND_FUNC_PROTO:
      if (loop == Loop::contains) break;
      out.push_back(t->type);
      for (uint16_t i = 0; i < btf_vlen(t); ++i) out.push_back(btf_params(t)[i].type);
      break;
    case BTF_KIND_VAR: case BTF_KIND_DECL_TAG:
      if (any) out.push_back(t->type);
      break;
    case BTF_KIND_DATASEC:
      if (any)
        for (uint16_t i = 0; i < btf_vlen(t); ++i) out.push_back(btf_var_secinfos(t)[i].type);
      break;
    default:
      break;
  }
}

// The names a type's members, parameters or enumerators carry.
void name_offsets(const btf_type* t, std::vector<uint32_t>& out) {
  out.assign(1, t->name_off);
  const uint16_t count = btf_vlen(t);
  switch (btf_kind(t)) {
    case BTF_KIND_STRUCT: case BTF_KIND_UNION:
      for (uint16_t i = 0; i < count; ++i) out.push_back(btf_members(t)[i].name_off);
      break;
    case BTF_KIND_ENUM:
      for (uint16_t i = 0; i < count; ++i) out.push_back(btf_enum(t)[i].name_off);
      break;
    case BTF_KIND_ENUM64:
      for (uint16_t i = 0; i < count; ++i) out.push_back(btf_enum64(t)[i].name_off);
      break;
    case BTF_KIND_FUNC_PROTO:
      for (uint16_t i = 0; i < count; ++i) out.push_back(btf_params(t)[i].name_off);
      break;
    default:
      break;
  }
}

// libbpf's parse of bytes (it keeps a copy), on top of base. Debian 12's
// libbpf 1.1 declares btf__new_split() but does not export it: split BTF
// goes through btf__parse_raw_split() and an in-memory file instead.
::btf* parse(const std::vector<std::byte>& bytes, ::btf* base) {
  if (base == nullptr) return btf__new(bytes.data(), static_cast<uint32_t>(bytes.size()));
  const int fd = memfd_create("coroner-split-btf", MFD_CLOEXEC);
  if (fd < 0) return nullptr;
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::btf* parsed = written == bytes.size() ? btf__parse_raw_split(fmt::format("/proc/self/fd/{}", fd).c_str(), base)
                                          : nullptr;
  const int error = errno;
  close(fd);
  errno = error;
  return parsed;
}

}  // namespace

BtfFile::~BtfFile() { btf__free(btf_); }

Error BtfFile::corrupt(uint32_t id, std::string_view reason) const {
  return make_error(Errc::corrupt, "{}: BTF type id {}: {}", description_, id, reason);
}

Expected<std::unique_ptr<BtfFile>> BtfFile::open(std::vector<std::byte> bytes, std::string description,
                                                 const BtfFile* base) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { libbpf_set_print(remember_warning); });
  std::unique_ptr<BtfFile> file(new BtfFile());
  file->description_ = std::move(description);
  file->base_ = base;
  if (bytes.size() > UINT32_MAX)
    return make_error(Errc::corrupt, "{}: bad BTF: {} bytes is too large", file->description_, bytes.size());
  if (bytes.size() < sizeof(btf_header))
    return make_error(Errc::corrupt, "{}: bad BTF: {} bytes, shorter than its header", file->description_, bytes.size());
  uint16_t magic = 0;
  std::memcpy(&magic, bytes.data(), sizeof magic);
  if (magic != BTF_MAGIC && magic != __builtin_bswap16(BTF_MAGIC))
    return make_error(Errc::corrupt, "{}: bad BTF: magic {:#06x} is not {:#06x}", file->description_, magic, BTF_MAGIC);
  last_libbpf_warning.clear();
  errno = 0;
  // libbpf copies the bytes; its copy holds the types and strings.
  file->btf_ = parse(bytes, base ? base->btf_ : nullptr);
  if (file->btf_ == nullptr || libbpf_get_error(file->btf_)) {
    const int error = errno;
    file->btf_ = nullptr;
    return make_error(Errc::corrupt, "{}: bad BTF: {}", file->description_,
                      !last_libbpf_warning.empty() ? last_libbpf_warning
                      : error != 0                 ? std::strerror(error)
                                                   : "refused by libbpf");
  }
  file->first_id_ = base ? base->end_id_ : 1;
  file->end_id_ = btf__type_cnt(file->btf_);
  CORONER_CHECK(file->check_references());
  CORONER_CHECK(file->check_loops());
  CORONER_CHECK(file->index());
  return file;
}

// libbpf 1.1 checks the layout of each type, not what it refers to.
Expected<void> BtfFile::check_references() const {
  std::vector<uint32_t> ids, names;
  for (uint32_t id = first_id_; id < end_id_; ++id) {
    const btf_type* t = btf__type_by_id(btf_, id);
    if (t == nullptr) return corrupt(id, "unreadable");
    references(t, Loop::any, ids);
    for (uint32_t target : ids)
      if (target >= end_id_) return corrupt(id, fmt::format("refers to type id {}, past the last ({})", target, end_id_ - 1));
    name_offsets(t, names);
    for (uint32_t offset : names)
      if (btf__name_by_offset(btf_, offset) == nullptr)
        return corrupt(id, fmt::format("name offset {:#x} is past the strings", offset));
    const int kind = btf_kind(t);
    if (kind == BTF_KIND_FUNC && (t->type == 0 || !btf_is_func_proto(btf__type_by_id(btf_, t->type))))
      return corrupt(id, "a function whose type is not a function prototype");
    if (kind == BTF_KIND_DATASEC)
      for (uint16_t i = 0; i < btf_vlen(t); ++i)
        if (!btf_is_var(btf__type_by_id(btf_, btf_var_secinfos(t)[i].type)))
          return corrupt(id, fmt::format("section entry {} is not a variable", i));
  }
  return {};
}

// Types are made lazily and recursively (a typedef's size is its target's,
// a pointer's spelling its pointee's): a loop would recurse without end, a
// chain of a million pointers past the stack's end. C cannot express a loop
// -- a struct refers to itself only through a pointer, which neither
// contains nor spells its struct -- and the kernel's types nest a few dozen
// deep at most, so either is hostile input.
Expected<void> BtfFile::check_loops() const {
  constexpr uint32_t kMaxDepth = 512;
  const uint32_t count = end_id_ - first_id_;
  std::vector<uint32_t> edges;
  for (Loop loop : {Loop::contains, Loop::spells}) {
    std::vector<uint8_t> state(count, 0);  // 0 unseen, 1 on the path, 2 done
    std::vector<uint32_t> depth(count, 0);  // of the done: the longest chain below
    struct Frame {
      uint32_t id;
      std::vector<uint32_t> edges;
      size_t next = 0;
    };
    std::vector<Frame> path;
    auto enter = [&](uint32_t id) {
      state[id - first_id_] = 1;
      references(btf__type_by_id(btf_, id), loop, edges);
      path.push_back({id, edges});
    };
    for (uint32_t root = first_id_; root < end_id_; ++root) {
      if (state[root - first_id_] != 0) continue;
      enter(root);
      while (!path.empty()) {
        Frame& frame = path.back();
        if (frame.next == frame.edges.size()) {
          uint32_t deepest = 0;
          for (uint32_t below : frame.edges)
            if (below >= first_id_) deepest = std::max(deepest, depth[below - first_id_]);
          if (deepest + 1 > kMaxDepth) return corrupt(frame.id, fmt::format("types nest more than {} deep", kMaxDepth));
          depth[frame.id - first_id_] = deepest + 1;
          state[frame.id - first_id_] = 2;
          path.pop_back();
          continue;
        }
        const uint32_t next = frame.edges[frame.next++];
        if (next < first_id_) continue;  // void, or the base's types, checked with it
        if (state[next - first_id_] == 1)
          return corrupt(next, loop == Loop::contains ? "contains itself (a typedef, qualifier, array or member loop)"
                                                      : "spells itself (a pointer, array or function type loop)");
        if (state[next - first_id_] == 0) enter(next);
      }
    }
  }
  return {};
}

Expected<void> BtfFile::index() {
  auto name_of = [this](uint32_t offset) { return std::string_view(btf__name_by_offset(btf_, offset)); };
  for (uint32_t id = first_id_; id < end_id_; ++id) {
    const btf_type* t = btf__type_by_id(btf_, id);
    const std::string_view name = name_of(t->name_off);
    auto add = [&](NameKind kind, uint8_t rank) {
      if (!name.empty()) entries_.push_back({name, kind, rank, id});
    };
    switch (btf_kind(t)) {
      case BTF_KIND_INT: case BTF_KIND_FLOAT: add(NameKind::base, 0); break;
      case BTF_KIND_STRUCT: add(NameKind::structure, 0); break;
      case BTF_KIND_UNION: add(NameKind::union_type, 0); break;
      case BTF_KIND_FWD: add(btf_kflag(t) ? NameKind::union_type : NameKind::structure, 1); break;
      case BTF_KIND_TYPEDEF: add(NameKind::typedef_type, 0); break;
      case BTF_KIND_FUNC: add(NameKind::function, 0); break;
      case BTF_KIND_ENUM: case BTF_KIND_ENUM64: {
        add(NameKind::enumeration, btf_vlen(t) ? 0 : 1);  // no enumerators: a declaration
        for (uint16_t i = 0; i < btf_vlen(t); ++i) {
          const uint32_t offset = btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;
          if (auto enumerator = name_of(offset); !enumerator.empty())
            entries_.push_back({enumerator, NameKind::enumerator, 0, uint64_t{id} << 16 | i});
        }
        break;
      }
      case BTF_KIND_DATASEC:
        if (name != ".data..percpu") break;
        for (uint16_t i = 0; i < btf_vlen(t); ++i) {
          const btf_var_secinfo& entry = btf_var_secinfos(t)[i];
          const btf_type* variable = btf__type_by_id(btf_, entry.type);
          if (auto variable_name = name_of(variable->name_off); !variable_name.empty()) {
            entries_.push_back({variable_name, NameKind::variable, 0, entry.type});
            percpu_offsets_[entry.type] = entry.offset;
          }
        }
        break;
      default:
        break;
    }
  }
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.kind, a.name, a.rank, a.id) < std::tie(b.kind, b.name, b.rank, b.id);
  });
  entries_.erase(std::unique(entries_.begin(), entries_.end(),
                             [](const Entry& a, const Entry& b) { return a.kind == b.kind && a.name == b.name; }),
                 entries_.end());
  return {};
}

std::optional<uint64_t> BtfFile::find_entry(NameKind kind, std::string_view name) const {
  auto at = std::lower_bound(entries_.begin(), entries_.end(), std::pair{kind, name},
                             [](const Entry& e, const auto& key) { return std::pair{e.kind, e.name} < key; });
  if (at != entries_.end() && at->kind == kind && at->name == name) {
    // A split BTF's forward declaration stands for its base's definition.
    if (at->rank == 0 || base_ == nullptr) return at->id;
    if (auto defined = base_->find_entry(kind, name)) return defined;
    return at->id;
  }
  if (base_) return base_->find_entry(kind, name);
  return std::nullopt;
}

Expected<std::optional<uint64_t>> BtfFile::find(NameKind kind, std::string_view name) const {
  return find_entry(kind, name);
}

std::optional<BtfFile::PerCpuVariable> BtfFile::per_cpu_variable(std::string_view name) const {
  auto id = find_entry(NameKind::variable, name);
  if (!id) return std::nullopt;
  const BtfFile* owner = this;
  while (owner->base_ && *id < owner->first_id_) owner = owner->base_;
  auto offset = owner->percpu_offsets_.find(static_cast<uint32_t>(*id));
  if (offset == owner->percpu_offsets_.end()) return std::nullopt;
  const btf_type* variable = btf__type_by_id(btf_, static_cast<uint32_t>(*id));
  return PerCpuVariable{static_cast<uint32_t>(*id), variable->type, offset->second};
}

std::optional<BtfFile::Function> BtfFile::function(std::string_view name) const {
  auto id = find_entry(NameKind::function, name);
  if (!id) return std::nullopt;
  return Function{static_cast<uint32_t>(*id), btf__type_by_id(btf_, static_cast<uint32_t>(*id))->type};
}

std::optional<int64_t> BtfFile::enumerator(std::string_view name) const {
  auto id = find_entry(NameKind::enumerator, name);
  if (!id) return std::nullopt;
  const btf_type* t = btf__type_by_id(btf_, static_cast<uint32_t>(*id >> 16));
  const uint16_t index = *id & 0xffff;
  if (btf_is_enum(t)) {
    const int32_t value = btf_enum(t)[index].val;
    return btf_kflag(t) ? int64_t{value} : int64_t{static_cast<uint32_t>(value)};
  }
  return static_cast<int64_t>(btf_enum64_value(btf_enum64(t) + index));
}

std::vector<std::string> BtfFile::names_starting_with(std::string_view prefix, std::initializer_list<NameKind> kinds,
                                                      size_t limit) const {
  std::set<std::string> found;
  for (const BtfFile* file = this; file != nullptr; file = file->base_) {
    for (NameKind kind : kinds) {
      auto at = std::lower_bound(file->entries_.begin(), file->entries_.end(), std::pair{kind, prefix},
                                 [](const Entry& e, const auto& key) { return std::pair{e.kind, e.name} < key; });
      for (; at != file->entries_.end() && at->kind == kind && at->name.starts_with(prefix) && found.size() < limit;
           ++at)
        found.emplace(at->name);
    }
  }
  return {found.begin(), found.end()};
}

}  // namespace coroner::symbols
