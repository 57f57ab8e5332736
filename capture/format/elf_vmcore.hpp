// ELF vmcores: the kernel's /proc/vmcore as a kdump capture kernel exports
// it, QEMU's dump-guest-memory ELF output, and makedumpfile -E (filtered
// ELF). ELF64 little-endian, x86_64 and aarch64.
//
// Physical memory comes from the PT_LOAD segments (by p_paddr). A segment
// whose p_filesz is shorter than its p_memsz holds no data for the rest:
// makedumpfile -E writes runs of 256 or more excluded pages that way, so
// reads there fail with Errc::excluded_by_filter.
#pragma once

#include "capture/format/byte_source.hpp"
#include "capture/format/dump.hpp"

#include <cstddef>
#include <memory>
#include <span>

namespace coroner {

// True when `head` starts with the ELF magic "\x7fELF".
bool looks_like_elf(std::span<const std::byte> head);

// Opens an ELF dump. Errors name the file and the offset of the bad header
// field; another class, byte order or machine is Errc::unsupported.
Expected<std::unique_ptr<Dump>> open_elf_dump(std::shared_ptr<const ByteSource> source);

}  // namespace coroner
