// A shared library that is not a sluice plugin: no sluice_plugin_library.
extern "C" __attribute__((visibility("default"))) int not_a_plugin() {
  return 42;
}
