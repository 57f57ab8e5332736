// Tells LLVM's DWARF relocation where a relocatable object's (a module's)
// sections were loaded, so addresses in its debug info come out as
// run-time addresses.
#pragma once

#include "symbols/section_addresses.hpp"

#include <llvm/DebugInfo/DIContext.h>

#include <memory>

namespace coroner::symbols {

class SectionLoadInfo final : public llvm::LoadedObjectInfo {
 public:
  explicit SectionLoadInfo(SectionAddresses addresses) : addresses_(std::move(addresses)) {}
  uint64_t getSectionLoadAddress(const llvm::object::SectionRef& section) const override;
  std::unique_ptr<llvm::LoadedObjectInfo> clone() const override {
    return std::make_unique<SectionLoadInfo>(*this);
  }

 private:
  SectionAddresses addresses_;
};

}  // namespace coroner::symbols
