#include "commands/memory_reader.hpp"

#include "analyzer/os/linux/tasks.hpp"

namespace coroner::commands {

std::string_view address_space_name(AddressSpace space) {
  switch (space) {
    case AddressSpace::kernel: return "kernel";
    case AddressSpace::user: return "user";
    case AddressSpace::physical: return "physical";
  }
  return "kernel";
}

Expected<MemoryReader> MemoryReader::make(const CommandContext& ctx, AddressSpace space,
                                          std::optional<int64_t> pid) {
  if (space != AddressSpace::user) return MemoryReader(ctx.program, space, std::nullopt);
  std::optional<int64_t> who = pid ? pid : ctx.current_pid;
  if (!who)
    return make_error(Errc::invalid_argument, "user address without a task context: use `set PID` (or vtop -c PID)");
  CORONER_TRY(task, linux_kernel::find_task(ctx.program, *who));
  CORONER_TRY(root, linux_kernel::user_page_table_root(ctx.program, task));
  return MemoryReader(ctx.program, space, root);
}

Expected<void> MemoryReader::read(uint64_t address, std::span<std::byte> out) const {
  switch (space_) {
    case AddressSpace::physical: {
      auto done = program_->dump().read(address, out);
      if (!done) return done.error();
      return {};
    }
    case AddressSpace::user: return program_->memory().read(address, out, root_);
    case AddressSpace::kernel: return program_->memory().read(address, out);
  }
  return {};
}

}  // namespace coroner::commands
