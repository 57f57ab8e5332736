// Writes an ELF dump (-E) as makedumpfile -E does: one PT_NOTE with the
// input's notes, PT_LOADs for the kept memory. Within a RAM range, a run of
// fewer than 256 excluded pages stays in the segment with its contents; a
// longer run ends the segment (memsz covers it, filesz does not) and the
// next kept page starts a new one. Zero pages (-d bit 1) need a scan before
// the program headers can be written, so with bit 1 the input is read twice
// (as makedumpfile does for ELF).
//
// The ELF header goes out first with e_flags bit 0 set (makedumpfile's
// DUMP_ELF_INCOMPLETE) and is rewritten without it once all data is synced.
#pragma once

#include "capture/progress.hpp"
#include "capture/writer/dump_plan.hpp"
#include "capture/writer/kdump_writer.hpp"
#include "capture/writer/output_sink.hpp"
#include "capture/writer/page_pipeline.hpp"

namespace coroner::capture {

class MappedInputTrimmer;

// makedumpfile's marks in an ELF dump.
inline constexpr uint32_t kElfDumpIncomplete = 0x1;  // e_flags
inline constexpr uint64_t kElfExcludedRunPages = 256;

// `settings` configures the pipelines (its codec is ignored: ELF pages are
// stored raw). Errors leave the dump marked incomplete and name the output
// file and offset.
Expected<WriteResult> write_elf(DumpPlan& plan, const PipelineSettings& settings, MappedInputTrimmer* trimmer,
                                OutputSink& out, Progress& progress);

}  // namespace coroner::capture
