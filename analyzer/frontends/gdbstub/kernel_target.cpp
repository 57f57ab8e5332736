#include "analyzer/frontends/gdbstub/kernel_target.hpp"

#include "analyzer/frontends/gdbstub/library_list.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/os/linux/task_state.hpp"
#include "analyzer/unwind/unwinder.hpp"
#include "symbols/elf_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace coroner::gdbstub {

namespace {

std::string extra_info(const Program& program, const linux_kernel::Task& task) {
  std::string state = linux_kernel::state_letters(linux_kernel::task_state_bits(program), task.state);
  return fmt::format("{} {} [{}] cpu {}", task.pid, task.comm, state, task.cpu);
}

// The link-time address of the first PT_LOAD segment of an ELF file.
std::optional<uint64_t> first_load_address(const std::string& path) {
  auto object = symbols::open_elf(path);
  if (!object) return std::nullopt;
  const auto* elf = llvm::dyn_cast<llvm::object::ELF64LEObjectFile>(object->getBinary());
  if (!elf) return std::nullopt;
  auto headers = elf->getELFFile().program_headers();
  if (!headers) {
    llvm::consumeError(headers.takeError());
    return std::nullopt;
  }
  for (const auto& header : *headers)
    if (header.p_type == llvm::ELF::PT_LOAD) return header.p_vaddr;
  return std::nullopt;
}

}  // namespace

size_t read_readable_prefix(const Program& program, uint64_t address, std::span<std::byte> out,
                            std::optional<uint64_t> root) {
  // Page by page, so that the bytes before an unreadable page still count.
  const uint64_t page = program.arch().page_size();
  size_t done = 0;
  while (done < out.size()) {
    uint64_t at = address + done;
    size_t chunk = std::min<uint64_t>(out.size() - done, page - (at % page));
    if (!program.memory().read(at, out.subspan(done, chunk), root)) break;
    done += chunk;
  }
  return done;
}

uint64_t KernelTarget::thread_id(const linux_kernel::Task& task) {
  return task.pid > 0 ? static_cast<uint64_t>(task.pid) : kIdleThreadBase + task.cpu;
}

Expected<std::unique_ptr<KernelTarget>> KernelTarget::open(const Program& program) {
  std::unique_ptr<KernelTarget> target(new KernelTarget(program));
  unsigned va_bits = static_cast<unsigned>(program.vmcoreinfo().number("VA_BITS").value_or(0));
  target->description_ = describe_target(program.arch().machine(), va_bits);

  CORONER_TRY(list, linux_kernel::task_list(program));
  std::map<uint64_t, const linux_kernel::Task*> by_address;
  for (const linux_kernel::Task& task : list->tasks) by_address.emplace(task.address, &task);
  std::set<uint64_t> listed;
  auto add = [&](const linux_kernel::Task& task) {
    uint64_t id = thread_id(task);
    if (!target->tasks_.emplace(id, task).second) return;  // a corrupt list naming a PID twice
    target->threads_.push_back({id, extra_info(program, task)});
    listed.insert(task.address);
  };
  // Each CPU's active task first: where a debugging session starts looking.
  std::optional<uint32_t> crashed = linux_kernel::crashed_cpu(program);
  if (auto states = linux_kernel::cpu_states(program)) {
    for (const linux_kernel::CpuState& state : *states) {
      auto found = by_address.find(state.task);
      if (state.task == 0 || found == by_address.end()) continue;
      add(*found->second);
      if (crashed == state.cpu) target->stop_thread_ = thread_id(*found->second);
    }
  }
  for (const linux_kernel::Task& task : list->tasks)
    if (!listed.count(task.address)) add(task);
  if (target->threads_.empty()) return make_error(Errc::not_found, "the dump's task list holds no task");
  if (target->stop_thread_ == 0) target->stop_thread_ = target->threads_.front().id;
  target->libraries_ = module_library_list(program);
  target->first_segment_ = first_load_address(program.vmlinux_path());
  return target;
}

std::vector<std::optional<uint64_t>> KernelTarget::registers(uint64_t thread) const {
  std::vector<std::optional<uint64_t>> values(description_.registers.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = description_.registers[i].constant;
  auto task = tasks_.find(thread);
  if (task == tasks_.end()) return values;
  auto frame = linux_kernel::task_start_frame(program_, task->second.address);
  if (!frame) return values;
  // gdb unwinds with CFI alone: where it cannot start (arm64's exception
  // vectors), it is given the first frame it can unwind from.
  if (auto start = unwind::unwinder_of(program_).debugger_start(*frame); start && *start) frame = std::move(**start);
  const auto& names = program_.arch().register_names();
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& source = description_.registers[i].source;
    if (source.empty()) continue;
    auto at = std::find(names.begin(), names.end(), source);
    if (at != names.end()) values[i] = frame->registers.get(static_cast<size_t>(at - names.begin()));
  }
  return values;
}

size_t KernelTarget::read_memory(uint64_t thread, uint64_t address, std::span<std::byte> out) const {
  std::optional<uint64_t> root;
  if (program_.arch().is_user_address(address)) {
    auto task = tasks_.find(thread);
    if (task == tasks_.end()) return 0;
    auto user_root = linux_kernel::user_page_table_root(program_, task->second);
    if (!user_root) return 0;
    root = *user_root;
  }
  return read_readable_prefix(program_, address, out, root);
}

std::optional<std::string> KernelTarget::offsets() const {
  // The slide moves the whole image. Told as the new address of vmlinux's
  // first segment, gdb moves every section of every segment by it (with
  // Text=/Data=, only .text, .data and .bss would move, not .rodata).
  if (!first_segment_) return std::nullopt;
  return fmt::format("TextSeg={:x}", *first_segment_ + static_cast<uint64_t>(program_.kaslr_offset()));
}

}  // namespace coroner::gdbstub
