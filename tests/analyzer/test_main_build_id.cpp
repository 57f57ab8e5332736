// `coroner DUMP` without a vmlinux finds it by the build-id of the dump's
// VMCOREINFO: in --debuginfo-dir folders, /usr/lib/debug, and from a real
// debuginfod server started here on loopback.
#include "tests/analyzer/coroner_run.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <thread>

namespace coroner::test {

namespace {

const DumpCase& x86_64_oops() { return fixture_case("x86_64/oops-kdump/d31"); }
std::string build_id_of(const DumpCase& dump) { return dump.facts()["vmcoreinfo"]["BUILD-ID"].get<std::string>(); }

std::string release_line(const DumpCase& dump) {
  return "     RELEASE: " + dump.facts()["osrelease"].get<std::string>() + "\n";
}

// A loopback TCP port nobody listens on now.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t size = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// The status line of an HTTP GET to 127.0.0.1:port ("" when nothing answers).
std::string http_status(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string status;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[256];
      ssize_t got = ::read(fd, buffer, sizeof buffer);
      if (got > 0) status.assign(buffer, static_cast<size_t>(got));
      status = status.substr(0, status.find('\r'));
    }
  }
  ::close(fd);
  return status;
}

// `debuginfod -F served` on a free port, with its database and log in work;
// stopped (and reaped) when the test ends, also when it fails.
class DebuginfodServer {
 public:
  DebuginfodServer(const fs::path& served, const fs::path& work) : port_(free_port()), log_(work / "debuginfod.log") {
    const std::string port = std::to_string(port_), database = (work / "index.sqlite").string();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) ::dup2(fd, STDOUT_FILENO), ::dup2(fd, STDERR_FILENO);
      ::unsetenv("DEBUGINFOD_URLS");  // serve the folder only, no upstream servers
      ::execlp("debuginfod", "debuginfod", "-F", served.c_str(), "-p", port.c_str(), "-d", database.c_str(), "-v",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~DebuginfodServer() {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return file_contents(log_); }

  // True once the server answers the build-id with 200 (it has indexed the file).
  bool wait_for(const std::string& build_id, std::chrono::seconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (http_status(port_, "/buildid/" + build_id + "/debuginfo").find(" 200") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

 private:
  int port_;
  fs::path log_;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("coroner DUMP finds the vmlinux by build-id in --debuginfo-dir folders", "[main][build-id]") {
  const DumpCase& dump = x86_64_oops();
  const std::string id = build_id_of(dump);
  ScratchDir tree("debuginfo-tree"), plain("debuginfo-plain");
  // The .build-id path of the first folder holds another kernel (arm64's):
  // its build-id is checked, so the search goes on to the second folder,
  // which holds the right vmlinux under any name.
  fs::create_directories(tree.path / ".build-id" / id.substr(0, 2));
  fs::create_symlink(fixture_case("arm64/oops-kdump/d31").vmlinux(),
                     tree.path / ".build-id" / id.substr(0, 2) / (id.substr(2) + ".debug"));
  fs::create_symlink(dump.vmlinux(), plain.path / "kernel-with-dwarf");
  const std::string dirs = "--debuginfo-dir " + tree.path.string() + " --debuginfo-dir " + plain.path.string();
  Run run = run_coroner("-s " + dirs + " -x sys " + dump.files().front(), "", "DEBUGINFOD_URLS=");
  INFO(run.err);
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::Contains(release_line(dump)));
  CHECK_THAT(run.out, Catch::Contains("      KERNEL: " + (plain.path / "kernel-with-dwarf").string() +
                                      "  (by build-id: --debuginfo-dir " + plain.path.string() + ")"));

  // Laid out as Debian's -dbg packages: DIR/.build-id/xx/rest.debug.
  fs::remove(tree.path / ".build-id" / id.substr(0, 2) / (id.substr(2) + ".debug"));
  fs::create_symlink(dump.vmlinux(), tree.path / ".build-id" / id.substr(0, 2) / (id.substr(2) + ".debug"));
  Run json = run_coroner("-s --output json " + dirs + " -x sys " + dump.files().front(), "", "DEBUGINFOD_URLS=");
  CHECK(json.status == 0);
  nlohmann::json sys = nlohmann::json::parse(json.out);
  CHECK(sys["release"] == dump.facts()["osrelease"]);
  CHECK(sys["kernel"] == (tree.path / ".build-id" / id.substr(0, 2) / (id.substr(2) + ".debug")).string());
  CHECK(sys["kernel_found_by"] == "--debuginfo-dir " + tree.path.string());
}

TEST_CASE("coroner DUMP without a vmlinux anywhere: the banner lists where it looked", "[main][build-id]") {
  const DumpCase& dump = x86_64_oops();
  const std::string id = build_id_of(dump);
  ScratchDir empty("debuginfo-empty");
  // It opens from the dump's kallsyms (test_main_no_debuginfo.cpp).
  Run run = run_coroner("--debuginfo-dir " + empty.path.string() + " -x sys " + dump.files().front(), "",
                        "DEBUGINFOD_URLS=");
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::Contains("DEBUG INFO: kallsyms (no vmlinux: no vmlinux with build-id " + id + " found; looked in: " +
                                        empty.path.string() + " (.build-id/ and its files), /usr/lib/debug/.build-id/" +
                                        id.substr(0, 2) + "/" + id.substr(2) + ".debug, /usr/lib/debug/boot/vmlinux-*, "
                                        "not debuginfod (DEBUGINFOD_URLS is not set)"));
}

TEST_CASE("coroner DUMP fetches the vmlinux from a debuginfod server and opens it with its DWARF",
          "[main][build-id][debuginfod]") {
  if (std::system("command -v debuginfod > /dev/null 2>&1") != 0) {
    std::cerr << "\n*** SKIPPED: no debuginfod executable (Debian package debuginfod) to serve the fixture "
                 "vmlinux ***\n\n";
    std::exit(77);
  }
  const DumpCase& dump = x86_64_oops();
  const std::string id = build_id_of(dump);
  ScratchDir served("debuginfod-served"), work("debuginfod-work"), client_cache("debuginfod-cache");
  // debuginfod's scan does not follow symbolic links: a hard link (same file
  // system as the test cache), else a copy.
  std::error_code linked;
  fs::create_hard_link(dump.vmlinux(), served.path / "vmlinux", linked);
  if (linked) fs::copy_file(dump.vmlinux(), served.path / "vmlinux");

  DebuginfodServer server(served.path, work.path);
  if (!server.wait_for(id, std::chrono::seconds(120))) FAIL("debuginfod did not serve " << id << ":\n" << server.log());
  const std::string env = "DEBUGINFOD_URLS=" + server.url() + " DEBUGINFOD_CACHE_PATH=" + client_cache.path.string();
  const std::string crashing = std::to_string(dump.facts()["console_crash"]["pid"].get<int>());
  const std::string modules = fs::path(dump.module_path()).parent_path().string();
  Run run = run_coroner("-s --mod-path " + modules + " -x sys -x 'bt -l " + crashing + "' " + dump.files().front(),
                        "", env);
  INFO(run.err);
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::Contains(release_line(dump)));
  CHECK_THAT(run.out, Catch::Contains("(by build-id: debuginfod (" + server.url() + "))"));
  // The file came into libdebuginfod's cache, under the build-id.
  CHECK(fs::exists(client_cache.path / id / "debuginfo"));
  // Full DWARF: source lines of the module's frame and of vmlinux's, and
  // vmlinux's inline frames.
  CHECK(std::regex_search(run.out, std::regex(R"( fx_crash_level3 at [0-9a-f]+ \[fx_crash\]\n    \S*fx_crash\.c: \d+\n)")));
  CHECK(std::regex_search(run.out, std::regex(R"( vfs_write at [0-9a-f]+\n    \S*fs/read_write\.c: \d+\n)")));
  CHECK(std::regex_search(run.out, std::regex(R"( pde_write at [0-9a-f]+ \(inlined\)\n)")));
}

}  // namespace coroner::test
