// The address spaces commands read from (crash's -k, -u, -p), resolved to
// one reader. User reads go through the page tables of the context task.
#pragma once

#include "analyzer/program.hpp"
#include "commands/command.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace coroner::commands {

enum class AddressSpace { kernel, user, physical };
std::string_view address_space_name(AddressSpace space);  // "kernel", "user", "physical"

class MemoryReader {
 public:
  // For AddressSpace::user, `pid` (or the context's task) picks the tables.
  static Expected<MemoryReader> make(const CommandContext& ctx, AddressSpace space,
                                     std::optional<int64_t> pid = std::nullopt);

  AddressSpace space() const { return space_; }
  // The page-table root used for user reads (physical), if any.
  std::optional<uint64_t> root() const { return root_; }
  Expected<void> read(uint64_t address, std::span<std::byte> out) const;

 private:
  MemoryReader(const Program& program, AddressSpace space, std::optional<uint64_t> root)
      : program_(&program), space_(space), root_(root) {}
  const Program* program_;
  AddressSpace space_;
  std::optional<uint64_t> root_;
};

}  // namespace coroner::commands
