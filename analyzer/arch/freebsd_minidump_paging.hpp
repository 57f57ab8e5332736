// Kernel virtual addresses of a FreeBSD minidump, translated the way
// libkvm does, through the dump's own page-table section (not the kernel's
// live tables, which a minidump need not hold) and the direct map:
//
//   amd64 v2/v3: the kernel window is tested first; entry (va-kernbase)>>21
//     of the section is a PDE (a 2 MiB page, or the PA of a page-table page
//     read from physical memory); v1: entry (va-kernbase)>>12 is the PTE.
//     Otherwise [dmapbase, dmapend) maps PA va - dmapbase.
//   arm64: the direct map is tested first (PA va - dmapbase + dmapphys);
//     otherwise entry (va-kernbase)>>PAGE_SHIFT is the page's L3 entry.
//
// The section is data the format layer hands over entry by entry; the
// walk is pure, as the other walkers are.
#pragma once

#include "analyzer/arch/translation.hpp"
#include "capture/format/freebsd_minidump_header.hpp"

#include <functional>

namespace coroner::arch {

// Entry `index` of the minidump's page-table section.
using SectionReader = std::function<Expected<uint64_t>(uint64_t index)>;

// Translates kernel `vaddr`. Steps: "PDE"/"PTE" (amd64) or "L3" (arm64)
// entries of the section (table 0: the section itself, entry_addr its
// index × 8), then the PT page's "PTE" read through `physical` on amd64.
// A direct-map address takes no step.
Translation translate_minidump(const freebsd::MinidumpHeader& header, uint64_t vaddr, const SectionReader& section,
                               const EntryReader& physical);

// Bytes of kernel VA one entry of the page-table section maps (amd64: a
// PDE's 2 MiB, v1 a PTE's page; arm64: an L3 entry's page), and whether an
// entry maps anything (amd64: present; arm64: a valid page descriptor).
uint64_t minidump_entry_span(const freebsd::MinidumpHeader& header);
bool minidump_entry_valid(const freebsd::MinidumpHeader& header, uint64_t entry);

}  // namespace coroner::arch
