#include "capture/format/error.hpp"

namespace coroner {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::not_in_dump: return "not in dump";
    case Errc::excluded_by_filter: return "excluded by dump filter";
    case Errc::truncated: return "truncated";
    case Errc::corrupt: return "corrupt";
    case Errc::not_mapped: return "not mapped";
    case Errc::io: return "I/O error";
    case Errc::unsupported: return "unsupported";
    case Errc::invalid_argument: return "invalid argument";
    case Errc::not_found: return "not found";
  }
  return "error";
}

}  // namespace coroner
