// Libraries opened at their first use (dlopen) instead of at every start.
// A library linked into coroner is loaded and relocated before main() by
// the dynamic loader, with everything it depends on: libdebuginfod brought
// curl, GnuTLS, Kerberos and LDAP (25 libraries), capstone 77,000
// relocations, together about 30 ms of each session that used neither.
// The header of such a library is still compiled against, so each call
// keeps the declared signature (library_function<decltype(name)>).
#pragma once

#include "capture/format/error.hpp"

namespace coroner::symbols {

// The library `soname` (e.g. "libcapstone.so.4"), opened once per process
// and kept open; the error names it and says why it could not be loaded.
Expected<void*> open_shared_library(const char* soname);

// The address of `name` in a library open_shared_library gave.
Expected<void*> shared_library_symbol(void* library, const char* soname, const char* name);

// The function `name` of the library `soname`, as a pointer of F's type:
//   CORONER_TRY(begin, library_function<decltype(debuginfod_begin)>(so, "debuginfod_begin"));
template <typename F>
Expected<F*> library_function(const char* soname, const char* name) {
  CORONER_TRY(library, open_shared_library(soname));
  CORONER_TRY(address, shared_library_symbol(library, soname, name));
  return reinterpret_cast<F*>(address);
}

}  // namespace coroner::symbols
