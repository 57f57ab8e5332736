#include "capture/capture_job.hpp"

#include "analyzer/arch/arch.hpp"
#include "analyzer/arch/kernel_memory.hpp"
#include "analyzer/os/linux/printk_log.hpp"
#include "capture/erase/erased_dump.hpp"
#include "capture/filter/page_filter.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/kdump_compressed.hpp"
#include "capture/format/text_file.hpp"
#include "capture/format/vmcoreinfo.hpp"
#include "capture/progress.hpp"
#include "capture/writer/dump_plan.hpp"
#include "capture/writer/elf_writer.hpp"
#include "capture/writer/flattened_rearrange.hpp"
#include "capture/writer/input_trimmer.hpp"
#include "capture/writer/kdump_writer.hpp"
#include "capture/writer/output_sink.hpp"
#include "capture/writer/page_pipeline.hpp"

#include <unistd.h>

#include <chrono>

namespace coroner::capture {
namespace {

struct Input {
  std::unique_ptr<Dump> dump;
  VmcoreInfo info;
  std::unique_ptr<arch::Arch> arch;
  std::unique_ptr<KernelMemory> memory;
};

// -i: makedumpfile's VMCOREINFO file (its -g output, or the text of
// /sys/kernel/vmcoreinfo's note), for an input without one.
Expected<std::string> read_vmcoreinfo_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return make_error(Errc::not_found, "{}: cannot open the VMCOREINFO file", path);
  if (text->find("OSRELEASE=") == std::string::npos)
    return make_error(Errc::corrupt, "{}: not VMCOREINFO text (no OSRELEASE= line)", path);
  return *text;
}

Expected<Input> open_input(const std::vector<std::string>& paths, const std::string& vmcoreinfo_file) {
  const std::string& path = paths.front();
  Input input;
  CORONER_TRY(dump, open_dump(paths));
  input.dump = std::move(dump);
  std::optional<std::string> text;
  if (!vmcoreinfo_file.empty()) {
    CORONER_TRY(file_text, read_vmcoreinfo_file(vmcoreinfo_file));
    text = std::move(file_text);
  } else {
    text = input.dump->vmcoreinfo_text();
  }
  if (!text || text->empty())
    return make_error(Errc::unsupported,
                      "{}: the dump has no VMCOREINFO, which page filtering and the headers need (give one with -i)",
                      path);
  input.info = VmcoreInfo::parse(*text);
  auto arch = arch::make_arch(input.dump->machine(), input.info);
  if (!arch) return arch.error().context(path);
  input.arch = std::move(*arch);
  input.memory = std::make_unique<KernelMemory>(*input.dump, *input.arch);
  return input;
}

Expected<void> write_dmesg(const Input& input, const std::string& path, bool force) {
  auto records = linux_kernel::read_printk_log(input.info, *input.memory);
  if (!records) return records.error().context(input.dump->files().front());
  std::string text;
  for (const auto& record : *records) text += linux_kernel::format_log_line(record);  // ends in '\n'
  CORONER_TRY(out, open_output_file(path, force));
  CORONER_CHECK(out->write_at(0, std::as_bytes(std::span(text.data(), text.size()))));
  return out->finish();
}

// What --reassemble keeps of its parts that a fresh capture would not write.
struct CarriedOver {
  std::optional<unsigned> dump_level;  // the header's, when pages are not filtered at it
  std::string erase_info;              // makedumpfile's erase info text
};

// Writes the dump itself; fills `report` with what was written.
Expected<void> write_dump(const CaptureOptions& options, const Input& input, const std::atomic<int>* stop,
                          Progress& progress, CaptureReport& report, const CarriedOver& carried = {}) {
  auto selector = PageSelector::create(*input.dump, input.info, *input.memory, options.dump_level);
  if (!selector) return selector.error().context(input.dump->files().front());
  // --config: the writers read the input through the erasing view.
  std::unique_ptr<ErasedDump> erased;
  if (!options.erase_config.empty()) {
    CORONER_TRY(view, open_erased(*input.dump, *input.memory, input.info, options.erase_config));
    erased = std::move(view);
    report.erased_bytes = erased->erased_bytes();
  }
  const Dump& source = erased ? static_cast<const Dump&>(*erased) : *input.dump;
  // Pages to keep are decided a window of pfns at a time (makedumpfile's
  // cyclic mode), but with --non-cyclic.
  uint64_t window_pfns = options.cyclic_buffer_kib * 1024 * 8;  // a bit a page
  if (options.non_cyclic) window_pfns = UINT64_MAX;
  MappedInputTrimmer trimmer(input.dump->files());
  CORONER_TRY(plan, make_dump_plan(*input.dump, input.info, *input.memory, std::move(*selector), options.dump_level,
                                   window_pfns, &trimmer));
  plan.dump = &source;
  if (carried.dump_level) plan.dump_level = *carried.dump_level;
  plan.erase_info = erased ? erased->erase_info() : carried.erase_info;

  PipelineSettings settings;
  settings.codec = options.codec;
  settings.level = options.codec == PageCodec::zstd ? options.zstd_level : 0;
  settings.threads = options.num_threads;
  settings.detect_zero = (plan.dump_level & kExcludeZero) != 0;
  settings.stop = stop;

  WriteResult total;
  uint64_t peak_buffers = 0;
  auto add = [&](const WriteResult& r) {
    total.pages_written += r.pages_written;
    total.zero_pages += r.zero_pages;
    total.unavailable += r.unavailable;
    total.unreadable += r.unreadable;
    total.unreadable_as_zeros += r.unreadable_as_zeros;
    total.first_unreadable_pfn = std::min(total.first_unreadable_pfn, r.first_unreadable_pfn);
  };
  if (options.flatten && !options.dry_run && ::isatty(STDOUT_FILENO))
    return make_error(Errc::invalid_argument, "-F writes a binary stream: redirect standard output to a file or a pipe");
  // --dry-run: every step but the writes.
  auto open_sink = [&](size_t part) -> Expected<std::unique_ptr<OutputSink>> {
    if (options.dry_run) return open_null_output(options.flatten ? "standard output" : options.outputs[part]);
    if (options.flatten) return open_flattened_output(STDOUT_FILENO, "standard output");
    return open_output_file(options.outputs[part], options.force);
  };

  if (options.elf) {
    CORONER_TRY(out, open_sink(0));
    CORONER_TRY(result, write_elf(plan, settings, &trimmer, *out, progress));
    add(result);
    report.output_bytes += out->bytes_written();
  } else {
    PagePipeline pipeline(source, plan.page_size, settings, &trimmer);
    std::vector<KdumpPart> parts{{0, plan.max_pfn, false}};
    if (options.split) {
      auto split = split_parts(plan, options.outputs.size());
      if (!split) return split.error().context(fmt::format("{}: nothing written", options.outputs.front()));
      parts = std::move(*split);
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      CORONER_TRY(out, open_sink(i));
      CORONER_TRY(result, write_kdump(plan, pipeline, *out, parts[i], progress));
      add(result);
      report.output_bytes += out->bytes_written();
    }
    peak_buffers = pipeline.peak_buffer_bytes();
  }
  report.stats = plan.stats;
  report.stats.zero += total.zero_pages;
  // Zero pages of a kdump file have descriptors but share one page of data.
  report.stats.kept = total.pages_written - (options.elf ? 0 : total.zero_pages);
  report.unavailable = plan.missing_in_input + total.unavailable;
  report.unreadable = total.unreadable;
  report.unreadable_as_zeros = total.unreadable_as_zeros;
  report.first_unreadable = total.first_unreadable_pfn * plan.page_size;
  report.page_size = plan.page_size;
  report.pages_written = report.stats.kept;
  report.peak_buffers = peak_buffers;
  return {};
}

// -R: the flattened stream on standard input into DUMPFILE.
Expected<void> rearrange(const CaptureOptions& options, std::FILE* messages) {
  CORONER_TRY(out, open_output_file(options.outputs.front(), options.force));
  CORONER_TRY(records, rearrange_flattened(STDIN_FILENO, "standard input", *out));
  CORONER_CHECK(out->finish());
  if (options.debug)
    fmt::print(messages, "coroner-capture: debug: {} records, {} bytes written to {}\n", records, out->bytes_written(),
               options.outputs.front());
  return {};
}

// --reassemble: the parts' pages, compression and dump level, in one file.
Expected<void> reassemble(const CaptureOptions& options, const Input& input, const std::atomic<int>* stop,
                          Progress& progress, CaptureReport& report) {
  const auto* parts = dynamic_cast<const KdumpDump*>(input.dump.get());
  if (!parts || input.dump->format_name() != "split")
    return make_error(Errc::invalid_argument, "--reassemble: {} is not a part of a dump written with --split",
                      options.input);
  CaptureOptions whole = options;
  whole.codec = parts->codec();
  whole.dump_level = 0;  // every page the parts hold
  CarriedOver carried{static_cast<unsigned>(parts->dump_level().value_or(0)), {}};
  // What --config erased, recorded in each part (makedumpfile keeps it).
  const KdumpDump::Part& first = parts->parts().front();
  if (first.sub.size_eraseinfo > 0 && first.sub.size_eraseinfo < (uint64_t{1} << 26)) {
    carried.erase_info.resize(first.sub.size_eraseinfo);
    auto read = first.source->read_at(first.sub.offset_eraseinfo, std::as_writable_bytes(std::span(carried.erase_info)));
    if (!read) return read.error().context(fmt::format("{}: the erase info", first.source->name()));
  }
  return write_dump(whole, input, stop, progress, report, carried);
}

// --mem-usage: makedumpfile's table of pages by kind, from a dry run at
// dump level 31 (zero pages are found by reading every page).
Expected<void> mem_usage(const CaptureOptions& options, const Input& input, const std::atomic<int>* stop) {
  CaptureOptions all = options;
  all.dump_level = 31;
  all.dry_run = true;
  all.outputs = {"(none)"};
  Progress progress(false, stderr);
  CaptureReport report;
  CORONER_CHECK(write_dump(all, input, stop, progress, report));
  fmt::print("{}", format_mem_usage(report));
  return {};
}

void print_debug_input(const CaptureOptions& options, const Input& input, std::FILE* messages) {
  fmt::print(messages, "coroner-capture: debug: {} is {}, {}, page size {}\n", options.input,
             input.dump->format_name(), machine_name(input.dump->machine()), input.dump->page_size());
  fmt::print(messages, "coroner-capture: debug: VMCOREINFO from {}: OSRELEASE={}\n",
             options.vmcoreinfo_file.empty() ? "the dump" : options.vmcoreinfo_file,
             input.info.get("OSRELEASE").value_or("(none)"));
}

}  // namespace

int run_capture(const CaptureOptions& options, const std::atomic<int>* stop, std::FILE* messages) {
  auto started = std::chrono::steady_clock::now();
  auto failed = [&](const Error& error) {
    if (options.message_level & kMessageError) fmt::print(messages, "coroner-capture: {}\n", error.message());
    int signal = stop ? stop->load() : 0;
    return signal ? 128 + signal : 1;
  };
  if (options.mode == CaptureMode::rearrange) {
    if (auto done = rearrange(options, messages); !done) return failed(done.error());
    return 0;
  }
  auto input = open_input(options.mode == CaptureMode::reassemble ? options.split_inputs
                                                                   : std::vector<std::string>{options.input},
                          options.vmcoreinfo_file);
  if (!input) return failed(input.error());
  if (options.debug) print_debug_input(options, *input, messages);

  if (options.mode == CaptureMode::dmesg) {
    if (auto done = write_dmesg(*input, options.outputs.front(), options.force); !done) return failed(done.error());
    return 0;
  }
  if (options.mode == CaptureMode::mem_usage) {
    if (auto done = mem_usage(options, *input, stop); !done) return failed(done.error());
    return 0;
  }
  Progress progress((options.message_level & kMessageProgress) != 0, messages);
  CaptureReport report;
  auto done = options.mode == CaptureMode::reassemble ? reassemble(options, *input, stop, progress, report)
                                                      : write_dump(options, *input, stop, progress, report);
  if (!done) {
    progress.finish();
    return failed(done.error());
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report.peak_rss = peak_rss_bytes();
  if (options.message_level & kMessageReport) fmt::print(messages, "{}", format_report(report));
  if (options.dry_run && (options.message_level & kMessageCommon))
    fmt::print(messages, "coroner-capture: --dry-run: nothing was written\n");
  if (report.unreadable) {
    // The dump is written and usable, but not whole: say so, and exit with
    // a status of its own so that a kdump script can tell.
    if (options.message_level & kMessageError)
      fmt::print(messages, "coroner-capture: {}\n", unreadable_message(options.input, report));
    return kExitUnreadablePages;
  }
  return 0;
}

}  // namespace coroner::capture
