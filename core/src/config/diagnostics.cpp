// Configuration errors, formatted the way compilers do so editors can jump
// to them: "file:line:col: path: message".
#include "config/diagnostics.hpp"

#include "sluice/event.hpp"

namespace sluice::core {

std::string Diagnostic::format() const {
  std::string out = file;
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
    if (column > 0) {
      out += ':';
      out += std::to_string(column);
    }
  }
  out += ": ";
  if (!path.empty()) {
    out += path;
    out += ": ";
  }
  out += message;
  return out;
}

void Diagnostics::add(std::string file, const YAML::Mark& mark, std::string path, std::string message) {
  Diagnostic d;
  d.file = std::move(file);
  if (!mark.is_null() && mark.line >= 0) {
    d.line = mark.line + 1;
    d.column = mark.column + 1;
  }
  d.path = std::move(path);
  d.message = std::move(message);
  add(std::move(d));
}

void Diagnostics::add(Diagnostic d) {
  for (std::string* text : {&d.file, &d.path, &d.message})
    if (!valid_utf8(*text)) *text = safe_utf8(*text);
  items_.push_back(std::move(d));
}

std::string Diagnostics::format() const {
  std::string out;
  for (const auto& d : items_) {
    out += d.format();
    out += '\n';
  }
  return out;
}

}  // namespace sluice::core
