// The dumper's bounded, order-preserving page pipeline: worker threads
// read the kept pages of the input, spot all-zero pages and compress the
// rest, a batch at a time; the calling thread receives the batches in pfn
// order and writes them. At most a fixed number of batches are in flight,
// so memory stays bounded whatever the size of the input.
#pragma once

#include "capture/filter/page_filter.hpp"
#include "capture/format/page_codec.hpp"
#include "capture/format/physical_memory.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace coroner::capture {

class MappedInputTrimmer;

struct PipelineSettings {
  PageCodec codec = PageCodec::none;
  int level = 0;             // codec level (0: makedumpfile's default)
  unsigned threads = 0;      // worker threads; 0 compresses on the calling thread
  bool detect_zero = false;  // report all-zero pages as PageOutcome::zero, unencoded
  // Non-zero (the signal number) once the user asked to stop.
  const std::atomic<int>* stop = nullptr;
};

enum class PageOutcome : uint8_t {
  raw,          // stored as is (PageCodec::none, or compression did not shrink it)
  compressed,   // stored compressed with the pipeline's codec
  zero,         // all zero (only with detect_zero); no data
  unavailable,  // the input holds no data for it (excluded by its filter); no data
  unreadable,   // reading it from the input failed (EIO from /proc/vmcore); no data
};

struct EncodedPage {
  uint64_t pfn = 0;
  PageOutcome outcome = PageOutcome::raw;
  uint32_t size = 0;         // bytes of data in the batch
  uint64_t data_offset = 0;  // where they start in PageBatch::data
};

struct PageBatch {
  std::vector<EncodedPage> pages;
  std::vector<std::byte> data;  // the stored pages, back to back
};

class PagePipeline {
 public:
  PagePipeline(const PhysicalMemory& memory, uint64_t page_size, PipelineSettings settings,
               MappedInputTrimmer* trimmer = nullptr);
  ~PagePipeline();
  PagePipeline(const PagePipeline&) = delete;
  PagePipeline& operator=(const PagePipeline&) = delete;

  using Consumer = std::function<Expected<void>(const PageBatch&)>;
  // Runs the pages set in `keep` within [start_pfn, end_pfn) through the
  // workers and hands every batch to `consume`, in pfn order, on the
  // calling thread. Stops at the first error: an unreadable input page
  // (truncated, corrupt, I/O), a failed compression, an error of
  // `consume`, or a stop request.
  Expected<void> run(const PfnBitmap& keep, uint64_t start_pfn, uint64_t end_pfn, const Consumer& consume);

  // Most bytes the pipeline's buffers held at once.
  uint64_t peak_buffer_bytes() const { return peak_bytes_; }
  uint64_t page_size() const { return page_size_; }
  PageCodec codec() const { return settings_.codec; }

 private:
  struct Job;
  void worker_loop();
  void process(Job& job, std::vector<std::byte>& page, std::vector<std::byte>& scratch) const;
  Expected<void> read_page(uint64_t pfn, std::span<std::byte> page) const;
  void note_memory(const std::deque<std::unique_ptr<Job>>& in_flight);

  const PhysicalMemory& memory_;
  std::vector<PhysRange> ranges_;
  uint64_t page_size_;
  PipelineSettings settings_;
  MappedInputTrimmer* trimmer_;
  size_t pages_per_batch_;
  size_t max_in_flight_;
  uint64_t peak_bytes_ = 0;

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable job_done_;
  std::deque<Job*> queue_;
  bool shutting_down_ = false;
  std::vector<std::thread> workers_;
};

// Checks the stop flag of `settings`: an error naming the signal once set.
Expected<void> check_stop(const PipelineSettings& settings);

}  // namespace coroner::capture
