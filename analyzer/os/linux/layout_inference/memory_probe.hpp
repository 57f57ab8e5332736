// What the layout inference reads: the dump's memory and kallsyms, never
// types (it runs while the program opens its types: OsModel::infer_types).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/program.hpp"

namespace coroner::linux_kernel::inference {

// A copy of kernel memory read once and scanned at many offsets; pages the
// dump lacks read as zeros, and so does anything past its end.
class Snapshot {
 public:
  Snapshot() = default;
  Snapshot(uint64_t address, std::vector<std::byte> bytes) : address_(address), bytes_(std::move(bytes)) {}

  uint64_t address() const { return address_; }
  uint64_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  uint64_t u64(uint64_t offset) const;
  uint32_t u32(uint64_t offset) const;
  // 1 to max-1 printable characters and a NUL at offset (a comm is max 16).
  std::optional<std::string> text(uint64_t offset, size_t max) const;

 private:
  uint64_t address_ = 0;
  std::vector<std::byte> bytes_;
};

class MemoryProbe {
 public:
  explicit MemoryProbe(const Program& program);

  const Program& program() const { return program_; }
  std::optional<uint64_t> symbol(std::string_view name) const;  // kallsyms
  std::optional<uint64_t> u64(uint64_t address) const;
  std::optional<uint32_t> u32(uint64_t address) const;
  std::optional<std::string> text(uint64_t address, size_t max) const;
  Snapshot snapshot(uint64_t address,
                    uint64_t length) const;  // empty when no page can be read

  // The kernel's half of the address space (x86_64 and arm64 alike).
  static bool kernel_address(uint64_t address) { return address >> 63; }
  // Between _stext and _etext.
  bool kernel_text(uint64_t address) const { return address >= text_start_ && address < text_end_; }
  // The copy for `cpu` of the per-CPU variable that kallsyms places at
  // `address`.
  std::optional<uint64_t> per_cpu(uint64_t address, uint32_t cpu) const;
  // The possible CPUs (__cpu_possible_mask below nr_cpu_ids); CPU 0 alone
  // when the mask cannot be read.
  const std::vector<uint32_t>& cpus() const { return cpus_; }
  // The kernel stack's size (THREAD_SIZE): init_stack's extent, else 16 KiB.
  uint64_t stack_size() const { return stack_size_; }

 private:
  const Program& program_;
  uint64_t text_start_ = 0, text_end_ = 0, stack_size_ = 0;
  std::vector<uint32_t> cpus_;
};

}  // namespace coroner::linux_kernel::inference
