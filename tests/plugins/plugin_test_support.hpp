// Running the coroner executable with plugins: the example plugins and the
// broken ones the tests build (tests/plugins/test_plugins/), an empty HOME
// and CORONER_PLUGIN_PATH so that no plugin of the machine's loads.
#pragma once

#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace coroner::test {

inline std::string example_plugin(const std::string& name) {
  return std::string(CORONER_EXAMPLE_PLUGIN_DIR) + "/" + name + ".so";
}
inline std::string test_plugin(const std::string& name) {
  return std::string(CORONER_TEST_PLUGIN_DIR) + "/" + name + ".so";
}

inline std::string quoted(const std::string& word) { return "'" + word + "'"; }

// The environment and executable, before the options.
inline std::string coroner_env(const std::string& plugin_path = "") {
  const fs::path home = cache_dir() / "plugins-home";
  fs::create_directories(home);
  return "env HOME=" + home.string() + " CORONER_PLUGIN_PATH=" + quoted(plugin_path) +
         " CORONER_BACKGROUND_INDEX=0 CORONER_CACHE_DIR=" + (cache_dir() / "coroner").string() + " " + CORONER_BINARY;
}

// VMLINUX DUMP... with the module's directory.
inline std::string dump_arguments(const DumpCase& dump) {
  std::string args = " --mod-path " + fs::path(dump.module_path()).parent_path().string() + " " + dump.vmlinux();
  for (const std::string& file : dump.files()) args += " " + file;
  return args;
}

// The -x commands of one run, each as -x 'COMMAND'.
inline std::string commands_x(const std::vector<std::string>& commands) {
  std::string out;
  for (const std::string& c : commands) out += " -x " + quoted(c);
  return out;
}

// Standard input's commands (batch mode): written to a file the run reads.
inline std::string commands_stdin(const std::vector<std::string>& commands, const std::string& name) {
  const fs::path file = cache_dir() / ("plugins-" + name + ".cmds");
  std::ofstream out(file);
  for (const std::string& c : commands) out << c << '\n';
  return " < " + file.string();
}

// --output json with several commands: one document per line.
inline std::vector<nlohmann::json> json_documents(const std::string& output) {
  std::vector<nlohmann::json> documents;
  for (const std::string& line : lines_of(output)) {
    if (line.empty() || line.front() != '{') continue;
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (!parsed.is_discarded()) documents.push_back(std::move(parsed));
  }
  return documents;
}

// The one (indented) JSON document of an output that may hold error lines before it.
inline nlohmann::json json_document(const std::string& output) {
  const size_t start = output.starts_with("{") ? 0 : output.find("\n{");
  REQUIRE(start != std::string::npos);
  return nlohmann::json::parse(output.substr(start));
}

// The document that has `key`; fails without one.
inline const nlohmann::json& document_with(const std::vector<nlohmann::json>& documents, const std::string& key,
                                           size_t nth = 0) {
  for (const nlohmann::json& d : documents)
    if (d.contains(key) && nth-- == 0) return d;
  FAIL("no JSON document with \"" << key << "\"");
  static const nlohmann::json none;
  return none;
}

}  // namespace coroner::test

namespace coroner::test {

struct RunResult {
  int status = 0;
  std::string output;  // standard output and error
};

// Like run_command, but a failing exit status is the test's to judge.
inline RunResult run_any(const std::string& command) {
  RunResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe);
  char buffer[4096];
  while (size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, got);
  result.status = pclose(pipe);
  return result;
}

}  // namespace coroner::test
