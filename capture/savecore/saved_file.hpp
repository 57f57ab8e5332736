// A file savecore writes into the crash directory: created mode 0600 under
// a temporary name (.NAME.partial), given its final name by commit() only
// after every byte is written and synced, and removed when dropped before
// that -- so a vmcore.N there is always whole. With zstd on, the bytes are
// written as one zstd frame (what `zstd -d` and coroner read).
#pragma once

#include "capture/format/error.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace coroner::capture {

class SavedFile {
 public:
  static Expected<SavedFile> create(const std::string& dir, const std::string& name, bool zstd);
  SavedFile(SavedFile&& other) noexcept;
  SavedFile& operator=(SavedFile&&) = delete;
  ~SavedFile();

  Expected<void> write(std::span<const std::byte> bytes);
  // Ends the stream, syncs, renames to the final name.
  Expected<void> commit();
  const std::string& path() const { return path_; }  // the final name

 private:
  SavedFile() = default;
  Expected<void> write_raw(const void* data, size_t size);

  int fd_ = -1;
  std::string temporary_, path_;
  struct Compressor;
  std::unique_ptr<Compressor> zstd_;
  bool committed_ = false;
};

}  // namespace coroner::capture
