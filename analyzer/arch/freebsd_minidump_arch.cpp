#include "analyzer/arch/freebsd_minidump_arch.hpp"

#include "analyzer/arch/aarch64/aarch64_arch.hpp"
#include "analyzer/arch/freebsd_minidump_paging.hpp"
#include "analyzer/arch/x86_64/x86_64_arch.hpp"

namespace coroner::arch {
namespace {

template <typename Registers>
class MinidumpAddressSpace final : public Registers {
 public:
  explicit MinidumpAddressSpace(const freebsd::Minidump& dump) : dump_(dump), header_(dump.header()) {}

  uint64_t page_size() const override { return header_.page_size(); }

  Translation translate(uint64_t, uint64_t vaddr, const EntryReader& read) const override {
    return translate_minidump(header_, vaddr, [this](uint64_t index) { return dump_.page_table_entry(index); }, read);
  }

  // No table of the dump has a physical address: the section is the root.
  uint64_t kernel_root() const override { return 0; }

  bool is_user_address(uint64_t vaddr) const override {
    return vaddr < std::min(header_.kernbase, header_.dmap_base);
  }

  std::optional<uint64_t> direct_to_phys(uint64_t vaddr) const override {
    if (vaddr < header_.dmap_base || vaddr >= header_.dmap_end) return std::nullopt;
    return vaddr - header_.dmap_base + header_.dmap_phys;
  }

  std::optional<uint64_t> linear_map_base() const override { return header_.dmap_base - header_.dmap_phys; }

  // A minidump records no pointer-authentication mask: addresses as saved.
  uint64_t strip_pointer_auth(uint64_t address) const override { return address; }

 private:
  const freebsd::Minidump& dump_;
  freebsd::MinidumpHeader header_;
};

}  // namespace

std::unique_ptr<Arch> make_minidump_arch(const freebsd::Minidump& dump) {
  if (dump.header().arch == freebsd::MinidumpArch::amd64)
    return std::make_unique<MinidumpAddressSpace<X86_64Registers>>(dump);
  return std::make_unique<MinidumpAddressSpace<Aarch64Registers>>(dump);
}

}  // namespace coroner::arch
