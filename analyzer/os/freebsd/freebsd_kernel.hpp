// The FreeBSD model of a Program (analyzer/os_model.hpp), for a FreeBSD
// minidump: what the dump itself holds -- the kerneldumpheader of its
// device or savecore's info.N (host, version, panic, time), the message
// buffer section, the kernel's mappings in its page-table section -- and,
// with the kernel file, its threads (freebsd_threads.hpp) and their
// backtraces (freebsd_backtrace.hpp). Higher layers reach it through
// kernel_model(program).
#pragma once

#include "analyzer/os_model.hpp"
#include "analyzer/program.hpp"
#include "capture/format/freebsd_minidump.hpp"
#include "capture/format/freebsd_msgbuf.hpp"

#include <optional>
#include <string>
#include <vector>

namespace coroner::freebsd_kernel {

class FreeBsdKernel final : public OsModel {
 public:
  FreeBsdKernel(const Program& program, const freebsd::Minidump& dump) : program_(program), dump_(dump) {}

  std::string_view name() const override { return "freebsd"; }
  std::string_view display_name() const override { return "FreeBSD"; }
  // Linker files (kernel modules) are not read yet.
  Expected<ModuleList> read_modules() const override { return ModuleList{}; }

  const Program& program() const { return program_; }
  const freebsd::Minidump& minidump() const { return dump_; }

 private:
  const Program& program_;
  const freebsd::Minidump& dump_;
};

// The OsModelFactory of FreeBSD minidumps; an error for any other dump.
Expected<std::unique_ptr<OsModel>> open_freebsd_kernel(const Program& program);

// The FreeBSD model of a program; an error when it was opened with another.
Expected<const FreeBsdKernel*> kernel_model(const Program& program);

// What `sys` shows: from the kerneldumpheader (dump device leader or
// info.N) where there is one, the rest from the minidump.
struct SystemInfo {
  std::string hostname, version_string, panic_string;
  std::string release;                 // "15.0-CURRENT", from the version string
  std::string machine_arch;            // MACHINE_ARCH: "amd64", "aarch64"
  std::optional<uint64_t> dump_time;   // UTC seconds
  std::string header_source;           // "dump device leader", ".../info.0", "" if none
  uint64_t page_size = 0;
  std::optional<uint64_t> memory_bytes;  // the dump_avail ranges (unknown before amd64 v3, arm64 v2)
  uint64_t dumped_bytes = 0;           // the pages the file holds
  std::vector<std::string> problems;   // what is unknown and why
};
SystemInfo read_system_info(const FreeBsdKernel& kernel);

// The message buffer, unwrapped in order (freebsd_msgbuf.hpp).
Expected<freebsd::MessageBuffer> read_message_buffer(const FreeBsdKernel& kernel);

// A kernel virtual range and, for the direct map, the physical address of
// its start (other ranges are translated page by page).
struct KernelRange {
  uint64_t start = 0, end = 0;
  std::optional<uint64_t> phys;
};
// The direct map over each physical range of the dump, then the runs of
// the kernel map whose page-table section entries are valid (amd64: one
// PDE per 2 MiB, v1 a PTE per page; arm64: an L3 entry per page).
Expected<std::vector<KernelRange>> kernel_ranges(const FreeBsdKernel& kernel);

}  // namespace coroner::freebsd_kernel
