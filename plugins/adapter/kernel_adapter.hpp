// The plugin API (plugins/include/coroner/) over coroner's own model: the
// Program, typed Objects, the Linux task and module lists, the unwinder
// and the commands' output. The only place that knows both sides.
#pragma once

#include "commands/command.hpp"
#include "coroner/plugin.hpp"

#include <nlohmann/json.hpp>

#include <map>

namespace coroner::plugins {

class KernelAdapter final : public plugin::Context {
  template <typename T>
  using Result = plugin::Result<T>;

 public:
  explicit KernelAdapter(commands::CommandContext& context) : ctx_(context) {}

  Result<std::vector<uint8_t>> read(plugin::Space space, uint64_t address, size_t size, int64_t pid) const override;
  Result<uint64_t> read_u64(uint64_t kernel_address) const override;
  Result<std::string> read_string(uint64_t kernel_address, size_t max) const override;
  Result<uint64_t> symbol_address(std::string_view name) const override;
  std::optional<plugin::Symbol> symbol_at(uint64_t address) const override;
  Result<uint64_t> type_size(std::string_view type) const override;
  Result<uint64_t> member_offset(std::string_view type, std::string_view member) const override;
  Result<plugin::Object> variable(std::string_view name) const override;
  Result<plugin::Object> object_at(std::string_view type, uint64_t address) const override;
  Result<std::vector<plugin::Object>> list_entries(uint64_t head, std::string_view type,
                                                   std::string_view member) const override;
  Result<std::vector<plugin::Task>> tasks() const override;
  Result<std::vector<plugin::Module>> modules() const override;
  Result<std::vector<plugin::Cpu>> cpus() const override;
  Result<plugin::Backtrace> backtrace(uint64_t task) const override;

  bool json() const override { return ctx_.json(); }
  void print(std::string_view text) override;
  void emit(const plugin::Json& document) override;
  std::optional<int64_t> current_pid() const override { return ctx_.current_pid; }

 private:
  commands::CommandContext& ctx_;
  mutable std::map<uint32_t, uint64_t> clocks_;  // each CPU's run-queue clock, read once
};

nlohmann::json to_json(const plugin::Json& value);

}  // namespace coroner::plugins
