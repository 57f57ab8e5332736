#include "commands/date_format.hpp"

#include <ctime>

namespace coroner::commands {

std::string format_date(int64_t seconds_since_epoch) {
  std::time_t t = static_cast<std::time_t>(seconds_since_epoch);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return std::to_string(seconds_since_epoch);  // as crash, when the time cannot be broken down
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S UTC %Y", &tm);
  return buf;
}

}  // namespace coroner::commands
