// Raw BTF as a dump would hold it: DebugInfo::open_btf (libbpf's parse, our
// reference and loop checks, the name index), then a tour of what it
// names -- each type made, sized and spelled, its members found by name,
// every enumerator, per-CPU variable and function looked up.
#include "symbols/debug_info.hpp"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner::symbols;
  std::vector<std::byte> bytes(size);
  if (size) std::memcpy(bytes.data(), data, size);
  auto opened = DebugInfo::open_btf(std::move(bytes), "fuzz-input");
  if (!opened) return 0;
  DebugInfo& info = **opened;
  constexpr size_t kNames = 256;
  for (const std::string& name :
       info.names_starting_with("", {NameKind::structure, NameKind::union_type, NameKind::enumeration,
                                     NameKind::typedef_type, NameKind::base}, kNames)) {
    auto type = info.find_type(name);
    if (!type) continue;
    (void)type->type->size();
    (void)type->type->spelling();
    (void)type->type->is_signed();
    auto pointer = info.find_type(name + " *");
    if (pointer) (void)pointer->type->spelling();
    auto under = underlying(*type);
    if (!under) continue;
    for (const Member& member : (*under)->members()) {
      auto found = info.find_member(name, member.name);
      if (found) (void)found->type.type->spelling();
      if (auto member_type = member.type.get()) (void)member_type->type->size();
    }
    for (const Enumerator& enumerator : (*under)->enumerators()) (void)info.find_enumerator(enumerator.name);
  }
  for (const std::string& name : info.names_starting_with("", {NameKind::variable}, kNames))
    if (auto variable = info.find_variable(name)) (void)variable->type.type->spelling();
  for (const std::string& name : info.names_starting_with("", {NameKind::function}, kNames))
    if (auto function = info.find_function(name)) (void)function->type.type->spelling();
  return 0;
}
