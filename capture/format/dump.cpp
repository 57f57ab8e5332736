#include "capture/format/dump.hpp"

namespace coroner {

std::string_view machine_name(Machine machine) {
  switch (machine) {
    case Machine::x86_64: return "x86_64";
    case Machine::aarch64: return "arm64";
    case Machine::unknown: break;
  }
  return "unknown";
}

std::optional<std::string> Dump::vmcoreinfo_text() const {
  for (const ElfNote& note : notes()) {
    if (note.name == "VMCOREINFO") {
      std::string text(reinterpret_cast<const char*>(note.desc.data()), note.desc.size());
      while (!text.empty() && text.back() == '\0') text.pop_back();
      return text;
    }
  }
  return std::nullopt;
}

std::vector<PrStatus> Dump::prstatus() const {
  std::vector<PrStatus> result;
  for (const ElfNote& note : notes()) {
    if (note.type != kNtPrstatus || note.name != "CORE") continue;
    auto decoded = decode_prstatus(note, machine());
    if (decoded) result.push_back(std::move(*decoded));
  }
  return result;
}

}  // namespace coroner
