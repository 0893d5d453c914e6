#include "path_confinement.hpp"

#include <sluice/event.hpp>

namespace sluice::file {

std::string literal_dir_prefix(const std::string& text) {
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{') {
      if (i + 1 < text.size() && text[i + 1] == '{') {
        literal += '{';
        ++i;
        continue;
      }
      break;
    }
    if (text[i] == '}' && i + 1 < text.size() && text[i + 1] == '}') ++i;  // "}}" renders as '}'
    literal += text[i];
  }
  const auto slash = literal.rfind('/');
  return slash == std::string::npos ? std::string() : literal.substr(0, slash + 1);
}

std::optional<std::string> path_escape(std::string_view prefix, std::string_view rendered) {
  const auto shown = [&] { return "path '" + safe_utf8(rendered) + "'"; };
  if (rendered.find('\0') != std::string_view::npos) return shown() + " has a NUL byte";
  if (rendered.substr(0, prefix.size()) != prefix)
    return shown() + " is not under the template's directory '" + safe_utf8(prefix) + "'";
  const std::string_view rest = rendered.substr(prefix.size());
  if (!rest.empty() && rest.front() == '/')
    return shown() + " is absolute where the template's directory '" + safe_utf8(prefix) + "' ends";
  for (std::size_t start = 0; start <= rest.size();) {
    const std::size_t end = std::min(rest.find('/', start), rest.size());
    if (rest.substr(start, end - start) == "..")
      return shown() + " has a '..' component: it would leave the template's directory '" +
             safe_utf8(prefix.empty() ? std::string_view(".") : prefix) + "'";
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace sluice::file
