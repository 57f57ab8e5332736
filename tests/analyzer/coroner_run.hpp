// Runs the coroner executable as a user does, for the tests of its command
// line (test_main*.cpp).
#pragma once

#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace coroner::test {

struct Run {
  int status = -1;
  std::string out, err;
};

// Runs coroner with `args`, feeding `input` on standard input; `env`
// ("NAME=value ...") adds to or overrides its environment.
inline Run run_coroner(const std::string& args, const std::string& input, const std::string& env = "") {
  fs::path in = cache_dir() / ("main-input-" + std::to_string(::getpid()));
  fs::path err = cache_dir() / ("main-stderr-" + std::to_string(::getpid()));
  std::ofstream(in) << input;
  std::string command = "CORONER_CACHE_DIR=" + (cache_dir() / "coroner").string() + " " + env + " " + std::string(CORONER_BINARY) + " " + args + " < " + in.string() + " 2> " + err.string();
  Run run;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 4096> buf{};
  while (size_t got = std::fread(buf.data(), 1, buf.size(), pipe)) run.out.append(buf.data(), got);
  int status = pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err);
  run.err.assign(std::istreambuf_iterator<char>(e), {});
  fs::remove(in);
  fs::remove(err);
  return run;
}

// A fresh scratch folder under the test cache, removed at the end.
struct ScratchDir {
  fs::path path;
  explicit ScratchDir(const std::string& name) : path(cache_dir() / (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

}  // namespace coroner::test
