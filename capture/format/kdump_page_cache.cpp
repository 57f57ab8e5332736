#include "capture/format/kdump_page_cache.hpp"

#include <algorithm>
#include <cstring>

namespace coroner {

KdumpPageCache::KdumpPageCache(size_t page_size, size_t pages) : page_size_(page_size), slots_(pages) {
  slot_of_.reserve(pages);
}

bool KdumpPageCache::copy_out(uint64_t pfn, size_t offset, std::span<std::byte> out) {
  std::lock_guard lock(mutex_);
  auto it = slot_of_.find(pfn);
  if (it == slot_of_.end()) return false;
  slots_[it->second].referenced = true;
  std::memcpy(out.data(), data_.data() + it->second * page_size_ + offset, out.size());
  return true;
}

void KdumpPageCache::insert(uint64_t pfn, std::span<const std::byte> page) {
  std::lock_guard lock(mutex_);
  if (slots_.empty() || slot_of_.count(pfn)) return;
  // Grown as slots fill (they fill in order until the hand first wraps): a
  // dump opened for its notes, or for a few pages, never touches the
  // megabytes of a full cache.
  if (data_.size() < (hand_ + 1) * page_size_)
    data_.resize(std::min(slots_.size(), std::max<size_t>(16, 2 * data_.size() / page_size_)) * page_size_);
  // Sweep until a slot not referenced since the last pass comes round.
  while (slots_[hand_].used && slots_[hand_].referenced) {
    slots_[hand_].referenced = false;
    hand_ = (hand_ + 1) % slots_.size();
  }
  Slot& slot = slots_[hand_];
  if (slot.used) slot_of_.erase(slot.pfn);
  slot = Slot{pfn, true, false};
  slot_of_[pfn] = hand_;
  std::memcpy(data_.data() + hand_ * page_size_, page.data(), page_size_);
  hand_ = (hand_ + 1) % slots_.size();
}

}  // namespace coroner
