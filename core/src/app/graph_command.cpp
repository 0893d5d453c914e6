// `sluice graph`: the pipelines of some files as a Graphviz (dot) or Mermaid
// graph: source → transforms → sinks, the dead-letter sink, the resources.
#include <iostream>
#include <sstream>

#include "app/commands.hpp"
#include "config/pipeline_config.hpp"

namespace sluice::app {
namespace {

/** Options shown under a component's name when it has them: where its data comes from or goes. */
constexpr const char* kShownOptions[] = {"listen", "path",  "routes", "brokers", "topics",
                                         "topic",  "hosts", "index",  "group"};

/** "topics: page-views, clicks" lines for the options of kShownOptions that @p c has. */
std::vector<std::string> details(const core::ComponentSpec& c) {
  std::vector<std::string> out;
  const YAML::Node& root = c.config.root();
  for (const char* key : kShownOptions) {
    const YAML::Node v = root[key];
    if (!v) continue;
    std::string text;
    if (v.IsScalar()) {
      text = v.Scalar();
    } else if (v.IsSequence()) {
      for (const auto& item : v) {
        // A list of maps (routes): each one's path, with its method when it has one.
        std::string one = item.IsScalar() ? item.Scalar() : "";
        if (item.IsMap() && item["path"] && item["path"].IsScalar()) {
          one = item["path"].Scalar();
          if (item["method"] && item["method"].IsScalar()) one = item["method"].Scalar() + " " + one;
        }
        if (!one.empty()) text += (text.empty() ? "" : ", ") + one;
      }
    } else if (v.IsMap()) {
      for (const auto& kv : v) {
        if (!kv.first.IsScalar()) continue;
        text += (text.empty() ? "" : ", ") + kv.first.Scalar();
      }
    }
    if (text.empty()) continue;
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    out.push_back(std::string(key) + ": " + text);
  }
  return out;
}

struct Node {
  std::string id;
  std::vector<std::string> lines;  ///< label lines, the first is the title
  bool resource = false;
};

struct Edge {
  std::string from, to;
  bool dead_letter = false;
};

struct Graph {
  struct Cluster {
    std::string title;
    std::vector<Node> nodes;
  };
  std::vector<Cluster> clusters;  ///< one per pipeline
  std::vector<Node> resources;
  std::vector<Edge> edges;
};

Node node_of(const core::ComponentSpec& c, const std::string& title_suffix = {}) {
  Node n{c.id, {c.type + " (" + to_string(c.kind) + title_suffix + ")"}, c.kind == PluginKind::Resource};
  if (c.name != c.type) n.lines.push_back("name: " + c.name);
  for (auto& d : details(c)) n.lines.push_back(std::move(d));
  return n;
}

Graph build(const core::ConfigSet& set) {
  Graph g;
  for (const auto& r : set.resources) g.resources.push_back(node_of(r.component));
  for (const auto& p : set.pipelines) {
    Graph::Cluster cl{"pipeline " + p.name, {}};
    cl.nodes.push_back(node_of(p.source));
    std::string last = p.source.id;
    for (const auto& t : p.transforms) {
      cl.nodes.push_back(node_of(t));
      g.edges.push_back({last, t.id, false});
      last = t.id;
    }
    for (const auto& s : p.sinks) {
      cl.nodes.push_back(node_of(s));
      g.edges.push_back({last, s.id, false});
    }
    if (p.dead_letter) {
      cl.nodes.push_back(node_of(*p.dead_letter, ", dead letters"));
      for (const auto& s : p.sinks) g.edges.push_back({s.id, p.dead_letter->id, true});
    }
    g.clusters.push_back(std::move(cl));
  }
  return g;
}

std::string dot_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

std::string dot_label(const Node& n) {
  std::string text;
  for (const auto& l : n.lines) text += (text.empty() ? "" : "\n") + l;
  return dot_quoted(text);
}

void write_dot(const Graph& g, std::ostream& out) {
  out << "digraph sluice {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n";
  for (std::size_t i = 0; i < g.clusters.size(); ++i) {
    out << "  subgraph cluster_" << i << " {\n    label=" << dot_quoted(g.clusters[i].title) << ";\n";
    for (const auto& n : g.clusters[i].nodes)
      out << "    " << dot_quoted(n.id) << " [label=" << dot_label(n) << "];\n";
    out << "  }\n";
  }
  for (const auto& n : g.resources)
    out << "  " << dot_quoted(n.id) << " [shape=cylinder, style=solid, label=" << dot_label(n) << "];\n";
  for (const auto& e : g.edges) {
    out << "  " << dot_quoted(e.from) << " -> " << dot_quoted(e.to);
    if (e.dead_letter) out << " [style=dashed, label=\"refused\"]";
    out << ";\n";
  }
  out << "}\n";
}

/** Mermaid node ids: letters, digits and underscores only. */
std::string mermaid_id(const std::string& id) {
  std::string out = "n_";
  for (unsigned char c : id) out.push_back(std::isalnum(c) ? static_cast<char>(c) : '_');
  return out;
}

std::string mermaid_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"')
      out += "#quot;";
    else if (c == '<')
      out += "#lt;";
    else if (c == '>')
      out += "#gt;";
    else
      out.push_back(c);
  }
  return out;
}

std::string mermaid_label(const Node& n) {
  std::string text;
  for (const auto& l : n.lines) text += (text.empty() ? "" : "<br/>") + mermaid_text(l);
  return "\"" + text + "\"";
}

void write_mermaid(const Graph& g, std::ostream& out) {
  out << "flowchart LR\n";
  for (std::size_t i = 0; i < g.clusters.size(); ++i) {
    out << "  subgraph p" << i << "[" << mermaid_label(Node{"", {g.clusters[i].title}, false}) << "]\n";
    for (const auto& n : g.clusters[i].nodes)
      out << "    " << mermaid_id(n.id) << "(" << mermaid_label(n) << ")\n";
    out << "  end\n";
  }
  for (const auto& n : g.resources) out << "  " << mermaid_id(n.id) << "[(" << mermaid_label(n) << ")]\n";
  for (const auto& e : g.edges)
    out << "  " << mermaid_id(e.from) << (e.dead_letter ? " -. refused .-> " : " --> ") << mermaid_id(e.to)
        << "\n";
}

}  // namespace

int graph_command(const CliOptions& opts) {
  if (opts.format != "dot" && opts.format != "mermaid") {
    std::cerr << "sluice: --format is dot or mermaid, not '" << opts.format << "'\n";
    return exit_usage;
  }
  core::PluginLoader loader;
  const auto set = load_pipeline_files(opts, loader, std::cerr);
  if (!set) return exit_usage;
  const Graph g = build(*set);
  if (opts.format == "dot")
    write_dot(g, std::cout);
  else
    write_mermaid(g, std::cout);
  return exit_ok;
}

}  // namespace sluice::app
