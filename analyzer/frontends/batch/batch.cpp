#include "analyzer/frontends/batch/batch.hpp"

#include <istream>
#include <ostream>
#include <string>

namespace coroner::frontends {

int run_batch(commands::CommandContext& context, std::istream& in, std::ostream& errors) {
  int status = 0;
  std::string line;
  while (!context.quit && std::getline(in, line)) {
    auto result = commands::run_command_line(context, line);
    context.out.flush();
    if (!result) {
      errors << result.error().message() << '\n';
      status = 1;
    }
  }
  return status;
}

}  // namespace coroner::frontends
