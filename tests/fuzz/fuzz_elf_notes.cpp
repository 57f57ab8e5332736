// ELF note areas (PT_NOTE segments, the kdump sub-header's note area) and
// the NT_PRSTATUS notes in them, for both machines.
#include "capture/format/dump.hpp"
#include "capture/format/elf_notes.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto notes = coroner::parse_elf_notes(coroner::fuzz::input_bytes(data, size), "fuzz-input", 0);
  if (!notes) return 0;
  for (const coroner::ElfNote& note : *notes)
    if (note.type == coroner::kNtPrstatus)
      for (coroner::Machine machine : {coroner::Machine::x86_64, coroner::Machine::aarch64})
        (void)coroner::decode_prstatus(note, machine);
  return 0;
}
