#include "symbols/section_load_info.hpp"

#include <llvm/Object/ObjectFile.h>

namespace coroner::symbols {

uint64_t SectionLoadInfo::getSectionLoadAddress(const llvm::object::SectionRef& section) const {
  auto name = section.getName();
  if (!name) {
    llvm::consumeError(name.takeError());
    return 0;
  }
  auto it = addresses_.find(name->str());
  return it == addresses_.end() ? 0 : it->second;
}

}  // namespace coroner::symbols
