#include "capture/capture_job.hpp"

#include "analyzer/arch/arch.hpp"
#include "analyzer/arch/kernel_memory.hpp"
#include "analyzer/os/linux/printk_log.hpp"
#include "capture/filter/page_filter.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/vmcoreinfo.hpp"
#include "capture/progress.hpp"
#include "capture/writer/dump_plan.hpp"
#include "capture/writer/elf_writer.hpp"
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

Expected<Input> open_input(const std::string& path) {
  Input input;
  CORONER_TRY(dump, open_dump({path}));
  input.dump = std::move(dump);
  auto text = input.dump->vmcoreinfo_text();
  if (!text || text->empty())
    return make_error(Errc::unsupported, "{}: the dump has no VMCOREINFO, which page filtering and the headers need",
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

// Writes the dump itself; fills `report` with what was written.
Expected<void> write_dump(const CaptureOptions& options, const Input& input, const std::atomic<int>* stop,
                          Progress& progress, CaptureReport& report) {
  auto filter = classify_pages(*input.dump, input.info, *input.memory, options.dump_level);
  if (!filter) return filter.error().context(input.dump->files().front());
  CORONER_TRY(plan, make_dump_plan(*input.dump, input.info, *input.memory, std::move(*filter), options.dump_level));
  MappedInputTrimmer trimmer(input.dump->files());
  trimmer.trim();  // what the filter read of struct pages

  PipelineSettings settings;
  settings.codec = options.codec;
  settings.level = options.codec == PageCodec::zstd ? options.zstd_level : 0;
  settings.threads = options.num_threads;
  settings.detect_zero = (options.dump_level & kExcludeZero) != 0;
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
  if (options.flatten && ::isatty(STDOUT_FILENO))
    return make_error(Errc::invalid_argument, "-F writes a binary stream: redirect standard output to a file or a pipe");

  if (options.elf) {
    std::unique_ptr<OutputSink> out;
    if (options.flatten) {
      CORONER_TRY(sink, open_flattened_output(STDOUT_FILENO, "standard output"));
      out = std::move(sink);
    } else {
      CORONER_TRY(sink, open_output_file(options.outputs.front(), options.force));
      out = std::move(sink);
    }
    CORONER_TRY(result, write_elf(plan, settings, &trimmer, *out, progress));
    add(result);
    report.output_bytes += out->bytes_written();
  } else {
    PagePipeline pipeline(*input.dump, plan.page_size, settings, &trimmer);
    std::vector<KdumpPart> parts = options.split ? split_parts(plan.keep, options.outputs.size())
                                                 : std::vector<KdumpPart>{{0, plan.max_pfn, false}};
    for (size_t i = 0; i < parts.size(); ++i) {
      std::unique_ptr<OutputSink> out;
      if (options.flatten) {
        CORONER_TRY(sink, open_flattened_output(STDOUT_FILENO, "standard output"));
        out = std::move(sink);
      } else {
        CORONER_TRY(sink, open_output_file(options.outputs[i], options.force));
        out = std::move(sink);
      }
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

}  // namespace

int run_capture(const CaptureOptions& options, const std::atomic<int>* stop, std::FILE* messages) {
  auto started = std::chrono::steady_clock::now();
  auto failed = [&](const Error& error) {
    if (options.message_level & kMessageError) fmt::print(messages, "coroner-capture: {}\n", error.message());
    int signal = stop ? stop->load() : 0;
    return signal ? 128 + signal : 1;
  };
  auto input = open_input(options.input);
  if (!input) return failed(input.error());

  if (options.dump_dmesg) {
    if (auto done = write_dmesg(*input, options.outputs.front(), options.force); !done) return failed(done.error());
    return 0;
  }
  Progress progress((options.message_level & kMessageProgress) != 0, messages);
  CaptureReport report;
  if (auto done = write_dump(options, *input, stop, progress, report); !done) {
    progress.finish();
    return failed(done.error());
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report.peak_rss = peak_rss_bytes();
  if (options.message_level & kMessageReport) fmt::print(messages, "{}", format_report(report));
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
