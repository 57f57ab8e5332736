#include "analyzer/program.hpp"

#include "capture/format/decompressed_file.hpp"

namespace coroner {

namespace {

// Runtime minus link-time address of the kernel image. VMCOREINFO's
// KERNELOFFSET says it directly; without it (older or odd producers) the
// relocated _stext of VMCOREINFO against vmlinux's gives the same.
int64_t kernel_slide(const VmcoreInfo& info, const symbols::SymbolTable& table) {
  if (auto offset = info.kernel_offset()) return static_cast<int64_t>(*offset);
  auto stext = info.symbol("_stext");
  const symbols::Symbol* linked = table.find("_stext");
  if (stext && linked) return static_cast<int64_t>(*stext - linked->address);
  return 0;
}

}  // namespace

Expected<std::unique_ptr<Program>> Program::open(const ProgramOptions& options) {
  std::unique_ptr<Program> program(new Program());
  program->options_ = options;
  std::string cache = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  program->options_.cache_dir = cache;

  CORONER_TRY(vmlinux, decompressed_path(options.vmlinux, cache));
  program->vmlinux_ = vmlinux;
  CORONER_TRY(dump, open_dump(options.dumps));
  program->dump_ = std::move(dump);
  const Dump& d = *program->dump_;
  std::string dump_name = options.dumps.empty() ? std::string("dump") : options.dumps.front();

  auto text = d.vmcoreinfo_text();
  if (!text)
    return make_error(Errc::unsupported, "{}: the dump has no VMCOREINFO (not a Linux kernel dump, or the "
                                         "producer did not record it)", dump_name);
  program->vmcoreinfo_ = VmcoreInfo::parse(*text);

  CORONER_TRY(table, symbols::SymbolTable::from_elf(vmlinux));
  std::string dump_id = program->vmcoreinfo_.build_id();
  if (!dump_id.empty()) {
    auto kernel_id = symbols::elf_build_id(vmlinux);
    if (kernel_id && !kernel_id->empty() && kernel_id->substr(0, dump_id.size()) != dump_id)
      return make_error(Errc::invalid_argument,
                        "{} does not match {}: build-id {} in the kernel, {} in the dump's VMCOREINFO",
                        options.vmlinux, dump_name, *kernel_id, dump_id);
  }
  program->kaslr_offset_ = kernel_slide(program->vmcoreinfo_, table);
  table.relocate(program->kaslr_offset_);
  program->symbols_ = std::move(table);

  CORONER_TRY(arch, arch::make_arch(d.machine(), program->vmcoreinfo_));
  program->arch_ = std::move(arch);
  program->memory_ = std::make_unique<KernelMemory>(d, *program->arch_);
  return program;
}

Expected<uint64_t> Program::symbol_address(std::string_view name) const {
  if (const symbols::Symbol* s = symbols_.find(name)) return s->address;
  return make_error(Errc::not_found, "no symbol {} in {}", name, options_.vmlinux);
}

Expected<symbols::DebugInfo*> Program::debug_info() const {
  std::call_once(debug_once_, [this] {
    auto opened = symbols::DebugInfo::open(vmlinux_, options_.cache_dir);
    if (opened) debug_info_ = std::move(*opened);
    else debug_error_ = opened.error();
  });
  if (debug_error_) return *debug_error_;
  return debug_info_.get();
}

Expected<uint64_t> Program::member_offset(std::string_view type, std::string_view member) const {
  CORONER_TRY(info, debug_info());
  return info->member_offset(type, member);
}

Expected<uint64_t> Program::type_size(std::string_view type) const {
  CORONER_TRY(info, debug_info());
  return info->type_size(type);
}

}  // namespace coroner
