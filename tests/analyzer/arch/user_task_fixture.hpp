// The user tasks of the fixtures' facts.json, found from their kernel
// without DWARF (test_arch links no symbol reader): every fixture kernel
// maps busybox's ELF header at kUserElfHeader in its user tasks.
#pragma once

#include "tests/support/kernel_memory_fixture.hpp"

#include <string>

namespace coroner::test {

// Layout of the fixtures' vmlinux (linux-6.1 x86_64, arm64 and arm64-16k:
// pahole -C task_struct,mm_struct gives the same in all three).
constexpr uint64_t kTaskStructMm = 768;
constexpr uint64_t kMmStructPgd = 56;

constexpr uint64_t kUserElfHeader = 0x400000;
inline const std::string kBusyboxElfHeader = "7f454c46020101030000000000000000";

struct UserMm {
  uint64_t mm;   // the task's mm_struct
  uint64_t pgd;  // mm->pgd: a direct-map (linear-map) address
};

// The mm of the task of facts.json with `pid`.
inline UserMm user_mm(const OpenedKernel& o, const nlohmann::json& facts, int pid) {
  uint64_t task = 0;
  for (const auto& t : facts["tasks"])
    if (t["pid"] == pid) task = hex_value(t["task"]);
  REQUIRE(task != 0);
  auto mm = o.memory->read_u64(task + kTaskStructMm);
  if (!mm) FAIL(mm.error().message());
  auto pgd = o.memory->read_u64(*mm + kMmStructPgd);
  if (!pgd) FAIL(pgd.error().message());
  return {*mm, *pgd};
}

}  // namespace coroner::test
