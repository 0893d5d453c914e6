#pragma once
// Entry point of the `sluice` binary.

namespace sluice::app {

/** Parses the command line and runs a subcommand; returns the exit code. */
int cli_main(int argc, char** argv);

}  // namespace sluice::app
