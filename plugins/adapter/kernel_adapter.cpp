#include "plugins/adapter/kernel_adapter.hpp"

#include "analyzer/os/linux/list_walk.hpp"
#include "analyzer/os/linux/run_queues.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/os/linux/task_state.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "commands/memory_reader.hpp"
#include "commands/stack_format.hpp"
#include "plugins/adapter/object_adapter.hpp"

#include <ostream>
#include <variant>

namespace coroner::plugins {

namespace {

template <typename T>
plugin::Result<T> result(Expected<T> value) {
  if (!value) return plugin_error(value.error());
  return std::move(*value);
}

// A list longer than this is taken for a corrupt one.
constexpr size_t kListLimit = 1'000'000;

}  // namespace

plugin::Result<std::vector<uint8_t>> KernelAdapter::read(plugin::Space space, uint64_t address, size_t size,
                                                          int64_t pid) const {
  const commands::AddressSpace as = space == plugin::Space::physical ? commands::AddressSpace::physical
                                    : space == plugin::Space::user   ? commands::AddressSpace::user
                                                                     : commands::AddressSpace::kernel;
  auto reader = commands::MemoryReader::make(ctx_, as, space == plugin::Space::user ? std::optional(pid) : std::nullopt);
  if (!reader) return plugin_error(reader.error());
  std::vector<uint8_t> bytes(size);
  auto done = reader->read(address, std::as_writable_bytes(std::span(bytes)));
  if (!done) return plugin_error(done.error());
  return bytes;
}

plugin::Result<uint64_t> KernelAdapter::read_u64(uint64_t kernel_address) const {
  return result(ctx_.program.memory().read_u64(kernel_address));
}

plugin::Result<std::string> KernelAdapter::read_string(uint64_t kernel_address, size_t max) const {
  return result(ctx_.program.memory().read_string(kernel_address, max));
}

plugin::Result<uint64_t> KernelAdapter::symbol_address(std::string_view name) const {
  return result(ctx_.program.symbol_address(name));
}

std::optional<plugin::Symbol> KernelAdapter::symbol_at(uint64_t address) const {
  auto found = ctx_.program.describe_address(address);
  if (!found || !found->symbol) return std::nullopt;
  return plugin::Symbol{found->symbol->name, address - found->offset, found->offset, found->module};
}

plugin::Result<uint64_t> KernelAdapter::type_size(std::string_view type) const {
  auto found = find_type_anywhere(ctx_.program, type);
  if (!found) return plugin_error(found.error());
  return result(found->debug_info->type_size(type));
}

plugin::Result<uint64_t> KernelAdapter::member_offset(std::string_view type, std::string_view member) const {
  auto found = find_type_anywhere(ctx_.program, type);
  if (!found) return plugin_error(found.error());
  return result(found->debug_info->member_offset(type, member));
}

plugin::Result<plugin::Object> KernelAdapter::variable(std::string_view name) const {
  auto object = global_object(ctx_.program, name);
  if (!object) return plugin_error(object.error());
  return make_object(std::move(*object));
}

plugin::Result<plugin::Object> KernelAdapter::object_at(std::string_view type, uint64_t address) const {
  auto found = find_type_anywhere(ctx_.program, type);
  if (!found) return plugin_error(found.error());
  return make_object(Object::reference(ctx_.program, found->debug_info->types(), found->type, address));
}

plugin::Result<std::vector<plugin::Object>> KernelAdapter::list_entries(uint64_t head, std::string_view type,
                                                                        std::string_view member) const {
  auto found = find_type_anywhere(ctx_.program, type);
  if (!found) return plugin_error(found.error());
  auto offset = found->debug_info->member_offset(type, member);
  if (!offset) return plugin_error(offset.error());
  std::vector<plugin::Object> entries;
  linux_kernel::ListBudget budget{kListLimit, 0};
  auto walked = linux_kernel::walk_list(ctx_.program.memory(), type, head, *offset, budget, [&](uint64_t container) {
    entries.push_back(make_object(Object::reference(ctx_.program, found->debug_info->types(), found->type, container)));
    return Expected<void>{};
  });
  if (!walked) return plugin_error(walked.error());
  return entries;
}

plugin::Result<std::vector<plugin::Task>> KernelAdapter::tasks() const {
  const Program& program = ctx_.program;
  auto list = linux_kernel::task_list(program);
  if (!list) return plugin_error(list.error());
  const auto& bits = linux_kernel::task_state_bits(program);
  std::vector<plugin::Task> tasks;
  for (const linux_kernel::Task& t : (*list)->tasks) {
    plugin::Task task{t.address, t.pid, t.tgid, t.ppid, t.cpu, t.comm, linux_kernel::state_letters(bits, t.state),
                      t.kernel_thread(), t.idle, std::nullopt, std::nullopt};
    if (auto arrival = linux_kernel::last_arrival(program, t.address); arrival && *arrival) {
      task.last_arrival_ns = *arrival;
      if (!clocks_.contains(t.cpu)) {
        auto queues = linux_kernel::run_queues(program, {t.cpu});
        clocks_[t.cpu] = queues && !queues->empty() ? queues->front().clock : 0;
      }
      if (clocks_[t.cpu] > *arrival) task.waiting_ns = clocks_[t.cpu] - *arrival;
    }
    tasks.push_back(std::move(task));
  }
  return tasks;
}

plugin::Result<std::vector<plugin::Module>> KernelAdapter::modules() const {
  auto list = ctx_.program.modules();
  if (!list) return plugin_error(list.error());
  std::vector<plugin::Module> modules;
  for (const auto& m : **list) modules.push_back({m->struct_address, m->name, m->base, m->size});
  return modules;
}

plugin::Result<std::vector<plugin::Cpu>> KernelAdapter::cpus() const {
  auto states = linux_kernel::cpu_states(ctx_.program);
  if (!states) return plugin_error(states.error());
  const std::optional<uint32_t> crashed = linux_kernel::crashed_cpu(ctx_.program);
  std::vector<plugin::Cpu> cpus;
  for (const linux_kernel::CpuState& s : *states) cpus.push_back({s.cpu, s.task, crashed == s.cpu});
  return cpus;
}

plugin::Result<plugin::Backtrace> KernelAdapter::backtrace(uint64_t task_address) const {
  auto task = linux_kernel::read_task(ctx_.program, task_address);
  if (!task) return plugin_error(task.error());
  const commands::TaskBacktrace bt = commands::backtrace_task(ctx_.program, *task, {});
  if (bt.error) return plugin_error(*bt.error);
  plugin::Backtrace out;
  for (const unwind::StackFrame& f : bt.trace.frames)
    out.frames.push_back({f.pc, f.sp, f.function, f.offset, f.module, f.file, f.line, f.inlined});
  if (bt.trace.stopped) out.stopped = bt.trace.stopped->message();
  return out;
}

void KernelAdapter::print(std::string_view text) { ctx_.out << text; }

void KernelAdapter::emit(const plugin::Json& document) { ctx_.emit(to_json(document)); }

nlohmann::json to_json(const plugin::Json& value) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, plugin::Json::Array>) {
          nlohmann::json array = nlohmann::json::array();
          for (const plugin::Json& element : v) array.push_back(to_json(element));
          return array;
        } else if constexpr (std::is_same_v<T, plugin::Json::Object>) {
          nlohmann::json object = nlohmann::json::object();
          for (const auto& [name, member] : v) object[name] = to_json(member);
          return object;
        } else {
          return v;
        }
      },
      value.value());
}

}  // namespace coroner::plugins
