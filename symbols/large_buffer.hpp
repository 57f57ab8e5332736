// Large arrays filled at once (a symbol table, the cached name index, the
// ORC table): new memory costs a page fault per 4 KiB page the first time
// it is written, 8-12 us each in a VM (a distro kernel's symbol table alone
// is 2,800 pages), so such arrays ask for transparent huge pages, one fault
// per 2 MiB, where the system grants them on request (THP "madvise" mode,
// Debian's default). Elsewhere this changes nothing.
#pragma once

#include <cstddef>
#include <vector>

namespace coroner::symbols {

// Advises huge pages for the 2 MiB-aligned part of [data, data + bytes),
// memory not written yet; a no-op for less than a few huge pages.
void advise_huge_pages(const void* data, size_t bytes);

// v.reserve(count), the new buffer advised as above.
template <typename T>
void reserve_large(std::vector<T>& v, size_t count) {
  if (count <= v.capacity()) return;
  v.reserve(count);
  advise_huge_pages(v.data() + v.size(), (count - v.size()) * sizeof(T));
}

}  // namespace coroner::symbols
