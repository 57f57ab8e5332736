#include "analyzer/frontends/index_builder/index_builder.hpp"

#include "capture/format/decompressed_file.hpp"
#include "symbols/debug_info.hpp"
#include "symbols/elf_symbols.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <ostream>
#include <vector>

extern char** environ;

namespace coroner::frontends {

namespace {

// A builder older than this is taken to have died without removing its lock.
constexpr time_t kStaleLockSeconds = 600;

// Holds <cache_dir>/<build-id>.building while a builder runs.
class BuilderLock {
 public:
  explicit BuilderLock(std::string path) : path_(std::move(path)) {
    for (int attempt = 0; attempt < 2 && !held_; ++attempt) {
      const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) {
        ::close(fd);
        held_ = true;
        break;
      }
      struct stat st {};
      if (errno != EEXIST || ::stat(path_.c_str(), &st) != 0 || std::time(nullptr) - st.st_mtime < kStaleLockSeconds)
        break;
      ::unlink(path_.c_str());
    }
  }
  ~BuilderLock() {
    if (held_) ::unlink(path_.c_str());
  }
  bool held() const { return held_; }

 private:
  std::string path_;
  bool held_ = false;
};

}  // namespace

void start_background_index(const Program& program) {
  if (const char* flag = std::getenv("CORONER_BACKGROUND_INDEX"); flag && std::string_view(flag) == "0") return;
  const symbols::DebugInfo* info = program.opened_debug_info();
  const std::string& cache_dir = program.options().cache_dir;
  if (info == nullptr || cache_dir.empty()) return;
  // Sessions read the caches and leave writing both to the builder.
  std::error_code ignored;
  if (info->indexed() &&
      std::filesystem::exists(symbols::symbol_cache_path(cache_dir, info->build_id()), ignored))
    return;

  char self[PATH_MAX];
  const ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return;
  self[length] = '\0';
  // The child uses the session's cache directory whatever chose it.
  std::vector<std::string> environment{"CORONER_CACHE_DIR=" + cache_dir};
  for (char** variable = environ; *variable != nullptr; ++variable)
    if (!std::string_view(*variable).starts_with("CORONER_CACHE_DIR=")) environment.emplace_back(*variable);
  std::vector<char*> envp;
  for (std::string& variable : environment) envp.push_back(variable.data());
  envp.push_back(nullptr);
  std::string vmlinux = program.vmlinux_path();
  char build_flag[] = "--build-index";
  char background_flag[] = "--background";
  char* argv[] = {self, build_flag, background_flag, vmlinux.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY, 0);
  // Its own session: the builder outlives this process and ignores the
  // terminal's signals.
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
  pid_t child = 0;
  (void)posix_spawn(&child, self, &actions, &attributes, argv, envp.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
}

int build_index_caches(const std::string& vmlinux, const std::string& cache_dir, std::ostream& err) {
  auto fail = [&err](const Error& error) {
    err << "coroner: " << error.message() << '\n';
    return 1;
  };
  auto path = decompressed_path(vmlinux, cache_dir);
  if (!path) return fail(path.error());
  // Opening reads the cached index if there is one; it builds nothing.
  auto info = symbols::DebugInfo::open(*path, cache_dir);
  if (!info) return fail(info.error());
  const std::string& build_id = (*info)->build_id();
  if (build_id.empty()) {
    err << "coroner: " << *path << ": no GNU build-id note (the caches are keyed by it)\n";
    return 1;
  }
  if (auto created = create_cache_directory(cache_dir); !created) return fail(created.error());
  BuilderLock lock((std::filesystem::path(cache_dir) / (build_id + ".building")).string());
  if (!lock.held()) return 0;  // another builder is at it
  if (auto built = (*info)->build_index(); !built) return fail(built.error());
  if (auto table = symbols::SymbolTable::from_elf(*path, cache_dir); !table) return fail(table.error());
  return 0;
}

}  // namespace coroner::frontends
