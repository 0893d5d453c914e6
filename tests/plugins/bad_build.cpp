// A library with the right ABI version built by another toolchain/version.
#include "sluice/plugin.hpp"

extern "C" __attribute__((visibility("default"))) const sluice::LibraryDescriptor* sluice_plugin_library() {
  static const sluice::LibraryDescriptor lib{SLUICE_ABI_VERSION,
                                             sizeof(sluice::LibraryDescriptor),
                                             "sluice 0.0.1; gcc 4.8; libstdc++ 4; cxx11abi 0; std 201103L",
                                             "bad_build",
                                             0u,
                                             nullptr};
  return &lib;
}
