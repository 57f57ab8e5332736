#include "symbols/shared_library.hpp"

#include <dlfcn.h>

#include <map>
#include <mutex>
#include <string>

namespace coroner::symbols {

Expected<void*> open_shared_library(const char* soname) {
  static std::mutex mutex;
  static std::map<std::string, void*> opened;  // never closed: callers keep function pointers
  std::lock_guard lock(mutex);
  if (auto it = opened.find(soname); it != opened.end()) return it->second;
  void* library = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = ::dlerror();
    return make_error(Errc::not_found, "cannot load {}: {}", soname, why ? why : "unknown error");
  }
  opened.emplace(soname, library);
  return library;
}

Expected<void*> shared_library_symbol(void* library, const char* soname, const char* name) {
  ::dlerror();
  void* address = ::dlsym(library, name);
  if (address == nullptr) return make_error(Errc::not_found, "{} has no function {}", soname, name);
  return address;
}

}  // namespace coroner::symbols
