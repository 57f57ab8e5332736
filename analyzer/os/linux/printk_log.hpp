// The kernel log, read with VMCOREINFO alone (no DWARF), so that both the
// analyzer's `log` and coroner-capture's --dump-dmesg use it: the lockless
// ring buffer of Linux 5.10+ (SYMBOL(prb)) and the legacy log_buf of 3.5 to
// 5.9 (SYMBOL(log_buf), struct printk_log).
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct LogRecord {
  uint64_t seq = 0;
  uint64_t ts_nsec = 0;
  int level = 0;      // 0..7
  int facility = 0;
  uint32_t caller_id = 0;  // 0 when the kernel does not record it
  std::string text;   // one record; may contain '\n' for continuation lines
};

// All records still in the buffer, oldest first. A record whose text lies
// in memory that cannot be read is skipped; the error names the buffer
// when nothing at all can be read.
Expected<std::vector<LogRecord>> read_printk_log(const VmcoreInfo& info, const KernelMemory& memory);

// "[    4.088577] text" per line, as dmesg, crash's `log` and
// makedumpfile --dump-dmesg print it.
std::string format_log_line(const LogRecord& record);

}  // namespace coroner::linux_kernel
