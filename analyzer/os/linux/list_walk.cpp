#include "analyzer/os/linux/list_walk.hpp"

#include <unordered_set>

namespace coroner::linux_kernel {

Expected<void> walk_list(const KernelMemory& memory, std::string_view what, uint64_t head, uint64_t link_offset,
                         ListBudget& budget, const std::function<Expected<void>(uint64_t container)>& visit) {
  auto corrupt = [&](std::string_view reason) {
    return make_error(Errc::corrupt, "{} at {:#x}: {}", what, head, reason);
  };
  // The next pointer of the list_head at `link`; a failed read keeps its
  // own code (not in the dump, not mapped) behind the list's context.
  auto next_of = [&](uint64_t link) -> Expected<uint64_t> {
    auto next = memory.read_u64(link);
    if (!next)
      return next.error().context(fmt::format("{} at {:#x}: next pointer of list_head {:#x}", what, head, link));
    if (*next == 0) return corrupt(fmt::format("list_head {:#x} has a NULL next pointer", link));
    return *next;
  };

  std::unordered_set<uint64_t> seen;
  CORONER_TRY(first, next_of(head));
  for (uint64_t entry = first; entry != head;) {
    if (!seen.insert(entry).second) return corrupt(fmt::format("entry {:#x} is reached twice (a loop)", entry));
    if (budget.used == budget.limit)
      return corrupt(fmt::format("more than {} entries (the limit is reached at entry {:#x})", budget.limit, entry));
    ++budget.used;
    CORONER_CHECK(visit(entry - link_offset));
    CORONER_TRY(next, next_of(entry));
    entry = next;
  }
  return {};
}

}  // namespace coroner::linux_kernel
