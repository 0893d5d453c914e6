// The search page's template renderer (see templates.hpp).
#include "templates.hpp"

#include <algorithm>

namespace sluice::srp {

struct PageTemplate::Node {
  enum class Kind { Text, Escaped, Raw, Section, Inverted } kind = Kind::Text;
  std::string text;               ///< literal text, or the name looked up
  std::vector<std::string> path;  ///< the name split at dots (empty for `.`)
  std::vector<Node> children;     ///< a section's body
};

namespace {

using Node = PageTemplate::Node;

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split_name(const std::string& name) {
  std::vector<std::string> parts;
  if (name == ".") return parts;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    parts.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
  return parts;
}

bool valid_name(const std::string& name) {
  if (name == ".") return true;
  if (name.empty() || name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

/** The value @p path names, looked up from the innermost of @p stack outwards; nullptr when missing. */
const Json* lookup(const std::vector<const Json*>& stack, const std::vector<std::string>& path) {
  if (path.empty()) return stack.back();
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    const Json* v = *it;
    if (!v->is_object()) continue;
    auto first = v->find(path[0]);
    if (first == v->end()) continue;
    v = &*first;
    for (std::size_t i = 1; i < path.size(); ++i) {
      if (!v->is_object()) return nullptr;
      auto next = v->find(path[i]);
      if (next == v->end()) return nullptr;
      v = &*next;
    }
    return v;
  }
  return nullptr;
}

bool truthy(const Json* v) {
  if (!v || v->is_null()) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_array() || v->is_string()) return !v->empty();
  if (v->is_number()) return v->get<double>() != 0;
  return true;  // an object
}

void append_value(std::string& out, const Json* v, bool escape) {
  if (!v || v->is_null() || v->is_object() || v->is_array()) return;
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (escape)
      append_html_escaped(out, s);
    else
      out += s;
    return;
  }
  out += v->dump();  // numbers and booleans: nothing to escape
}

/** One render's walk: the value stack and what it has cost so far. */
struct Walk {
  const std::string& name;
  std::vector<const Json*> stack;
  std::string out;
  std::size_t steps = 0;

  void charge() {
    if (++steps > kMaxRenderSteps || out.size() > kMaxRenderBytes)
      throw TemplateTooCostly(name + ": rendering stopped after " + std::to_string(steps) + " steps and " +
                              std::to_string(out.size()) +
                              " bytes (sections nested over the same list multiply)");
  }
};

void render_nodes(const std::vector<Node>& nodes, Walk& w) {
  std::vector<const Json*>& stack = w.stack;
  std::string& out = w.out;
  for (const Node& n : nodes) {
    w.charge();
    switch (n.kind) {
      case Node::Kind::Text:
        out += n.text;
        break;
      case Node::Kind::Escaped:
      case Node::Kind::Raw:
        append_value(out, lookup(stack, n.path), n.kind == Node::Kind::Escaped);
        break;
      case Node::Kind::Section: {
        const Json* v = lookup(stack, n.path);
        if (!truthy(v)) break;
        if (v->is_array()) {
          for (const Json& element : *v) {
            stack.push_back(&element);
            render_nodes(n.children, w);
            stack.pop_back();
          }
        } else {
          stack.push_back(v);
          render_nodes(n.children, w);
          stack.pop_back();
        }
        break;
      }
      case Node::Kind::Inverted:
        if (!truthy(lookup(stack, n.path))) render_nodes(n.children, w);
        break;
    }
  }
}

}  // namespace

void append_html_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_html_escaped(out, text);
  return out;
}

std::optional<PageTemplate> PageTemplate::parse(std::string_view text, const std::string& name,
                                                std::string& error) {
  // Open sections: the node list being filled, and the section node (name, line) it belongs to.
  struct Open {
    std::vector<Node>* into;
    std::string name;
    int line;
  };
  auto root = std::make_shared<std::vector<Node>>();
  std::vector<Open> open{{root.get(), "", 0}};
  int line = 1;
  std::size_t pos = 0;
  auto fail = [&](int at, const std::string& what) {
    error = name + ":" + std::to_string(at) + ": " + what;
    return std::nullopt;
  };
  while (pos < text.size()) {
    const std::size_t tag = text.find("{{", pos);
    const std::string_view literal = text.substr(pos, tag == std::string_view::npos ? tag : tag - pos);
    if (!literal.empty()) {
      open.back().into->push_back(Node{Node::Kind::Text, std::string(literal), {}, {}});
      line += static_cast<int>(std::count(literal.begin(), literal.end(), '\n'));
    }
    if (tag == std::string_view::npos) break;
    const bool triple = text.substr(tag, 3) == "{{{";
    const std::string_view close_mark = triple ? "}}}" : "}}";
    const std::size_t body = tag + (triple ? 3 : 2);
    const std::size_t close = text.find(close_mark, body);
    if (close == std::string_view::npos) return fail(line, "a tag opened here is never closed");
    const std::string_view inside = text.substr(body, close - body);
    const int tag_line = line;
    line += static_cast<int>(std::count(inside.begin(), inside.end(), '\n'));
    pos = close + close_mark.size();
    if (triple) {
      const std::string n = trim(inside);
      if (!valid_name(n)) return fail(tag_line, "invalid name '" + safe_utf8(n) + "' in {{{ }}}");
      open.back().into->push_back(Node{Node::Kind::Raw, n, split_name(n), {}});
      continue;
    }
    const char sigil = inside.empty() ? '\0' : inside.front();
    if (sigil == '!') continue;
    const bool has_sigil = sigil == '#' || sigil == '^' || sigil == '/';
    const std::string n = trim(has_sigil ? inside.substr(1) : inside);
    if (!valid_name(n)) return fail(tag_line, "invalid name '" + safe_utf8(n) + "'");
    if (sigil == '#' || sigil == '^') {
      auto& list = *open.back().into;
      list.push_back(Node{sigil == '#' ? Node::Kind::Section : Node::Kind::Inverted, n, split_name(n), {}});
      open.push_back(Open{&list.back().children, n, tag_line});
    } else if (sigil == '/') {
      if (open.size() == 1) return fail(tag_line, "{{/" + n + "}} closes no section");
      if (open.back().name != n)
        return fail(tag_line, "{{/" + n + "}} closes {{#" + open.back().name + "}} of line " +
                                  std::to_string(open.back().line));
      open.pop_back();
    } else {
      open.back().into->push_back(Node{Node::Kind::Escaped, n, split_name(n), {}});
    }
  }
  if (open.size() > 1) return fail(open.back().line, "section {{#" + open.back().name + "}} is never closed");
  PageTemplate t;
  t.nodes_ = std::move(root);
  t.name_ = name;
  return t;
}

std::string PageTemplate::render(const Json& data) const {
  if (!nodes_) return {};
  Walk w{name_, {&data}, {}, 0};
  render_nodes(*nodes_, w);
  return std::move(w.out);
}

}  // namespace sluice::srp
