// Command line on Poco::Util::ServerApplication, which brings --daemon,
// --pidfile and --umask. Poco parses every option; the first positional
// argument is the subcommand.
//
// A daemon's working directory becomes "/" before main() runs, so every
// relative path on the command line is resolved against the directory the
// command was started in.
#include "app/cli.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string_view>

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include "app/commands.hpp"

namespace sluice::app {
namespace {

namespace fs = std::filesystem;
using Poco::Util::Option;
using Poco::Util::OptionSet;

constexpr const char* usage_text =
    "usage: sluice <command> [options] [arguments]\n"
    "\n"
    "commands:\n"
    "  run [--config FILE] [--plugin-dir DIR]... PIPELINE.yaml...\n"
    "        run pipelines until SIGTERM/SIGINT (or until every finite source ended);\n"
    "        SIGHUP reloads the pipeline files and reopens sink files\n"
    "  validate [--config FILE] [--plugin-dir DIR]... PIPELINE.yaml...\n"
    "        check pipeline files: exit 0 when valid, 2 with every error as file:line:col\n"
    "  plugins [--json|--markdown] [--plugin-dir DIR]... [NAME]\n"
    "        list loaded plugins with their options (--markdown: the reference docs)\n"
    "  test [--config FILE] [--plugin-dir DIR]... TESTFILE.yaml...\n"
    "        run config unit tests: input events through a pipeline's transforms\n"
    "  graph [--format dot|mermaid] [--plugin-dir DIR]... PIPELINE.yaml...\n"
    "        print the pipelines as a graph (Graphviz dot, the default, or Mermaid)\n"
    "  top [--admin HOST:PORT] [--iterations N]\n"
    "        watch a running daemon: per pipeline and component, events per second in,\n"
    "        out, failed and dead-lettered, queues, batch latency, Kafka lag (keys: q quit,\n"
    "        s sort, / filter); without a terminal, the same lines once a second\n"
    "  tap PIPELINE[.COMPONENT] [--admin HOST:PORT] [--limit N] [--rate R] [--meta]\n"
    "        print the events passing a component of a running daemon as JSON lines\n"
    "        (what reaches the sinks when no component is named), sampled up to R per\n"
    "        second (default 100) so the pipeline is never slowed; --meta adds metadata\n"
    "        (credentials in headers redacted); ends after N events or on Ctrl-C\n"
    "  new-plugin NAME --kind source|transform|sink [--dir DIR]\n"
    "        write a plugin folder (code, README, test, CMakeLists) that builds against\n"
    "        an installed sluice (find_package(Sluice)); DIR defaults to ./NAME\n"
    "  version\n"
    "        print version, plugin ABI version and build id\n"
    "\n"
    "options:\n"
    "  -c, --config FILE      daemon settings (default: conf/sluice.yaml when present)\n"
    "  -p, --plugin-dir DIR   also load plugins from DIR (repeatable)\n"
    "      --json             plugins: JSON output\n"
    "      --markdown         plugins: Markdown reference output\n"
    "      --format FORMAT    graph: dot or mermaid\n"
    "      --kind KIND        new-plugin: source, transform or sink\n"
    "      --dir DIR          new-plugin: the folder to write\n"
    "      --admin HOST:PORT  top, tap: the daemon's admin endpoint (default: SLUICE_ADMIN_LISTEN,\n"
    "                         else 127.0.0.1:9464)\n"
    "      --iterations N     top: stop after N refreshes\n"
    "      --limit N          tap: stop after N events\n"
    "      --rate R           tap: at most R events per second (default 100)\n"
    "      --meta             tap: print each event's metadata too\n"
    "      --daemon           run in the background (working directory becomes /)\n"
    "      --pidfile FILE     write the process id to FILE\n"
    "      --umask MASK       set the daemon's umask\n"
    "  -h, --help             this text\n"
    "\n"
    "exit codes: 0 ok, 1 failure (or failed tests), 2 usage, configuration or plugin errors\n";

std::string absolute_from(const fs::path& base, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (base / p).lexically_normal().string();
}

class SluiceApp : public Poco::Util::ServerApplication {
 public:
  explicit SluiceApp(fs::path cwd) : cwd_(std::move(cwd)) {
    // Options are ours to report; Poco would log them through its own logger.
    setUnixOptions(true);
  }

  bool main_entered() const { return main_entered_; }
  bool help() const { return help_; }

 protected:
  void defineOptions(OptionSet& options) override {
    ServerApplication::defineOptions(options);
    options.addOption(Option("config", "c", "daemon settings file").argument("FILE").repeatable(false));
    options.addOption(Option("plugin-dir", "p", "plugin directory").argument("DIR").repeatable(true));
    options.addOption(Option("json", "", "JSON output"));
    options.addOption(Option("markdown", "", "Markdown output"));
    options.addOption(Option("format", "", "graph format").argument("FORMAT").repeatable(false));
    options.addOption(Option("kind", "", "plugin kind").argument("KIND").repeatable(false));
    options.addOption(Option("dir", "", "folder").argument("DIR").repeatable(false));
    options.addOption(Option("admin", "", "admin endpoint").argument("HOST:PORT").repeatable(false));
    options.addOption(Option("iterations", "", "refreshes").argument("N").repeatable(false));
    options.addOption(Option("limit", "", "events").argument("N").repeatable(false));
    options.addOption(Option("rate", "", "events per second").argument("R").repeatable(false));
    options.addOption(Option("meta", "", "metadata"));
    options.addOption(Option("help", "h", "usage"));
  }

  void handleOption(const std::string& name, const std::string& value) override {
    ServerApplication::handleOption(name, value);
    if (name == "config")
      opts_.config = absolute_from(cwd_, value);
    else if (name == "plugin-dir")
      opts_.plugin_dirs.push_back(absolute_from(cwd_, value));
    else if (name == "json")
      opts_.json = true;
    else if (name == "markdown")
      opts_.markdown = true;
    else if (name == "format") {
      opts_.format = value;
      format_given_ = true;
    } else if (name == "kind")
      opts_.kind = value;
    else if (name == "dir")
      opts_.dir = absolute_from(cwd_, value);
    else if (name == "admin")
      opts_.admin = value;
    else if (name == "iterations") {
      char* end = nullptr;
      opts_.iterations = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || opts_.iterations <= 0) bad_iterations_ = true;
    } else if (name == "limit") {
      char* end = nullptr;
      opts_.limit = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || opts_.limit <= 0) bad_limit_ = true;
    } else if (name == "rate") {
      opts_.rate = value;
    } else if (name == "meta") {
      opts_.meta = true;
    } else if (name == "help") {
      help_ = true;
      stopOptionsProcessing();
    }
  }

  int main(const std::vector<std::string>& args) override {
    main_entered_ = true;
    if (help_) {
      std::cout << usage_text;
      return exit_ok;
    }
    if (args.empty()) return usage("no command given");
    opts_.command = args.front();
    const bool paths = opts_.command == "run" || opts_.command == "validate" || opts_.command == "test" ||
                       opts_.command == "graph";
    for (std::size_t i = 1; i < args.size(); ++i)
      opts_.args.push_back(paths ? absolute_from(cwd_, args[i]) : args[i]);
    if (!opts_.config) {
      // The conventional place, relative to where the command was started; read only when present.
      const std::string conventional = absolute_from(cwd_, "conf/sluice.yaml");
      std::error_code ec;
      if (fs::exists(conventional, ec)) opts_.default_config = conventional;
    }

    if ((opts_.json || opts_.markdown) && opts_.command != "plugins")
      return usage("--json and --markdown apply to `sluice plugins` only");
    if (opts_.json && opts_.markdown) return usage("give either --json or --markdown");
    if (format_given_ && opts_.command != "graph") return usage("--format applies to `sluice graph` only");
    if ((!opts_.kind.empty() || !opts_.dir.empty()) && opts_.command != "new-plugin")
      return usage("--kind and --dir apply to `sluice new-plugin` only");
    if (!opts_.admin.empty() && opts_.command != "top" && opts_.command != "tap")
      return usage("--admin applies to `sluice top` and `sluice tap` only");
    if ((opts_.iterations != 0 || bad_iterations_) && opts_.command != "top")
      return usage("--iterations applies to `sluice top` only");
    if ((opts_.limit != 0 || bad_limit_ || !opts_.rate.empty() || opts_.meta) && opts_.command != "tap")
      return usage("--limit, --rate and --meta apply to `sluice tap` only");
    if (opts_.command == "tap") {
      if (bad_limit_) return usage("--limit takes a positive number");
      if (opts_.args.size() != 1) return usage("`sluice tap` takes one PIPELINE[.COMPONENT]");
      return tap_command(opts_);
    }
    if (opts_.command == "top") {
      if (bad_iterations_) return usage("--iterations takes a positive number");
      if (!opts_.args.empty()) return usage("`sluice top` takes no arguments");
      return top_command(opts_);
    }
    if (opts_.command == "new-plugin") {
      if (opts_.kind.empty()) return usage("`sluice new-plugin NAME` needs --kind source|transform|sink");
      return new_plugin_command(opts_);
    }
    if (opts_.command == "graph") {
      if (opts_.args.empty()) return usage("`sluice graph` needs at least one file");
      return graph_command(opts_);
    }
    if (opts_.command == "run" || opts_.command == "validate" || opts_.command == "test") {
      if (opts_.args.empty()) return usage("`sluice " + opts_.command + "` needs at least one file");
      return opts_.command == "run"        ? run_command(opts_)
             : opts_.command == "validate" ? validate_command(opts_)
                                           : test_command(opts_);
    }
    if (opts_.command == "plugins") {
      if (opts_.args.size() > 1) return usage("`sluice plugins` takes at most one plugin name");
      return plugins_command(opts_);
    }
    if (opts_.command == "version") {
      if (!opts_.args.empty()) return usage("`sluice version` takes no arguments");
      return version_command(opts_);
    }
    return usage("unknown command '" + opts_.command + "'");
  }

 private:
  int usage(const std::string& problem) {
    std::cerr << "sluice: " << problem << "\n\n" << usage_text;
    return exit_usage;
  }

  fs::path cwd_;
  CliOptions opts_;
  bool main_entered_ = false;
  bool help_ = false;
  bool format_given_ = false;
  bool bad_limit_ = false;
  bool bad_iterations_ = false;
};

}  // namespace

int cli_main(int argc, char** argv) {
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  // Poco keeps --pidfile as given and removes it at exit, after a daemon's chdir("/"): make it absolute.
  std::vector<std::string> args(argv, argv + argc);
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--pidfile" && i + 1 < args.size()) {
      args[i + 1] = absolute_from(cwd, args[i + 1]);
      ++i;
    } else if (a.rfind("--pidfile=", 0) == 0) {
      args[i] = "--pidfile=" + absolute_from(cwd, std::string(a.substr(10)));
    }
  }
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);

  SluiceApp app(cwd);
  int rc = exit_failure;
  try {
    rc = app.run(static_cast<int>(args.size()), cargs.data());
  } catch (const std::exception& e) {
    std::cerr << "sluice: " << e.what() << "\n";
    return exit_failure;
  }
  // Poco reports a bad option (unknown, missing argument) from init(), before main(): that is a usage error.
  if (!app.main_entered()) {
    std::cerr << "\n" << usage_text;
    return exit_usage;
  }
  return rc;
}

}  // namespace sluice::app
