#include "symbols/debug_info.hpp"
#include "symbols/section_load_info.hpp"

#include "symbols/btf_file.hpp"
#include "symbols/btf_globals.hpp"
#include "symbols/dwarf_index.hpp"
#include "symbols/elf_file.hpp"
#include "symbols/elf_symbols.hpp"
#include "symbols/index_cache.hpp"
#include "symbols/name_scan.hpp"

#include <llvm/BinaryFormat/ELF.h>
#include <llvm/DebugInfo/DIContext.h>
#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/DWARF/DWARFDie.h>
#include <llvm/DebugInfo/DWARF/DWARFUnit.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <tuple>
#include <mutex>
#include <set>
#include <thread>

namespace coroner::symbols {

namespace {

using namespace llvm::dwarf;

}  // namespace

// The names of the file: from the index when it is cached or built, else
// from a NameScanner -- until its scans have cost about what building the
// index costs; then the index is built (and cached) and answers the rest.
class DebugInfo::Names final : public NameLookup {
 public:
  Names(llvm::DWARFContext& context, llvm::MemoryBuffer& file, std::string path, std::string cache_file,
        std::string build_id, uint64_t info_size, uint64_t units)
      : context_(context), file_(file), path_(std::move(path)), cache_file_(std::move(cache_file)),
        build_id_(std::move(build_id)), info_size_(info_size), units_(units) {}

  Expected<std::optional<uint64_t>> find(NameKind kind, std::string_view name) const override {
    std::lock_guard lock(mutex_);
    if (!index_) {
      // Building the index walks every unit on all CPUs; scanning beyond
      // ten passes over the section or a quarter of its units costs more
      // (a 6.1 distro vmlinux, 160 MiB: a pass 50-60 ms, the index 0.55 s).
      const NameScanner::Budget budget{10 * info_size_, std::max<uint64_t>(64, units_ / 4)};
      CORONER_TRY(answer, scanner_->find_within(kind, name, budget));
      if (answer.settled) return answer.die_offset;
      CORONER_CHECK(build());
    }
    return index_->find(kind, name);
  }

  Expected<void> build() const {
    if (index_) return {};
    const auto start = std::chrono::steady_clock::now();
    const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    CORONER_TRY(index, NameIndex::build(context_, path_, threads, [this] { file_.dontNeedIfMmap(); }));
    // The cache only saves time: failing to write it is not an error.
    if (!cache_file_.empty()) (void)save_index(cache_file_, build_id_, index, info_size_);
    index_ = std::move(index);
    scanner_.reset();
    build_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return {};
  }

  llvm::DWARFContext& context_;
  llvm::MemoryBuffer& file_;
  std::string path_;
  std::string cache_file_;
  std::string build_id_;  // the cache's key
  uint64_t info_size_;
  uint64_t units_;
  mutable std::mutex mutex_;  // held by find(), DebugInfo::build_index() and stats(); build() runs under it
  mutable std::optional<NameIndex> index_;
  mutable std::unique_ptr<NameScanner> scanner_;
  mutable double build_seconds_ = 0;
};

struct DebugInfo::State {
  std::unique_ptr<llvm::object::ObjectFile> object;
  // The file's bytes: a mapping, whose pages read once (every unit header,
  // a built index's walk) are dropped from the resident set afterwards:
  // the kernel maps 64-220 KiB around each page touched, and all of it
  // counted towards the session's peak memory. Reads after that fault the
  // pages in again from the page cache.
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::unique_ptr<llvm::DWARFContext> context;
  std::unique_ptr<Names> names;
  std::unique_ptr<BtfFile> btf;  // instead of all the above
  std::unique_ptr<TypeGraph> types;
  uint64_t percpu_start = 0;
  uint64_t percpu_end = 0;
  std::mutex message_mutex;
  std::string first_llvm_message;  // from LLVM's error handlers, for error context

  // A DebugInfo whose types and names are those of btf.
  static std::unique_ptr<DebugInfo> over(std::unique_ptr<BtfFile> btf, std::string description) {
    std::unique_ptr<DebugInfo> info(new DebugInfo());
    info->state_ = std::make_unique<State>();
    info->state_->types = std::make_unique<TypeGraph>(btf->parsed(), *btf, description);
    info->state_->btf = std::move(btf);
    info->path_ = std::move(description);
    return info;
  }
};

DebugInfo::~DebugInfo() = default;

Expected<std::unique_ptr<DebugInfo>> DebugInfo::open(const std::string& path, const std::string& cache_dir,
                                                      const SectionAddresses* sections) {
  std::unique_ptr<DebugInfo> info(new DebugInfo());
  info->path_ = path;
  info->state_ = std::make_unique<State>();
  State& state = *info->state_;
  CORONER_TRY(binary, open_elf(path));
  std::tie(state.object, state.buffer) = binary.takeBinary();
  const llvm::object::ObjectFile& object = *state.object;
  const bool relocatable = as_elf(object).getEType() == llvm::ELF::ET_REL;

  if (auto percpu = find_section(object, ".data..percpu")) {
    state.percpu_start = percpu->getAddress();
    if (sections && sections->count(".data..percpu")) state.percpu_start = sections->at(".data..percpu");
    state.percpu_end = state.percpu_start + percpu->getSize();
  }

  auto remember = [&state](llvm::Error error) {
    std::string message = llvm::toString(std::move(error));
    std::lock_guard lock(state.message_mutex);
    if (state.first_llvm_message.empty()) state.first_llvm_message = message;
  };
  std::unique_ptr<SectionLoadInfo> loaded;
  if (sections) loaded = std::make_unique<SectionLoadInfo>(*sections);
  // A linked vmlinux keeps its .rela.debug_* (--emit-relocs): its DWARF is
  // final already, and applying 4 M relocations would cost seconds. Only a
  // module's DWARF needs them.
  state.context = llvm::DWARFContext::create(
      object,
      relocatable ? llvm::DWARFContext::ProcessDebugRelocations::Process
                  : llvm::DWARFContext::ProcessDebugRelocations::Ignore,
      loaded.get(), "", remember, remember, /*ThreadSafe=*/true);

  uint64_t info_size = 0;
  state.context->getDWARFObj().forEachInfoSections(
      [&info_size](const llvm::DWARFSection& section) { info_size += section.Data.size(); });
  if (info_size == 0) return make_error(Errc::not_found, "{}: no DWARF debug info (.debug_info)", path);
  uint64_t covered = 0;
  for (const auto& unit : state.context->info_section_units()) covered = std::max(covered, unit->getNextUnitOffset());
  state.buffer->dontNeedIfMmap();
  if (covered != info_size) {
    std::lock_guard lock(state.message_mutex);
    return make_error(Errc::corrupt, "{}: .debug_info unit at offset {:#x} is unreadable{}{}", path, covered,
                      state.first_llvm_message.empty() ? "" : ": ", state.first_llvm_message);
  }

  if (auto build_id = gnu_build_id(object)) info->build_id_ = *build_id;
  const std::string cache_file =
      cache_dir.empty() || info->build_id_.empty() ? "" : index_cache_path(cache_dir, info->build_id_);

  state.names = std::make_unique<Names>(*state.context, *state.buffer, path, cache_file, info->build_id_, info_size,
                                        state.context->getNumCompileUnits());
  std::optional<NameIndex> cached;
  if (!cache_file.empty()) cached = load_index(cache_file, info->build_id_, info_size);
  if (cached) {
    state.names->index_ = std::move(*cached);
    info->from_cache_ = true;
  } else {
    // Without a cache the first names are found by scanning; a file that
    // cannot be scanned is indexed now.
    state.names->scanner_ = NameScanner::create(*state.context, object, path);
    if (!state.names->scanner_) CORONER_CHECK(info->build_index());
  }
  state.types = std::make_unique<TypeGraph>(*state.context, *state.names, path);
  return info;
}

Expected<std::unique_ptr<DebugInfo>> DebugInfo::open_btf(std::vector<std::byte> bytes, std::string description) {
  CORONER_TRY(btf, BtfFile::open(std::move(bytes), description));
  return State::over(std::move(btf), std::move(description));
}

Expected<std::unique_ptr<DebugInfo>> DebugInfo::open_split_btf(const DebugInfo& base, std::vector<std::byte> bytes,
                                                                std::string description) {
  if (base.has_dwarf())
    return make_error(Errc::invalid_argument, "{}: split BTF needs the kernel's BTF under it, not the DWARF of {}",
                      description, base.path());
  CORONER_TRY(btf, BtfFile::open(std::move(bytes), description, base.state_->btf.get()));
  return State::over(std::move(btf), std::move(description));
}

bool DebugInfo::has_dwarf() const { return state_->btf == nullptr; }

Expected<void> DebugInfo::build_index() {
  if (!has_dwarf()) return {};  // BtfFile indexes as it opens
  std::lock_guard lock(state_->names->mutex_);
  return state_->names->build();
}

OpenStats DebugInfo::stats() const {
  if (!has_dwarf()) return {};
  std::lock_guard lock(state_->names->mutex_);
  const auto& index = state_->names->index_;
  return {from_cache_, index ? index->entries().size() : 0, state_->names->build_seconds_};
}

bool DebugInfo::indexed() const {
  if (!has_dwarf()) return true;
  std::lock_guard lock(state_->names->mutex_);
  return state_->names->index_.has_value();
}

std::vector<std::string> DebugInfo::names_starting_with(std::string_view prefix, std::initializer_list<NameKind> kinds,
                                                         size_t limit) const {
  if (!has_dwarf()) return state_->btf->names_starting_with(prefix, kinds, limit);
  std::set<std::string_view> found;
  {
    std::lock_guard lock(state_->names->mutex_);
    if (const auto& index = state_->names->index_) {
      const auto& entries = index->entries();  // sorted by (kind, name)
      for (NameKind kind : kinds) {
        auto at = std::lower_bound(entries.begin(), entries.end(), std::pair{kind, prefix}, [](const auto& e, const auto& key) {
          return std::pair{e.kind, e.name} < key;
        });
        for (; at != entries.end() && at->kind == kind && at->name.starts_with(prefix) && found.size() < limit; ++at)
          found.insert(at->name);
      }
      return {found.begin(), found.end()};
    }
  }
  const llvm::StringRef strings = state_->context->getDWARFObj().getStrSection();
  auto is_identifier = [](std::string_view s) {
    return !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0])) &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
  };
  for (size_t at = 0; at < strings.size() && found.size() < limit;) {
    const size_t end = std::min(strings.find('\0', at), strings.size());
    std::string_view name(strings.data() + at, end - at);
    if (name.starts_with(prefix) && is_identifier(name)) found.insert(name);
    at = end + 1;
  }
  return {found.begin(), found.end()};
}

const TypeGraph& DebugInfo::types() const { return *state_->types; }

llvm::DWARFContext& DebugInfo::dwarf_context() const { return *state_->context; }

Expected<QualifiedType> DebugInfo::find_type(std::string_view type_name) { return state_->types->find_type(type_name); }

Expected<uint64_t> DebugInfo::type_size(std::string_view type_name) {
  CORONER_TRY(type, find_type(type_name));
  return type.type->size();
}

Expected<MemberLocation> DebugInfo::find_member(std::string_view type_name, std::string_view member_path) {
  CORONER_TRY(type, find_type(type_name));
  return state_->types->member(type, member_path);
}

Expected<uint64_t> DebugInfo::member_offset(std::string_view type_name, std::string_view member_path) {
  CORONER_TRY(location, find_member(type_name, member_path));
  return location.bit_offset / 8;
}

Expected<bool> DebugInfo::has_member(std::string_view type_name, std::string_view member) {
  CORONER_TRY(type, find_type(type_name));
  auto location = state_->types->member(type, member);
  if (location) return true;
  if (location.error().code() == Errc::not_found) return false;
  return location.error();
}

Expected<Variable> DebugInfo::find_variable(std::string_view name) {
  if (!has_dwarf()) {
    auto found = state_->btf->per_cpu_variable(name);
    if (found) {
      CORONER_TRY(type, state_->types->type_at(found->type_id));
      return Variable{std::string(name), found->offset, type, true, found->var_id};
    }
    // Other globals: the type a well-known one has always had; the address is kallsyms'.
    const std::optional<KnownGlobal> known = known_global(name);
    if (!known)
      return make_error(Errc::not_found, "{}: no type for '{}' (BTF describes only per-CPU variables and a few "
                                         "well-known globals)", path_, name);
    CORONER_TRY(type, state_->types->find_type(known->type));
    if (known->array) type = QualifiedType{state_->types->array_of(type), 0};
    return Variable{std::string(name), std::nullopt, type, known->per_cpu, 0};
  }
  CORONER_TRY(offset, state_->names->find(NameKind::variable, name));
  if (!offset) return make_error(Errc::not_found, "{}: no variable named '{}'", path_, name);
  return read_variable(*offset, name, false);
}

Expected<Variable> DebugInfo::find_function(std::string_view name) {
  if (!has_dwarf()) {
    auto function = state_->btf->function(name);
    if (!function) return make_error(Errc::not_found, "{}: no function named '{}'", path_, name);
    CORONER_TRY(type, state_->types->type_at(function->prototype_id));
    return Variable{std::string(name), std::nullopt, type, false, function->func_id};  // the address is kallsyms'
  }
  CORONER_TRY(offset, state_->names->find(NameKind::function, name));
  if (!offset) return make_error(Errc::not_found, "{}: no function named '{}'", path_, name);
  return read_variable(*offset, name, true);
}

Expected<int64_t> DebugInfo::find_enumerator(std::string_view name) {
  if (!has_dwarf()) {
    if (auto value = state_->btf->enumerator(name)) return *value;
    return make_error(Errc::not_found, "{}: no enumerator named '{}'", path_, name);
  }
  CORONER_TRY(offset, state_->names->find(NameKind::enumerator, name));
  if (!offset) return make_error(Errc::not_found, "{}: no enumerator named '{}'", path_, name);
  llvm::DWARFDie die = state_->context->getDIEForOffset(*offset);
  auto value = die.isValid() ? die.find(DW_AT_const_value) : std::nullopt;
  if (!value) return make_error(Errc::corrupt, "{}: DIE {:#x}: enumerator without a value", path_, *offset);
  if (value->getForm() == DW_FORM_sdata) return value->getAsSignedConstant().value_or(0);
  return static_cast<int64_t>(value->getAsUnsignedConstant().value_or(0));
}

Expected<Variable> DebugInfo::read_variable(uint64_t die_offset, std::string_view name, bool function) {
  State& state = *state_;
  llvm::DWARFDie die = state.context->getDIEForOffset(die_offset);
  if (!die.isValid()) return make_error(Errc::corrupt, "{}: no DIE at {:#x} (stale index?)", path_, die_offset);
  Variable variable;
  variable.name = name;
  variable.die_offset = die_offset;

  // A definition may leave its type to the declaration it completes.
  llvm::DWARFDie described = die;
  for (Attribute origin : {DW_AT_specification, DW_AT_abstract_origin}) {
    if (die.find(origin)) {
      llvm::DWARFDie target = die.getAttributeValueAsReferencedDie(origin);
      if (target.isValid()) described = target;
    }
  }
  if (function) {
    CORONER_TRY(type, state.types->type_at(described.getOffset()));
    variable.type = type;
    if (auto low_pc = die.find(DW_AT_low_pc)) variable.address = low_pc->getAsAddress();
    return variable;
  }
  CORONER_TRY(type, state.types->type_of(die.find(DW_AT_type) ? die : described).get());
  variable.type = type;

  // The location of a static variable is one DW_OP_addr (or DW_OP_addrx).
  // The operand is read through the unit's extractor so that a module's
  // relocations apply to it.
  for (const llvm::DWARFAttribute& attribute : die.attributes()) {
    if (attribute.Attr != DW_AT_location) continue;
    auto block = attribute.Value.getAsBlock();
    if (!block || block->empty()) break;
    llvm::DWARFUnit* unit = die.getDwarfUnit();
    const uint8_t address_size = unit->getAddressByteSize();
    if ((*block)[0] == DW_OP_addr && block->size() == 1u + address_size) {
      uint64_t operand = attribute.Offset + attribute.ByteSize - block->size() + 1;
      variable.address = unit->getDebugInfoExtractor().getRelocatedAddress(&operand);
    } else if ((*block)[0] == DW_OP_addrx) {
      llvm::DataExtractor data(llvm::StringRef(reinterpret_cast<const char*>(block->data()), block->size()),
                               state.context->isLittleEndian(), address_size);
      uint64_t cursor = 1;
      const uint64_t index = data.getULEB128(&cursor);
      auto address = unit->getAddrOffsetSectionItem(static_cast<uint32_t>(index));
      if (address) variable.address = address->Address;
    }
    break;
  }
  variable.per_cpu = variable.address && state.percpu_end > state.percpu_start &&
                     *variable.address >= state.percpu_start && *variable.address < state.percpu_end;
  return variable;
}

}  // namespace coroner::symbols
