#include "analyzer/os/linux/task_state.hpp"

#include <optional>
#include <vector>

namespace coroner::linux_kernel {

namespace {

// task_state_array[] has one entry per state bit, TASK_RUNNING first; 4.14+
// kernels list 9 ("R (running)" ... "I (idle)"). A string that is not of
// the form "L (name)" ends the array.
constexpr size_t kMaxStateStrings = 16;

std::optional<TaskStateBits> bits_from_state_array(const Program& program) {
  auto array = program.symbol_address("task_state_array");
  if (!array) return std::nullopt;
  const KernelMemory& memory = program.memory();
  TaskStateBits bits;
  bool parked = false;
  uint64_t bit = 0;  // the bit of entry i: 0, then 1 << (i - 1)
  for (size_t i = 0; i < kMaxStateStrings; ++i, bit = bit ? bit << 1 : 1) {
    auto pointer = memory.read_u64(*array + 8 * i);
    if (!pointer) break;
    auto text = memory.read_string(*pointer, 32);
    if (!text || text->size() < 5 || (*text)[1] != ' ' || (*text)[2] != '(' || text->back() != ')') break;
    std::string_view name = std::string_view(*text).substr(3, text->size() - 4);
    if (name == "running") bits.running = bit;
    else if (name == "sleeping") bits.interruptible = bit;
    else if (name == "disk sleep") bits.uninterruptible = bit;
    else if (name == "stopped") bits.stopped = bit;
    else if (name == "tracing stop") bits.traced = bit;
    else if (name == "dead") bits.dead = bit;
    else if (name == "zombie") bits.zombie = bit;
    else if (name == "parked") bits.parked = bit, parked = true;
  }
  if (bits.running != 0 || !parked) return std::nullopt;  // not a layout of 4.14+
  bits.dead |= bits.parked << 1;  // TASK_DEAD
  bits.wakekill = bits.parked << 2;
  bits.waking = bits.parked << 3;
  bits.noload = bits.parked << 4;
  bits.new_task = bits.parked << 5;
  bits.from_dump = true;
  return bits;
}

int bit_count(uint64_t value) { return __builtin_popcountll(value); }

}  // namespace

const TaskStateBits& task_state_bits(const Program& program) {
  struct Cached {
    TaskStateBits bits;
  };
  return program
      .extension<Cached>([&] { return new Cached{bits_from_state_array(program).value_or(TaskStateBits{})}; })
      .bits;
}

// crash's rules, in its order: the last test that matches names the state.
std::string state_letters(const TaskStateBits& b, uint64_t state) {
  std::string letters = "??";
  bool set = false;
  if (state == b.running) letters = "RU";
  if (state & b.interruptible) letters = "IN", set = true;
  if (state & b.uninterruptible) letters = (state & b.noload) ? "ID" : "UN", set = true;
  if (state & b.zombie) letters = "ZO", set = true;
  if (state & b.stopped) letters = "ST", set = true;
  if (state & b.traced) letters = "TR", set = true;
  if ((state & b.dead) && !set) letters = "DE";
  if (state == b.parked) letters = "PA";
  if (state == b.waking) letters = "WA";
  if (state == b.new_task) letters = "NE";
  return letters;
}

std::string state_names(const TaskStateBits& b, uint64_t state) {
  if (state == b.running) return "TASK_RUNNING";
  if (state == b.parked) return "TASK_PARKED";
  std::vector<std::string_view> names;
  if (state & b.interruptible) names.push_back("TASK_INTERRUPTIBLE");
  if (state & b.uninterruptible) names.push_back("TASK_UNINTERRUPTIBLE");
  if (state & b.stopped) names.push_back("TASK_STOPPED");
  if (state & b.traced) names.push_back("TASK_TRACED");
  if (state & b.dead) names.push_back(bit_count(state & b.dead) > 1 ? "EXIT_DEAD|TASK_DEAD" : "EXIT_DEAD");
  if (state & b.zombie) names.push_back("EXIT_ZOMBIE");
  if (state & b.waking) names.push_back("TASK_WAKING");
  if (state & b.wakekill) names.push_back("TASK_WAKEKILL");
  if (state & b.noload) names.push_back("TASK_NOLOAD");
  if (state & b.new_task) names.push_back("TASK_NEW");
  std::string text;
  for (std::string_view name : names) text += (text.empty() ? "" : "|") + std::string(name);
  return text;
}

}  // namespace coroner::linux_kernel
