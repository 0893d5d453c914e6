// `sluice plugins [--json|--markdown] [NAME]`.
#include <algorithm>
#include <iostream>

#include "admin.hpp"
#include "app/commands.hpp"
#include "schema_json.hpp"

namespace sluice::app {
namespace {

void print_options(std::ostream& out, const Schema& schema, const std::string& indent,
                   const std::string& prefix) {
  std::size_t width = 0;
  for (const Option& o : schema.options) width = std::max(width, prefix.size() + o.name.size());
  for (const Option& o : schema.options) {
    std::string name = prefix + o.name;
    std::string type = to_string(o.type);
    if (!o.choices.empty()) {
      type += " (";
      for (std::size_t i = 0; i < o.choices.size(); ++i) type += (i ? "|" : "") + o.choices[i];
      type += ")";
    }
    std::string detail = o.required                ? "required"
                         : o.default_value.empty() ? "optional"
                                                   : "default " + o.default_value;
    if (o.secret) detail += ", secret";
    out << indent << name << std::string(width - name.size() + 2, ' ') << type << "; " << detail << "\n"
        << indent << "    " << o.description << "\n";
    if (o.nested)
      print_options(out, *o.nested, indent,
                    prefix + o.name + (o.type == OptionType::ObjectList ? "[]." : "."));
  }
  for (const auto& p : schema.passthrough_prefixes) out << indent << p << "*  passed through unchecked\n";
}

}  // namespace

int plugins_command(const CliOptions& opts) {
  auto settings = load_daemon_settings(opts, std::cerr);
  if (!settings) return exit_usage;
  core::PluginLoader loader;
  if (!load_plugins(opts, *settings, loader, std::cerr)) return exit_usage;

  std::vector<const core::LoadedPlugin*> chosen;
  for (const core::LoadedPlugin* p : loader.all())
    if (opts.args.empty() || opts.args.front() == p->descriptor->name) chosen.push_back(p);
  if (!opts.args.empty() && chosen.empty()) {
    std::cerr << "sluice: no plugin named '" << opts.args.front() << "' (see `sluice plugins`)\n";
    return exit_usage;
  }

  if (opts.json) {
    nlohmann::json all = core::plugins_json(loader, true);
    nlohmann::json out = nlohmann::json::array();
    for (auto& j : all)
      if (opts.args.empty() || j["name"] == opts.args.front()) out.push_back(std::move(j));
    std::cout << out.dump(2) << "\n";
    return exit_ok;
  }
  if (opts.markdown) {
    if (opts.args.empty()) {
      std::cout << core::reference_markdown(loader);
    } else {
      for (const auto* p : chosen) std::cout << core::plugin_markdown(*p->descriptor);
    }
    return exit_ok;
  }
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const core::LoadedPlugin* p = chosen[i];
    const PluginDescriptor& d = *p->descriptor;
    if (i) std::cout << "\n";
    std::cout << to_string(d.kind) << " " << d.name << ": " << (d.description ? d.description : "") << "\n"
              << "  library: " << (p->library_path.empty() ? "built in" : p->library_path) << "\n";
    const Schema& schema = d.schema();
    if (schema.options.empty() && schema.passthrough_prefixes.empty()) {
      std::cout << "  no options\n";
    } else {
      std::cout << "  options:\n";
      print_options(std::cout, schema, "    ", "");
    }
    // Long docs only for one plugin asked by name; the list stays scannable.
    if (!opts.args.empty() && d.docs && *d.docs) std::cout << "\n" << d.docs << "\n";
  }
  return exit_ok;
}

}  // namespace sluice::app
