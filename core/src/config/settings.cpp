// conf/sluice.yaml: validated with the same schema machinery as plugin
// options, so its errors read the same way.
#include "config/settings.hpp"

#include <cstdlib>
#include <filesystem>

#include "config/yaml_source.hpp"

namespace sluice::core {

namespace {

const Schema& settings_schema() {
  static const Schema schema =
      SchemaBuilder()
          .option("plugin_dirs", OptionType::StringList)
          .def("[]")
          .doc("Directories searched for plugin libraries, besides ../lib/sluice/plugins beside the binary (installed) "
              "or else the build tree's.")
          .option("admin", OptionType::Object)
          .nested(SchemaBuilder()
                      .option("listen", OptionType::String)
                      .def("127.0.0.1:9464")
                      .doc("host:port of /metrics, /health, /ready, /status; \"off\" disables it. "
                           "Environment variable SLUICE_ADMIN_LISTEN overrides it.")
                      .build())
          .doc("Admin endpoint.")
          .option("log", OptionType::Object)
          .nested(SchemaBuilder()
                      .option("level", OptionType::Enum)
                      .choices({"trace", "debug", "info", "warn", "error"})
                      .def("info")
                      .doc("Least severe level written.")
                      .option("format", OptionType::Enum)
                      .choices({"text", "json"})
                      .def("text")
                      .doc("text: human-readable lines; json: one JSON object per line.")
                      .build())
          .doc("Logging on stderr.")
          .option("data_dir", OptionType::String)
          .def("./data")
          .doc("Directory for plugin state (created when missing).")
          .option("shutdown_timeout", OptionType::Duration)
          .def("30s")
          .doc("Default drain deadline on shutdown.")
          .build();
  return schema;
}

}  // namespace

DaemonSettings load_settings(const std::string& path, bool must_exist, Diagnostics& diags) {
  DaemonSettings settings;
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (exists || must_exist) {
    std::string text;
    if (read_file(path, text, diags)) {
      if (auto src = parse_yaml(text, path, diags)) {
        // An empty file means all defaults.
        YAML::Node root = src->root.IsNull() ? YAML::Node(YAML::NodeType::Map) : src->root;
        const std::size_t before = diags.items().size();
        validate_options(root, settings_schema(), *src, "", diags);
        if (diags.items().size() == before) {
          const Config c(root, path, "");
          settings.plugin_dirs = c.strings("plugin_dirs");
          settings.admin_listen = c.child("admin").str("listen");
          const Config log = c.child("log");
          parse_log_level(log.str("level"), settings.log_level);
          settings.log_format = log.str("format") == "json" ? LogFormat::Json : LogFormat::Text;
          settings.data_dir = c.str("data_dir");
          settings.shutdown_timeout = c.duration("shutdown_timeout");
        }
      }
    }
  }
  if (const char* listen = std::getenv("SLUICE_ADMIN_LISTEN"); listen && *listen)
    settings.admin_listen = listen;
  return settings;
}

}  // namespace sluice::core
