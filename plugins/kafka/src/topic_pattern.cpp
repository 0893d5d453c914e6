// The size bound of topic patterns (see topic_pattern.hpp).
#include "topic_pattern.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

namespace sluice::kafka {
namespace {

/** The factor a quantifier at @p i multiplies its operand by (advancing @p i past it); 0 when there is none.
 */
double quantifier(const std::string& p, std::size_t& i) {
  if (i >= p.size()) return 0;
  const char c = p[i];
  if (c == '*' || c == '?') {
    ++i;
    return 1;
  }
  if (c == '+') {
    ++i;
    return 2;
  }
  if (c != '{') return 0;
  // {n}, {n,}, {n,m}: spelled out as max(n, m) + 1 copies at most.
  std::size_t j = i + 1;
  double most = 0;
  while (j < p.size() && (std::isdigit(static_cast<unsigned char>(p[j])) || p[j] == ',')) {
    if (std::isdigit(static_cast<unsigned char>(p[j]))) {
      double n = 0;
      while (j < p.size() && std::isdigit(static_cast<unsigned char>(p[j])) && n < 1e9)
        n = n * 10 + (p[j++] - '0');
      most = std::max(most, n);
    } else {
      ++j;
    }
  }
  if (j >= p.size() || p[j] != '}') return 0;  // not a bound: a literal '{' (regcomp decides)
  i = j + 1;
  return most + 1;
}

}  // namespace

double topic_pattern_nodes(const std::string& p) {
  // One open group per level: the size of its finished items, and of the item before a quantifier.
  struct Level {
    double done = 0;
    double last = 0;
  };
  std::vector<Level> stack(1);
  auto finish_item = [&](double size) {
    Level& top = stack.back();
    top.done += top.last;
    top.last = size;
  };
  std::size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '(') {
      finish_item(0);
      stack.emplace_back();
      ++i;
      continue;
    }
    if (c == ')' && stack.size() > 1) {
      const double inner = stack.back().done + stack.back().last + 1;
      stack.pop_back();
      ++i;
      finish_item(inner);
    } else if (c == '|') {
      ++i;
      finish_item(1);
    } else if (c == '[') {
      // A bracket expression is one node, whatever it lists.
      std::size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;
      while (j < p.size() && p[j] != ']') j += (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') ? 2 : 1;
      i = std::min(p.size(), j + 1);
      finish_item(1);
    } else if (c == '\\') {
      i = std::min(p.size(), i + 2);
      finish_item(1);
    } else if (double f = quantifier(p, i); f > 0) {
      stack.back().last = std::max(1.0, stack.back().last) * f + 1;
      while (double g = quantifier(p, i)) stack.back().last = stack.back().last * g + 1;
    } else {
      ++i;
      finish_item(1);
    }
    if (stack.back().done + stack.back().last > kMaxTopicPatternNodes) return kMaxTopicPatternNodes * 2;
  }
  double total = 0;
  for (const Level& l : stack) total += l.done + l.last + 1;
  return total;
}

}  // namespace sluice::kafka
