#include "symbols/elf_file.hpp"

#include <llvm/Object/ObjectFile.h>

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

}  // namespace coroner::symbols
