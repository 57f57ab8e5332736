// coroner-fleet: `coroner fleet` (fleet_command.hpp), which coroner runs
// from its own directory with the arguments after "fleet".
#include "analyzer/frontends/fleet/fleet_command.hpp"

#include <iostream>

int main(int argc, char** argv) {
  return coroner::frontends::run_fleet({argv + 1, argv + argc}, std::cin, std::cout, std::cerr);
}
