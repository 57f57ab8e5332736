// Drives a real program through a pseudo-terminal, as a user at a terminal
// would: keys in, screen bytes out. expect() waits (bounded) for text to
// appear after what earlier expects consumed, so a test waits for the
// prompt instead of sleeping and hoping.
#pragma once

#include <catch2/catch.hpp>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace coroner::test {

class PtySession {
 public:
  // Runs argv[0] with `environment` (NAME=VALUE, replacing the caller's) in
  // `directory`, on a rows x columns terminal.
  PtySession(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
             const std::string& directory, unsigned short rows = 24, unsigned short columns = 80) {
    struct winsize size = {};
    size.ws_row = rows, size.ws_col = columns;
    child_ = forkpty(&master_, nullptr, nullptr, &size);
    REQUIRE(child_ >= 0);
    if (child_ == 0) {
      if (chdir(directory.c_str()) != 0) _exit(126);
      std::vector<char*> args, env;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      for (const std::string& e : environment) env.push_back(const_cast<char*>(e.c_str()));
      args.push_back(nullptr), env.push_back(nullptr);
      execve(args[0], args.data(), env.data());
      _exit(127);
    }
  }
  ~PtySession() {
    if (child_ > 0) {
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
    if (master_ >= 0) close(master_);
  }

  void send(const std::string& keys) {
    size_t done = 0;
    while (done < keys.size()) {
      ssize_t n = write(master_, keys.data() + done, keys.size() - done);
      REQUIRE(n > 0);
      done += static_cast<size_t>(n);
    }
  }

  // The output from the end of the last match up to and including `text`;
  // fails the test (showing the output's tail) if it does not come in time.
  std::string expect(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (size_t at = output_.find(text, consumed_); at != std::string::npos) {
        std::string chunk = output_.substr(consumed_, at + text.size() - consumed_);
        consumed_ = at + text.size();
        return chunk;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_more(static_cast<int>(left.count())))
        FAIL("no \"" << text << "\" within " << timeout.count() << " s; output since the last match:\n"
                     << output_.substr(consumed_));
    }
  }

  // Waits for the program to end; its exit status.
  int wait_exit(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      if (waitpid(child_, &status, WNOHANG) == child_) {
        child_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) FAIL("the program did not end within " << timeout.count() << " s");
      read_more(100);  // keep the terminal drained
    }
  }

 private:
  // Appends what the terminal has within timeout_ms; false at EOF or timeout.
  bool read_more(int timeout_ms) {
    struct pollfd p = {master_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char buffer[4096];
    ssize_t n = read(master_, buffer, sizeof buffer);
    if (n <= 0) return false;
    output_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  pid_t child_ = -1;
  int master_ = -1;
  std::string output_;
  size_t consumed_ = 0;
};

}  // namespace coroner::test
