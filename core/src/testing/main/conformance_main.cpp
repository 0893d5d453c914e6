// sluice-conformance PLUGIN.so|DIR: the conformance checks (sluice/conformance.hpp) of the plugins
// in a library or a directory, one line per check; exit 0 when all pass, 1 when one fails, 2 on usage.
// sluice_add_plugin() registers it as the ctest `conformance.<family>` of an out-of-tree plugin.
#include <iostream>

#include "sluice/conformance.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: sluice-conformance PLUGIN.so|DIRECTORY\n";
    return 2;
  }
  return sluice::testing::run_conformance(argv[1], std::cout);
}
