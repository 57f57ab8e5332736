// One run of coroner-capture: open the input, classify its pages, write the
// dump (or only the kernel log), report. Used by main.cpp and by tests.
#pragma once

#include "capture/options.hpp"

#include <atomic>
#include <cstdio>

namespace coroner::capture {

// The dump was written, but pages of the input could not be read (EIO).
constexpr int kExitUnreadablePages = 3;

// Runs the capture `options` describe. Returns the exit status: 0 on
// success, 1 on a failure (after printing one line naming the file, offset
// and reason), kExitUnreadablePages, 128 + the signal number when stopped
// by SIGINT or SIGTERM (`stop` holds the signal). Messages and the report
// go to `messages`.
int run_capture(const CaptureOptions& options, const std::atomic<int>* stop, std::FILE* messages = stderr);

}  // namespace coroner::capture
