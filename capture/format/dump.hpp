// An opened dump: physical memory plus what the file says about the
// machine (notes, VMCOREINFO, registers). Every format reader (ELF vmcore,
// kdump-compressed, flattened, split, and later FreeBSD minidumps)
// implements this; nothing here assumes Linux.
#pragma once

#include "capture/format/elf_notes.hpp"
#include "capture/format/error.hpp"
#include "capture/format/physical_memory.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner {

enum class Machine { unknown, x86_64, aarch64 };
std::string_view machine_name(Machine machine);  // "x86_64", "arm64", "unknown"

// A range the file maps at a known virtual address too (kernel /proc/vmcore
// PT_LOADs carry p_vaddr; QEMU's carry 0).
struct VirtualRange {
  uint64_t vaddr = 0;
  uint64_t paddr = 0;
  uint64_t size = 0;
};

// struct new_utsname as kdump headers store it.
struct Utsname {
  std::string sysname, nodename, release, version, machine, domainname;
};

class Dump : public PhysicalMemory {
 public:
  // Short name of the container: "elf", "kdump", "flattened", "split".
  virtual std::string_view format_name() const = 0;
  // One line for `sys`'s DUMPFILE field and `help -D`, e.g.
  // "kdump-compressed, zlib, dump level 31 (filtered)".
  virtual std::string description() const = 0;
  virtual Machine machine() const = 0;
  // The files this dump was read from, in the order given.
  virtual const std::vector<std::string>& files() const = 0;
  virtual const std::vector<ElfNote>& notes() const = 0;

  // Page size the dump was written with; 0 if the container does not say.
  virtual uint64_t page_size() const { return 0; }
  // The raw VMCOREINFO text; by default the payload of the VMCOREINFO note.
  virtual std::optional<std::string> vmcoreinfo_text() const;
  // The writer marked the dump incomplete (ENOSPC, interrupted capture).
  virtual bool incomplete() const { return false; }
  // makedumpfile's -d level, where the container records it.
  virtual std::optional<int> dump_level() const { return std::nullopt; }
  virtual std::optional<Utsname> utsname() const { return std::nullopt; }
  virtual std::vector<VirtualRange> virtual_ranges() const { return {}; }

  // NT_PRSTATUS notes in file order (one per CPU), decoded for machine().
  std::vector<PrStatus> prstatus() const;
};

// Opens one dump, or the parts of a split dump given together. The format
// is detected from content, never from the file name. Errors name the file
// and offset.
Expected<std::unique_ptr<Dump>> open_dump(const std::vector<std::string>& paths);

}  // namespace coroner
