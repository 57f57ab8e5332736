// Opening an ELF file through LLVM's object library, with failures turned
// into one-line coroner errors that name the file.
#pragma once

#include "capture/format/error.hpp"

#include <llvm/Object/ELFObjectFile.h>
#include <llvm/Support/Error.h>

#include <optional>
#include <string>
#include <string_view>

namespace coroner::symbols {

// The message of an llvm::Error (consumes it).
std::string llvm_message(llvm::Error error);

// Maps path and checks that it is an ELF object LLVM can read.
Expected<llvm::object::OwningBinary<llvm::object::ObjectFile>> open_elf(const std::string& path);

// Lower-case hex of the GNU build-id note of an open object, read from any
// SHT_NOTE section (a module has no program headers); nullopt without one.
std::optional<std::string> gnu_build_id(const llvm::object::ObjectFile& object);

// The first section named `name`, or nullopt. (open_elf() has checked that
// every section name reads.)
std::optional<llvm::object::SectionRef> find_section(const llvm::object::ObjectFile& object, std::string_view name);

// The ELF view of an object open_elf() returned.
inline const llvm::object::ELFObjectFileBase& as_elf(const llvm::object::ObjectFile& object) {
  return static_cast<const llvm::object::ELFObjectFileBase&>(object);
}

}  // namespace coroner::symbols
