// Plugin loader on Boost.DLL. A library is checked in a fixed order (entry
// symbol, ABI version, struct size, build id) before any of its plugin
// descriptors is read, so an incompatible library is refused instead of
// crashing the host through a mismatched struct layout.
#include "loader.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include <boost/dll/shared_library.hpp>

namespace sluice::core {
namespace {

namespace fs = std::filesystem;

bool valid_kind(PluginKind kind) {
  switch (kind) {
    case PluginKind::Source:
    case PluginKind::Transform:
    case PluginKind::Sink:
    case PluginKind::Service:
    case PluginKind::Resource:
      return true;
  }
  return false;
}

// The descriptor's fields may be garbage when the library is broken; read a
// C string defensively only after the struct checks passed.
std::string str_or_empty(const char* s) {
  return s ? std::string(s) : std::string();
}

}  // namespace

void PluginLoader::load_directories(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".so" && entry.is_regular_file(ec)) files.push_back(entry.path());
    }
    // Sorted so that which of two duplicates is named first does not depend on the file system.
    std::sort(files.begin(), files.end());
    for (const auto& f : files) load_file(f.string());
  }
}

void PluginLoader::load_file(const std::string& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  if (ec) canonical = fs::absolute(path);
  const std::string file = canonical.string();
  // The same directory may be given twice (default and --plugin-dir): load each file once.
  for (const auto& [key, p] : plugins_)
    if (p.library_path == file) return;

  auto lib = std::make_shared<boost::dll::shared_library>();
  try {
    lib->load(boost::dll::fs::path(file), boost::dll::load_mode::default_mode);
  } catch (const std::exception& e) {
    throw LoadError(file + ": cannot load: " + e.what());
  }
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Sanitizer builds keep plugin libraries (and what they pulled in, librdkafka) mapped after
  // unloading: leak reports at exit and race reports about an unloaded library's threads can then
  // name its functions instead of "<unknown module>", and suppressions can match them.
  dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
#endif
  if (!lib->has(SLUICE_ENTRY_SYMBOL))
    throw LoadError(file + ": not a sluice plugin: no symbol " SLUICE_ENTRY_SYMBOL);

  const LibraryDescriptor* desc = nullptr;
  try {
    desc = lib->get<const LibraryDescriptor*()>(SLUICE_ENTRY_SYMBOL)();
  } catch (const std::exception& e) {
    throw LoadError(file + ": " SLUICE_ENTRY_SYMBOL " failed: " + e.what());
  }
  if (!desc) throw LoadError(file + ": " SLUICE_ENTRY_SYMBOL " returned no descriptor");
  if (desc->abi_version != SLUICE_ABI_VERSION)
    throw LoadError(file + ": plugin ABI version " + std::to_string(desc->abi_version) +
                    ", this sluice speaks " + std::to_string(SLUICE_ABI_VERSION));
  if (desc->struct_size < sizeof(LibraryDescriptor))
    throw LoadError(file + ": library descriptor is " + std::to_string(desc->struct_size) +
                    " bytes, expected at least " + std::to_string(sizeof(LibraryDescriptor)));
  const std::string their_build = str_or_empty(desc->build_id);
  if (their_build != SLUICE_BUILD_ID)
    throw LoadError(file + ": built by '" + their_build + "', this sluice is '" + SLUICE_BUILD_ID +
                    "'; rebuild the plugin against this sluice");
  const std::string lib_name = str_or_empty(desc->name);
  if (desc->plugin_count > 0 && desc->plugins == nullptr)
    throw LoadError(file + ": library descriptor lists " + std::to_string(desc->plugin_count) +
                    " plugins but no table");

  // Check every descriptor before registering any, so a refused library leaves no trace.
  std::vector<const PluginDescriptor*> found;
  std::set<std::pair<PluginKind, std::string>> seen;
  for (std::uint32_t i = 0; i < desc->plugin_count; ++i) {
    const PluginDescriptor* pd = &desc->plugins[i];
    const std::string which = file + ": plugin #" + std::to_string(i);
    if (pd->struct_size < sizeof(PluginDescriptor))
      throw LoadError(which + ": descriptor is " + std::to_string(pd->struct_size) +
                      " bytes, expected at least " + std::to_string(sizeof(PluginDescriptor)));
    if (!valid_kind(pd->kind))
      throw LoadError(which + ": unknown plugin kind " +
                      std::to_string(static_cast<std::uint32_t>(pd->kind)));
    const std::string name = str_or_empty(pd->name);
    if (name.empty()) throw LoadError(which + ": plugin has no name");
    if (!pd->schema || !pd->create || !pd->destroy)
      throw LoadError(which + " (" + name + "): descriptor lacks schema, create or destroy");
    auto key = std::make_pair(pd->kind, name);
    if (!seen.insert(key).second)
      throw LoadError(file + ": " + to_string(pd->kind) + " plugin '" + name +
                      "' is defined twice in this library");
    if (auto it = plugins_.find(key); it != plugins_.end()) {
      const std::string other =
          it->second.library_path.empty() ? "built into sluice" : it->second.library_path;
      throw LoadError(file + ": duplicate " + std::string(to_string(pd->kind)) + " plugin '" + name +
                      "': already loaded from " + other);
    }
    found.push_back(pd);
  }

  std::shared_ptr<void> keep = lib;
  for (const PluginDescriptor* pd : found) {
    LoadedPlugin lp;
    lp.descriptor = pd;
    lp.library_path = file;
    lp.library_name = lib_name;
    lp.library = keep;
    plugins_.emplace(std::make_pair(pd->kind, std::string(pd->name)), std::move(lp));
  }
}

void PluginLoader::add_builtin(const PluginDescriptor* descriptor) {
  if (!descriptor || !descriptor->name || !*descriptor->name)
    throw LoadError("built-in plugin without a name");
  auto key = std::make_pair(descriptor->kind, std::string(descriptor->name));
  if (auto it = plugins_.find(key); it != plugins_.end())
    throw LoadError(std::string("built-in ") + to_string(descriptor->kind) + " plugin '" + descriptor->name +
                    "' clashes with the one loaded from " + it->second.library_path);
  LoadedPlugin lp;
  lp.descriptor = descriptor;
  lp.library_name = "builtin";
  plugins_.emplace(std::move(key), std::move(lp));
}

const LoadedPlugin* PluginLoader::find(PluginKind kind, const std::string& name) const {
  auto it = plugins_.find({kind, name});
  return it == plugins_.end() ? nullptr : &it->second;
}

std::vector<const LoadedPlugin*> PluginLoader::all() const {
  std::vector<const LoadedPlugin*> out;
  out.reserve(plugins_.size());
  for (const auto& [key, p] : plugins_) out.push_back(&p);  // the map is ordered by kind, then name
  return out;
}

std::shared_ptr<Plugin> PluginLoader::create_plugin(const LoadedPlugin& plugin, PluginContext& ctx,
                                                    const Config& config) const {
  const PluginDescriptor* d = plugin.descriptor;
  Plugin* raw = d->create(ctx, config);
  if (!raw)
    throw std::runtime_error(std::string(to_string(d->kind)) + " '" + d->name + "': create returned nothing");
  // The deleter owns a reference to the library: the code of the instance's
  // destructor stays mapped until destroy has returned.
  auto destroy = d->destroy;
  std::shared_ptr<void> library = plugin.library;
  return std::shared_ptr<Plugin>(raw, [destroy, library = std::move(library)](Plugin* p) mutable noexcept {
    destroy(p);
    library.reset();
  });
}

std::vector<std::string> PluginLoader::default_directories() {
  std::error_code ec;
  // An installed daemon loads the plugins of its own prefix (<prefix>/bin/sluice:
  // <prefix>/lib/sluice/plugins), even while the tree it was built in still exists.
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "lib" / "sluice" / "plugins";
    if (fs::is_directory(installed, ec)) return {fs::weakly_canonical(installed, ec).string()};
  }
#ifdef SLUICE_BUILD_PLUGIN_DIR
  if (fs::is_directory(SLUICE_BUILD_PLUGIN_DIR, ec)) return {SLUICE_BUILD_PLUGIN_DIR};
#endif
  return {};
}

}  // namespace sluice::core
