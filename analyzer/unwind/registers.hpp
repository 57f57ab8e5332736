// A register set while unwinding: values in the architecture's NT_PRSTATUS
// order (Arch::register_names), each known or not. pt_regs has the same
// order as that set on x86_64 and arm64, so an exception frame's registers
// read straight into it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace coroner::unwind {

class RegisterSet {
 public:
  RegisterSet() = default;
  explicit RegisterSet(size_t count) : values_(count) {}
  // Every register of gregs known (NT_PRSTATUS, pt_regs).
  static RegisterSet from_values(std::span<const uint64_t> gregs) {
    RegisterSet set(gregs.size());
    for (size_t i = 0; i < gregs.size(); ++i) set.values_[i] = gregs[i];
    return set;
  }

  size_t size() const { return values_.size(); }
  std::optional<uint64_t> get(size_t index) const {
    return index < values_.size() ? values_[index] : std::nullopt;
  }
  void set(size_t index, uint64_t value) {
    if (index >= values_.size()) values_.resize(index + 1);
    values_[index] = value;
  }
  void clear(size_t index) {
    if (index < values_.size()) values_[index].reset();
  }

 private:
  std::vector<std::optional<uint64_t>> values_;
};

}  // namespace coroner::unwind
