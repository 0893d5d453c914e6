// The `sluice` binary: everything lives in the core library (app/cli.cpp).
#include "app/cli.hpp"

int main(int argc, char** argv) {
  return sluice::app::cli_main(argc, argv);
}
