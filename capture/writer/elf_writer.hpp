// Writes an ELF dump (-E) as makedumpfile -E does: one PT_NOTE with the
// input's notes, PT_LOADs for the kept memory (elf_segments.hpp), a window
// of pfns at a time in two passes, as makedumpfile's cyclic mode does. The
// first pass counts the segments, which places the notes and the data; the
// second decides every window again and writes each segment's program
// header and data as the segment is decided. Zero pages (-d bit 1) are
// found by reading the kept pages in both passes.
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

// makedumpfile's mark of an ELF dump not finished.
inline constexpr uint32_t kElfDumpIncomplete = 0x1;  // e_flags

// `settings` configures the pipelines (its codec is ignored: ELF pages are
// stored raw). Errors leave the dump marked incomplete and name the output
// file and offset.
Expected<WriteResult> write_elf(DumpPlan& plan, const PipelineSettings& settings, MappedInputTrimmer* trimmer,
                                OutputSink& out, Progress& progress);

}  // namespace coroner::capture
