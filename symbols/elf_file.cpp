#include "symbols/elf_file.hpp"

#include <llvm/BinaryFormat/ELF.h>
#include <llvm/Object/ObjectFile.h>

#include <fmt/format.h>

namespace coroner::symbols {

std::string llvm_message(llvm::Error error) { return llvm::toString(std::move(error)); }

Expected<llvm::object::OwningBinary<llvm::object::ObjectFile>> open_elf(const std::string& path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer) return make_error(Errc::io, "{}: {}", path, buffer.getError().message());
  auto object = llvm::object::ObjectFile::createObjectFile((*buffer)->getMemBufferRef());
  if (!object) return make_error(Errc::corrupt, "{}: {}", path, llvm_message(object.takeError()));
  if (!llvm::isa<llvm::object::ELFObjectFileBase>(object->get()))
    return make_error(Errc::unsupported, "{}: not an ELF file", path);
  // createObjectFile checks the ELF header only; reading the section table
  // here turns a truncated or garbled one into an error now rather than in
  // every later use.
  for (const auto& section : (*object)->sections()) {
    auto name = section.getName();
    if (!name) return make_error(Errc::corrupt, "{}: {}", path, llvm_message(name.takeError()));
  }
  return llvm::object::OwningBinary<llvm::object::ObjectFile>(std::move(*object), std::move(*buffer));
}

std::optional<llvm::object::SectionRef> find_section(const llvm::object::ObjectFile& object, std::string_view name) {
  for (const llvm::object::SectionRef& section : object.sections()) {
    auto section_name = section.getName();
    if (!section_name) {
      llvm::consumeError(section_name.takeError());
      continue;
    }
    if (std::string_view(section_name->data(), section_name->size()) == name) return section;
  }
  return std::nullopt;
}

namespace {

// The NT_GNU_BUILD_ID note of any SHT_NOTE section: a module (ET_REL) has no
// program headers, so LLVM's getBuildID() does not find it there.
template <typename ELFT>
std::optional<std::string> build_id_note(const llvm::object::ELFObjectFile<ELFT>& object) {
  const auto& file = object.getELFFile();
  auto sections = file.sections();
  if (!sections) {
    llvm::consumeError(sections.takeError());
    return std::nullopt;
  }
  for (const auto& section : *sections) {
    if (section.sh_type != llvm::ELF::SHT_NOTE) continue;
    llvm::Error error = llvm::Error::success();
    for (const auto& note : file.notes(section, error)) {
      if (note.getType() != llvm::ELF::NT_GNU_BUILD_ID || note.getName() != "GNU") continue;
      std::string text;
      for (uint8_t byte : note.getDesc(section.sh_addralign)) text += fmt::format("{:02x}", byte);
      llvm::consumeError(std::move(error));
      return text;
    }
    llvm::consumeError(std::move(error));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> gnu_build_id(const llvm::object::ObjectFile& file) {
  const llvm::object::ObjectFile* object = &file;
  std::optional<std::string> id;
  if (auto* elf = llvm::dyn_cast<llvm::object::ELF64LEObjectFile>(object)) id = build_id_note(*elf);
  else if (auto* elf = llvm::dyn_cast<llvm::object::ELF64BEObjectFile>(object)) id = build_id_note(*elf);
  else if (auto* elf = llvm::dyn_cast<llvm::object::ELF32LEObjectFile>(object)) id = build_id_note(*elf);
  else if (auto* elf = llvm::dyn_cast<llvm::object::ELF32BEObjectFile>(object)) id = build_id_note(*elf);
  if (id && id->empty()) id.reset();
  return id;
}


}  // namespace coroner::symbols
