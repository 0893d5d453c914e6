// A library built for another plugin ABI: the loader must refuse it after
// reading abi_version and before touching anything else.
#include "sluice/plugin.hpp"

extern "C" __attribute__((visibility("default"))) const sluice::LibraryDescriptor* sluice_plugin_library() {
  // struct_size and the plugin table are deliberately nonsense: a host that
  // read past abi_version would crash or misbehave.
  static const sluice::LibraryDescriptor lib{999u, 3u, "some other build", "wrong_abi", 1000u, nullptr};
  return &lib;
}
