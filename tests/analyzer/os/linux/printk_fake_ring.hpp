// What the synthetic printk tests (legacy log_buf and lockless ring) share:
// a fake kernel to lay a ring out in and read it back, and the comparison
// of the records read with the records written.
#pragma once

#include "analyzer/os/linux/printk_log.hpp"
#include "tests/analyzer/os/linux/fake_kernel.hpp"

#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

namespace coroner::test {

struct PrintkFakeKernel : FakeKernel {
  std::vector<Error> skipped;  // records the last read skipped

  Expected<std::vector<linux_kernel::LogRecord>> read(const VmcoreInfo& info) {
    skipped.clear();
    return linux_kernel::read_printk_log(info, memory, &skipped);
  }
  Expected<std::vector<linux_kernel::LogRecord>> read(std::string_view vmcoreinfo_text) {
    return read(VmcoreInfo::parse(vmcoreinfo_text));
  }
};

inline void require_same_records(const std::vector<linux_kernel::LogRecord>& got,
                                 const std::vector<linux_kernel::LogRecord>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("record " << i);
    CHECK(got[i].seq == want[i].seq);
    CHECK(got[i].ts_nsec == want[i].ts_nsec);
    CHECK(got[i].level == want[i].level);
    CHECK(got[i].facility == want[i].facility);
    CHECK(got[i].caller_id == want[i].caller_id);
    CHECK(got[i].continuation == want[i].continuation);
    CHECK(got[i].text == want[i].text);
    CHECK(got[i].subsystem == want[i].subsystem);
    CHECK(got[i].device == want[i].device);
  }
}

}  // namespace coroner::test
