// Dates as crash prints them (ctime_tz(): "%a %b %e %T %Z %Y"), always in
// UTC so that output does not depend on the analyzing machine's time zone:
// "Sun Nov 22 19:04:10 UTC 2026". sys's DATE and log -T use it.
#pragma once

#include <cstdint>
#include <string>

namespace coroner::commands {

std::string format_date(int64_t seconds_since_epoch);

}  // namespace coroner::commands
