// The kernel log, read with VMCOREINFO alone (no DWARF), so that both the
// analyzer's `log` and coroner-capture's --dump-dmesg use it: the lockless
// ring buffer of Linux 5.10+ (SYMBOL(prb)) and the legacy log_buf of 3.5 to
// 5.9 (SYMBOL(log_buf), struct printk_log, named struct log before 3.11).
//
// Every offset and size comes from VMCOREINFO except the two bytes the
// kernel does not export, facility and the flags:5/level:3 bit-field byte:
//  * lockless (struct printk_info, unchanged from 5.10 through 6.x): they
//    are the two bytes after u16 text_len (after u16 dict_len in the 5.10
//    merge-window layout, recognised by OFFSET(printk_info.dict_len));
//  * legacy (struct printk_log): after u16 text_len and u16 dict_len.
// Bit-fields are allocated from the low bit on little-endian machines (both
// supported ones), so level = byte >> 5, as crash's `log -m` reads it.
// A legacy caller_id is read only where VMCOREINFO exports its offset
// (CONFIG_PRINTK_CALLER, 5.1 to 5.9), as makedumpfile does.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

constexpr uint32_t kCallerCpu = 0x80000000;  // caller_id bit: the id is a CPU, not a thread

struct LogRecord {
  // The ring buffer's sequence number; the legacy buffer keeps none, so
  // there records are numbered from 0 in buffer order.
  uint64_t seq = 0;
  uint64_t ts_nsec = 0;
  int level = 0;      // 0..7
  int facility = 0;
  // LOG_CONT: the text continues the previous record's line (a pr_cont()
  // the kernel could not append to it). Records are still shown one per
  // line, as the kernel's own dmesg, crash and makedumpfile show them.
  bool continuation = false;
  // Who called printk(): a thread id, or with kCallerCpu set a CPU number.
  // Absent where the kernel does not record it (the legacy buffer without
  // CONFIG_PRINTK_CALLER).
  std::optional<uint32_t> caller_id;
  std::string text;   // one record; may contain '\n' for continuation lines
  // The dev_printk() device of the record ("" when none): struct
  // dev_printk_info of 5.10+, the SUBSYSTEM=/DEVICE= dictionary before.
  std::string subsystem;
  std::string device;
};

// All records still in the buffer, oldest first. Committed and finalized
// records are read; records being written (reserved) or already recycled
// are not. A record whose descriptor or text lies in memory that cannot be
// read, or whose text block is inconsistent, is skipped; when `skipped` is
// given it receives one error per skipped record naming it and the reason.
// Fails, naming the missing key or the unreadable buffer, when the buffer
// cannot be found or nothing at all can be read.
Expected<std::vector<LogRecord>> read_printk_log(const VmcoreInfo& info, const KernelMemory& memory,
                                                 std::vector<Error>* skipped = nullptr);

// One record as makedumpfile --dump-dmesg (1.7.2) and crash's `log` write
// it, trailing '\n' included: "[%5llu.%06llu] " and the text as
// format_log_text() writes it.
std::string format_log_line(const LogRecord& record);

// "[%5llu.%06llu] ": the record's time stamp in seconds, as the kernel prints it.
std::string log_timestamp(const LogRecord& record);

// `prefix` and the record's text after it, without a trailing '\n': each
// '\n' of the text is followed by as many spaces as the prefix is long, and
// bytes that are neither printable ASCII nor white space are written as
// "\xNN" (makedumpfile sign-extends bytes >= 0x80 to "\xffffffNN"; crash
// prints '.'; the kernel's /dev/kmsg writes "\xNN" as we do).
std::string format_log_text(std::string_view prefix, const LogRecord& record);

}  // namespace coroner::linux_kernel
