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
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct LogRecord {
  // The ring buffer's sequence number; the legacy buffer keeps none, so
  // there records are numbered from 0 in buffer order.
  uint64_t seq = 0;
  uint64_t ts_nsec = 0;
  int level = 0;      // 0..7
  int facility = 0;
  uint32_t caller_id = 0;  // 0 when the kernel does not record it
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
// it, trailing '\n' included: "[%5llu.%06llu] " and the text, each '\n' of
// the text followed by as many spaces as that prefix is long, and bytes
// that are neither printable ASCII nor white space written as "\xNN"
// (makedumpfile sign-extends bytes >= 0x80 to "\xffffffNN"; we do not).
std::string format_log_line(const LogRecord& record);

}  // namespace coroner::linux_kernel
