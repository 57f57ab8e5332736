#include "analyzer/os/linux/layout_inference/memory_probe.hpp"

#include "analyzer/os/linux/system_info.hpp"
#include "analyzer/os/linux/task_stack.hpp"

#include <cstring>

namespace coroner::linux_kernel::inference {

namespace {

constexpr uint64_t kMinStackSize = 16384;  // the kernels' smallest THREAD_SIZE

}  // namespace

uint64_t Snapshot::u64(uint64_t offset) const {
  uint64_t value = 0;
  if (offset + 8 <= bytes_.size()) std::memcpy(&value, bytes_.data() + offset, 8);
  return value;
}

uint32_t Snapshot::u32(uint64_t offset) const {
  uint32_t value = 0;
  if (offset + 4 <= bytes_.size()) std::memcpy(&value, bytes_.data() + offset, 4);
  return value;
}

std::optional<std::string> Snapshot::text(uint64_t offset, size_t max) const {
  std::string result;
  for (uint64_t at = offset; at < bytes_.size() && result.size() < max; ++at) {
    const auto c = std::to_integer<unsigned char>(bytes_[at]);
    if (c == 0) {
      if (result.empty()) return std::nullopt;
      return result;
    }
    if (c < 0x20 || c > 0x7e) return std::nullopt;
    result.push_back(static_cast<char>(c));
  }
  return std::nullopt;
}

MemoryProbe::MemoryProbe(const Program& program) : program_(program) {
  text_start_ = symbol("_stext").value_or(0);
  text_end_ = symbol("_etext").value_or(0);
  stack_size_ = init_stack_size(program).value_or(kMinStackSize);
  if (auto cpus = read_cpu_mask(program, "__cpu_possible_mask"))
    for (int cpu : *cpus) cpus_.push_back(static_cast<uint32_t>(cpu));
  if (cpus_.empty()) cpus_.push_back(0);
}

std::optional<uint64_t> MemoryProbe::symbol(std::string_view name) const {
  auto address = program_.symbol_address(name);
  if (!address) return std::nullopt;
  return *address;
}

std::optional<uint64_t> MemoryProbe::u64(uint64_t address) const {
  auto value = program_.memory().read_u64(address);
  if (!value) return std::nullopt;
  return *value;
}

std::optional<uint32_t> MemoryProbe::u32(uint64_t address) const {
  auto value = program_.memory().read_u32(address);
  if (!value) return std::nullopt;
  return *value;
}

std::optional<std::string> MemoryProbe::text(uint64_t address, size_t max) const {
  return snapshot(address, max).text(0, max);
}

Snapshot MemoryProbe::snapshot(uint64_t address, uint64_t length) const {
  auto bytes = program_.memory().read_allowing_gaps(address, length);
  if (!bytes) return {};
  return Snapshot(address, std::move(*bytes));
}

std::optional<uint64_t> MemoryProbe::per_cpu(uint64_t address, uint32_t cpu) const {
  auto offsets = symbol("__per_cpu_offset");
  if (!offsets) return cpu == 0 ? std::optional(address) : std::nullopt;  // a UP kernel
  auto offset = u64(*offsets + 8ull * cpu);
  if (!offset) return std::nullopt;
  return address + *offset;
}

}  // namespace coroner::linux_kernel::inference
