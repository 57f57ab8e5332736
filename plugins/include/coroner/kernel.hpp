// Kernel: what a plugin reads from the dump -- memory, symbols, types,
// typed objects, tasks, modules, CPUs and backtraces. The host implements
// it over its kernel model; every read returns a Result and never throws.
#pragma once

#include "coroner/result.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::plugin {

class Object;

// A typed value in the dump (a variable, a member, what a pointer points
// to), as the host's `p` and `struct` see it.
class ObjectImpl {
 public:
  virtual ~ObjectImpl() = default;
  virtual std::string type_name() const = 0;          // "struct fx_item", "int *"
  virtual std::optional<uint64_t> address() const = 0;  // none for a computed value
  virtual Result<Object> member(std::string_view path) const = 0;  // "name", "list.next", "a[2]"
  virtual Result<Object> deref() const = 0;           // *pointer
  virtual Result<Object> index(int64_t i) const = 0;  // array[i], pointer[i]
  virtual Result<uint64_t> as_unsigned() const = 0;   // integers, enums, pointers, bools
  virtual Result<int64_t> as_signed() const = 0;
  virtual Result<std::string> as_string(size_t max) const = 0;  // char arrays and char pointers
  // The structure of type `type` holding this list_head (or other member) as `member`.
  virtual Result<Object> container_of(std::string_view type, std::string_view member) const = 0;
};

class Object {
 public:
  explicit Object(std::shared_ptr<const ObjectImpl> impl) : impl_(std::move(impl)) {}

  std::string type_name() const { return impl_->type_name(); }
  std::optional<uint64_t> address() const { return impl_->address(); }
  Result<Object> member(std::string_view path) const { return impl_->member(path); }
  Result<Object> deref() const { return impl_->deref(); }
  Result<Object> index(int64_t i) const { return impl_->index(i); }
  Result<uint64_t> as_unsigned() const { return impl_->as_unsigned(); }
  Result<int64_t> as_signed() const { return impl_->as_signed(); }
  Result<std::string> as_string(size_t max = 4096) const { return impl_->as_string(max); }
  Result<Object> container_of(std::string_view type, std::string_view member) const {
    return impl_->container_of(type, member);
  }

 private:
  std::shared_ptr<const ObjectImpl> impl_;
};

struct Symbol {
  std::string name;    // "fx_items"
  uint64_t address = 0;
  uint64_t offset = 0;  // of the looked-up address into it
  std::string module;   // "" for vmlinux
};

struct Task {
  uint64_t address = 0;  // struct task_struct *
  int64_t pid = 0;
  int64_t tgid = 0;
  int64_t ppid = 0;
  uint32_t cpu = 0;       // the CPU it last ran on
  std::string comm;
  std::string state;      // ps's letters: RU, IN, UN, ID, ZO, ST, ...
  bool kernel_thread = false;
  bool idle = false;      // a CPU's idle task (PID 0)
  std::optional<uint64_t> last_arrival_ns;  // sched_info.last_arrival: its last run on a CPU
  std::optional<uint64_t> waiting_ns;       // since then, by its CPU's run-queue clock
};

struct Module {
  uint64_t address = 0;  // struct module *
  std::string name;
  uint64_t base = 0;
  uint64_t size = 0;
};

struct Cpu {
  uint32_t number = 0;
  uint64_t current_task = 0;  // 0 when unknown
  bool crashed = false;        // the CPU that panicked
};

struct Frame {
  uint64_t pc = 0;
  uint64_t sp = 0;
  std::string function;  // "" when unknown
  uint64_t offset = 0;   // pc from the function's symbol
  std::string module;    // "" for vmlinux
  std::string file;      // source file, "" when unknown
  uint32_t line = 0;
  bool inlined = false;
};

struct Backtrace {
  std::vector<Frame> frames;  // innermost first
  std::string stopped;        // why the unwinder stopped early, "" when it did not
};

enum class Space { kernel_virtual, physical, user };

class Kernel {
 public:
  // Memory. `pid` names the task whose user memory Space::user reads.
  virtual Result<std::vector<uint8_t>> read(Space space, uint64_t address, size_t size, int64_t pid = 0) const = 0;
  virtual Result<uint64_t> read_u64(uint64_t kernel_address) const = 0;
  virtual Result<std::string> read_string(uint64_t kernel_address, size_t max = 4096) const = 0;

  // Symbols and types.
  virtual Result<uint64_t> symbol_address(std::string_view name) const = 0;
  virtual std::optional<Symbol> symbol_at(uint64_t address) const = 0;
  virtual Result<uint64_t> type_size(std::string_view type) const = 0;  // "struct task_struct"
  virtual Result<uint64_t> member_offset(std::string_view type, std::string_view member) const = 0;

  // Typed objects: a global variable (vmlinux or a module's), or `type` at `address`.
  virtual Result<Object> variable(std::string_view name) const = 0;
  virtual Result<Object> object_at(std::string_view type, uint64_t address) const = 0;
  // list_for_each_entry: the containers (of `type`, linked through
  // `member`) on the list whose head is at `head`; cycles and bad links are errors.
  virtual Result<std::vector<Object>> list_entries(uint64_t head, std::string_view type,
                                                   std::string_view member) const = 0;

  // The kernel model.
  virtual Result<std::vector<Task>> tasks() const = 0;  // every thread, as ps lists them
  virtual Result<std::vector<Module>> modules() const = 0;
  virtual Result<std::vector<Cpu>> cpus() const = 0;
  virtual Result<Backtrace> backtrace(uint64_t task) const = 0;

 protected:
  ~Kernel() = default;
};

// A hex string as the built-in commands write addresses in JSON: "0xffff...".
inline std::string hex(uint64_t value) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[value & 0xf]);
    value >>= 4;
  } while (value);
  return "0x" + out;
}

}  // namespace coroner::plugin
