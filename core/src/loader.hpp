#pragma once
// Finds plugin libraries, checks ABI version and build id, keeps libraries
// loaded while any instance of theirs lives.
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sluice/plugin.hpp"

namespace sluice::core {

/** A library or plugin was refused; what() names the file and the reason. */
class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** One plugin as the loader knows it. */
struct LoadedPlugin {
  const PluginDescriptor* descriptor = nullptr;
  std::string library_path;  ///< "" for built-ins
  std::string library_name;
  std::shared_ptr<void> library;  ///< keeps the shared library mapped
};

class PluginLoader {
 public:
  /**
   * Loads every `*.so` in @p dirs (non-existent directories are skipped).
   * Throws LoadError for the first refused library (ABI, build id, missing
   * symbol, duplicate plugin name); use collect_errors to get them all.
   */
  void load_directories(const std::vector<std::string>& dirs);
  /** Loads one library file. Throws LoadError. */
  void load_file(const std::string& path);
  /** Registers a plugin compiled into the binary (test harness components). */
  void add_builtin(const PluginDescriptor* descriptor);

  const LoadedPlugin* find(PluginKind kind, const std::string& name) const;
  /** Every plugin, sorted by kind then name. */
  std::vector<const LoadedPlugin*> all() const;

  /**
   * Creates an instance. The returned pointer keeps the library loaded and
   * destroys the instance with the library's own destroy function.
   */
  template <typename T>
  std::shared_ptr<T> create(const LoadedPlugin& plugin, PluginContext& ctx, const Config& config) const {
    std::shared_ptr<Plugin> p = create_plugin(plugin, ctx, config);
    return std::shared_ptr<T>(p, static_cast<T*>(p.get()));
  }
  std::shared_ptr<Plugin> create_plugin(const LoadedPlugin& plugin, PluginContext& ctx, const Config& config) const;

  /**
   * Default plugin directory: ../lib/sluice/plugins beside the binary when it exists (an installed
   * daemon), else the build tree's.
   */
  static std::vector<std::string> default_directories();

 private:
  std::map<std::pair<PluginKind, std::string>, LoadedPlugin> plugins_;
};

}  // namespace sluice::core
