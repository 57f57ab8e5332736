#include "analyzer/os/linux/swap_areas.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/open_files.hpp"

namespace coroner::linux_kernel {

namespace {

constexpr uint64_t kSwpUsed = 1;     // SWP_USED
constexpr uint64_t kMaxSwapFiles = 64;  // MAX_SWAPFILES is 32 minus a few

Expected<uint64_t> unsigned_member(const Object& object, std::string_view path) {
  CORONER_TRY(member, object.member(path));
  return member.read_unsigned();
}

SwapArea read_area(const Program& program, const Object& info, uint64_t address) {
  SwapArea area;
  area.address = address;
  auto fail = [&](const Error& e) {
    area.error = e.context(fmt::format("swap_info_struct {:#x}", address));
    return area;
  };
  auto pages = unsigned_member(info, "pages");
  auto inuse = unsigned_member(info, "inuse_pages");
  auto block_size = unsigned_member(info, "old_block_size");
  auto prio = info.member("prio");
  auto prio_value = prio ? prio->read_signed() : Expected<int64_t>(prio.error());
  auto file = unsigned_member(info, "swap_file");
  if (!pages || !inuse || !block_size || !prio_value || !file) {
    const Error& e = !pages ? pages.error() : !inuse ? inuse.error() : !block_size ? block_size.error()
                     : !prio_value ? prio_value.error() : file.error();
    return fail(e);
  }
  area.pages = *pages, area.inuse_pages = *inuse, area.partition = *block_size != 0, area.prio = *prio_value;
  area.filename = "(unknown)";
  if (*file) {
    auto path = file_path(program, *file);
    if (!path) return fail(path.error());
    area.filename = std::move(*path);
  }
  return area;
}

}  // namespace

Expected<std::vector<SwapArea>> swap_areas(const Program& program) {
  std::vector<SwapArea> areas;
  auto swap_info = kernel_object(program, "swap_info");
  if (!swap_info) return areas;  // no CONFIG_SWAP
  CORONER_TRY(count_object, kernel_object(program, "nr_swapfiles"));
  CORONER_TRY(count, count_object.read_unsigned());
  if (count > kMaxSwapFiles) return make_error(Errc::corrupt, "nr_swapfiles is {}", count);
  for (uint64_t i = 0; i < count; ++i) {
    // swap_info[] holds pointers since 4.14 (structures before).
    CORONER_TRY(slot, swap_info->index(static_cast<int64_t>(i)));
    CORONER_TRY(slot_type, slot.underlying_type());
    Object info = slot;
    if (slot_type->kind() == symbols::TypeKind::pointer) {
      CORONER_TRY(pointer, slot.read_unsigned());
      if (pointer == 0) continue;
      CORONER_TRY(target, slot.deref());
      info = target;
    }
    CORONER_TRY(flags, unsigned_member(info, "flags"));
    if (!(flags & kSwpUsed)) continue;
    areas.push_back(read_area(program, info, info.address().value_or(0)));
  }
  return areas;
}

}  // namespace coroner::linux_kernel
