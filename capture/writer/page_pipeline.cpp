#include "capture/writer/page_pipeline.hpp"

#include "capture/writer/input_trimmer.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string.h>

namespace coroner::capture {
namespace {

// Each batch holds about this much page data; the in-flight batches
// together stay under kBufferBudget (raw worst case), so a capture kernel
// with little memory can run many threads.
constexpr uint64_t kBatchBytes = 512 * 1024;
constexpr uint64_t kBufferBudget = 32 * 1024 * 1024;

bool all_zero(std::span<const std::byte> page) {
  return page.empty() || (page[0] == std::byte{0} && std::memcmp(page.data(), page.data() + 1, page.size() - 1) == 0);
}

}  // namespace

struct PagePipeline::Job {
  std::vector<uint64_t> pfns;
  PageBatch batch;
  std::optional<Error> error;
  bool done = false;
};

Expected<void> check_stop(const PipelineSettings& settings) {
  int signal = settings.stop ? settings.stop->load() : 0;
  if (signal == 0) return {};
  return make_error(Errc::io, "interrupted by {}", sigabbrev_np(signal) ? fmt::format("SIG{}", sigabbrev_np(signal))
                                                                          : fmt::format("signal {}", signal));
}

PagePipeline::PagePipeline(const PhysicalMemory& memory, uint64_t page_size, PipelineSettings settings,
                           MappedInputTrimmer* trimmer)
    : memory_(memory), ranges_(memory.ranges()), page_size_(page_size), settings_(settings), trimmer_(trimmer) {
  pages_per_batch_ = std::max<size_t>(16, kBatchBytes / page_size_);
  uint64_t job_bytes = pages_per_batch_ * page_size_;
  size_t affordable = std::max<uint64_t>(2, kBufferBudget / job_bytes);
  max_in_flight_ = settings_.threads == 0 ? 1 : std::min<size_t>(affordable, std::max(2u, 3 * settings_.threads));
  for (unsigned i = 0; i < settings_.threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

PagePipeline::~PagePipeline() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void PagePipeline::worker_loop() {
  std::vector<std::byte> page(page_size_), scratch;
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [&] { return shutting_down_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = queue_.front();
      queue_.pop_front();
    }
    process(*job, page, scratch);
    {
      std::lock_guard lock(mutex_);
      job->done = true;
    }
    job_done_.notify_all();
  }
}

void PagePipeline::process(Job& job, std::vector<std::byte>& page, std::vector<std::byte>& scratch) const {
  PageBatch& batch = job.batch;
  batch.pages.clear();
  batch.data.clear();
  for (uint64_t pfn : job.pfns) {
    EncodedPage encoded{pfn, PageOutcome::raw, 0, batch.data.size()};
    auto got = read_page(pfn, page);
    if (!got) {
      Errc code = got.error().code();
      if (code == Errc::io) {
        encoded.outcome = PageOutcome::unreadable;
      } else if (code == Errc::excluded_by_filter || code == Errc::not_in_dump) {
        encoded.outcome = PageOutcome::unavailable;
      } else {
        job.error = got.error().context(fmt::format("reading page frame {:#x}", pfn));
        return;
      }
    } else if (settings_.detect_zero && all_zero(page)) {
      encoded.outcome = PageOutcome::zero;
    } else {
      std::span<const std::byte> stored = page;
      if (settings_.codec != PageCodec::none) {
        auto size = compress_page(settings_.codec, page, scratch, settings_.level);
        if (!size) {
          job.error = size.error().context(fmt::format("compressing page frame {:#x}", pfn));
          return;
        }
        // makedumpfile stores a page raw when compression does not shrink it.
        if (*size < page_size_) {
          encoded.outcome = PageOutcome::compressed;
          stored = std::span<const std::byte>(scratch.data(), *size);
        }
      }
      encoded.size = static_cast<uint32_t>(stored.size());
      batch.data.insert(batch.data.end(), stored.begin(), stored.end());
    }
    batch.pages.push_back(encoded);
  }
}

Expected<void> PagePipeline::read_page(uint64_t pfn, std::span<std::byte> page) const {
  uint64_t start = pfn * page_size_, end = start + page_size_;
  auto whole = memory_.read(start, page);
  if (whole || whole.error().code() != Errc::not_in_dump) return whole;
  // A page the RAM ranges cover only in part (a range that does not end on
  // a page boundary): the covered bytes, zeros elsewhere.
  std::fill(page.begin(), page.end(), std::byte{0});
  bool any = false;
  auto after = std::upper_bound(ranges_.begin(), ranges_.end(), start,
                                [](uint64_t a, const PhysRange& r) { return a < r.end(); });
  for (auto r = after; r != ranges_.end() && r->start < end; ++r) {
    uint64_t from = std::max(start, r->start), to = std::min(end, r->end());
    CORONER_CHECK(memory_.read(from, page.subspan(from - start, to - from)));
    any = true;
  }
  if (!any) return whole;
  return {};
}

void PagePipeline::note_memory(const std::deque<std::unique_ptr<Job>>& in_flight) {
  uint64_t bytes = (settings_.threads + 1) * (page_size_ * 3);  // per-thread page and scratch buffers
  for (const auto& job : in_flight)
    bytes += job->pfns.capacity() * sizeof(uint64_t) + job->batch.data.capacity() +
             job->batch.pages.capacity() * sizeof(EncodedPage);
  peak_bytes_ = std::max(peak_bytes_, bytes);
}

Expected<void> PagePipeline::run(const PfnBitmap& keep, uint64_t start_pfn, uint64_t end_pfn,
                                 const Consumer& consume) {
  std::deque<std::unique_ptr<Job>> in_flight, spare;
  uint64_t next_pfn = start_pfn;
  end_pfn = std::min(end_pfn, keep.max_pfn());
  std::vector<std::byte> page(page_size_), scratch;  // for threads == 0

  // Hands out the next batch of kept pfns; false when none are left.
  auto fill = [&](Job& job) {
    job.pfns.clear();
    job.error.reset();
    job.done = false;
    while (next_pfn < end_pfn && job.pfns.size() < pages_per_batch_) {
      if (keep.test(next_pfn)) job.pfns.push_back(next_pfn);
      ++next_pfn;
    }
    return !job.pfns.empty();
  };

  // Waits for every submitted job, so that no worker touches a job after
  // run() returns (also on errors).
  auto drain = [&] {
    std::unique_lock lock(mutex_);
    for (auto& job : in_flight) {
      auto queued = std::find(queue_.begin(), queue_.end(), job.get());
      if (queued != queue_.end()) {
        queue_.erase(queued);
        job->done = true;
      }
    }
    job_done_.wait(lock, [&] {
      return std::all_of(in_flight.begin(), in_flight.end(), [](const auto& j) { return j->done; });
    });
  };

  for (;;) {
    while (in_flight.size() < max_in_flight_) {
      if (auto stopped = check_stop(settings_); !stopped) {
        drain();
        return stopped.error();
      }
      std::unique_ptr<Job> job;
      if (!spare.empty()) {
        job = std::move(spare.back());
        spare.pop_back();
      } else {
        job = std::make_unique<Job>();
        job->pfns.reserve(pages_per_batch_);
        job->batch.data.reserve(pages_per_batch_ * page_size_ / 2);
      }
      if (!fill(*job)) break;
      if (workers_.empty()) {
        process(*job, page, scratch);
        job->done = true;
      } else {
        std::lock_guard lock(mutex_);
        queue_.push_back(job.get());
      }
      in_flight.push_back(std::move(job));
      if (!workers_.empty()) work_ready_.notify_one();
    }
    if (in_flight.empty()) return {};
    note_memory(in_flight);

    Job& oldest = *in_flight.front();
    {
      std::unique_lock lock(mutex_);
      job_done_.wait(lock, [&] { return oldest.done; });
    }
    if (oldest.error) {
      drain();
      return *oldest.error;
    }
    if (auto written = consume(oldest.batch); !written) {
      drain();
      return written.error();
    }
    if (trimmer_) trimmer_->consumed(oldest.pfns.size() * page_size_);
    spare.push_back(std::move(in_flight.front()));
    in_flight.pop_front();
  }
}

}  // namespace coroner::capture
