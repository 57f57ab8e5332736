#include "tests/support/distro_dumps.hpp"

#include "tests/support/fixtures.hpp"

#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>

namespace coroner::test {

namespace {

fs::path distro_cache() {
  if (const char* dir = std::getenv("CORONER_DISTRO_CACHE"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "coroner-distro";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/tmp") / ".cache" / "coroner-distro";
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

std::string DistroKernel::vmlinux() const { return (dir / "vmlinux").string(); }
std::string DistroKernel::dump() const { return (dir / "dump" / "vmcore.kdump-d31").string(); }

const nlohmann::json& DistroKernel::facts() const {
  static std::mutex mutex;
  static std::map<fs::path, nlohmann::json> parsed;
  std::lock_guard lock(mutex);
  auto [it, added] = parsed.try_emplace(dir);
  if (added) it->second = nlohmann::json::parse(file_contents(dir / "facts.json"));
  return it->second;
}

const std::vector<std::string>& distro_kernel_names() {
  static const std::vector<std::string> names = {"6.1-amd64", "6.12-amd64", "6.1-arm64", "5.10-amd64",
                                                  "6.1-amd64-keys", "6.1-amd64-dmcrypt"};
  return names;
}

std::optional<DistroKernel> made_distro_kernel(const std::string& name) {
  const fs::path dir = distro_cache() / name;
  if (!fs::exists(dir / "complete")) return std::nullopt;
  return DistroKernel{name, dir, trimmed(file_contents(dir / "release"))};
}

DistroKernel distro_kernel(const std::string& name) {
  if (auto made = made_distro_kernel(name)) return *made;
  std::cerr << "\n*** SKIPPED: no dump of Debian's " << name << " kernel in " << (distro_cache() / name).string()
            << " (ctest's setup test `distro dumps` makes it: tests/distro/make_distro_dump.sh)\n";
  std::exit(77);
}

}  // namespace coroner::test
