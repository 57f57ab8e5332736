#include "commands/interrupt.hpp"

#include <atomic>
#include <csignal>

namespace coroner::commands {

namespace {

std::atomic<bool> interrupt_flag{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_sigint(int) { interrupt_flag.store(true, std::memory_order_relaxed); }

}  // namespace

void install_interrupt_handler() {
  struct sigaction action = {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
}

bool interrupted() { return interrupt_flag.load(std::memory_order_relaxed); }
void request_interrupt() { interrupt_flag.store(true, std::memory_order_relaxed); }
void clear_interrupt() { interrupt_flag.store(false, std::memory_order_relaxed); }

Expected<void> check_interrupt() {
  // Errc::io as for a read that returns EINTR.
  if (interrupted()) return make_error(Errc::io, "interrupted");
  return {};
}

}  // namespace coroner::commands
