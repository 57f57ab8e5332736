// Bounded walks of the kernel's circular doubly linked lists (struct
// list_head), by their next pointers from the head until they come back to
// it. A corrupt list ends the walk with one error naming the list, the
// list_head where it went wrong and why: a NULL or unreadable next pointer,
// an entry reached twice (a loop), or more entries than the budget allows.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "capture/format/error.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace coroner::linux_kernel {

// How many entries walks may visit in all; one budget can bound several
// walks (the task list and every thread list).
struct ListBudget {
  size_t limit = 0;
  size_t used = 0;
};

// Calls visit(container) for each entry after the list_head at `head`, in
// list order, where container = entry - link_offset is the structure that
// embeds the entry's list_head. `what` names the list in errors ("module
// list"). An error from visit ends the walk and is returned as it is.
Expected<void> walk_list(const KernelMemory& memory, std::string_view what, uint64_t head, uint64_t link_offset,
                         ListBudget& budget, const std::function<Expected<void>(uint64_t container)>& visit);

}  // namespace coroner::linux_kernel
