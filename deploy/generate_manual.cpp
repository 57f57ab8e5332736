// Writes the man pages and bash completions of coroner and coroner-capture
// from their command-line descriptions (run at build time; packaging.cmake):
//   coroner-generate-manual OUTDIR
// OUTDIR/coroner.1, coroner-capture.8, coroner.bash, coroner-capture.bash
#include "analyzer/frontends/manual/coroner_manual.hpp"
#include "capture/capture_manual.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

bool write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (out) return true;
  std::cerr << "coroner-generate-manual: " << path.string() << ": cannot write: " << std::strerror(errno) << '\n';
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: coroner-generate-manual OUTDIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    std::cerr << "coroner-generate-manual: " << dir.string() << ": " << error.message() << '\n';
    return 1;
  }
  bool ok = true;
  for (const coroner::manual::ProgramManual& m :
       {coroner::frontends::coroner_manual(), coroner::capture::capture_manual()}) {
    ok = write_file(dir / (m.name + "." + std::to_string(m.section)), coroner::manual::man_page(m)) && ok;
    ok = write_file(dir / (m.name + ".bash"), coroner::manual::bash_completion(m)) && ok;
  }
  return ok ? 0 : 1;
}
