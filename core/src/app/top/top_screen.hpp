#pragma once
// The lines `sluice top` shows for a snapshot, as text: the terminal view draws them with ncurses,
// and without a terminal they are printed as they are.
#include <string>
#include <vector>

#include "app/top/top_model.hpp"

namespace sluice::app::top {

struct Line {
  enum class Style { Plain, Header, Pipeline, Warning };
  std::string text;
  Style style = Style::Plain;
};

struct View {
  std::string admin;  ///< the address polled
  SortKey sort = SortKey::Name;
  std::string filter;
  std::size_t width = 80;
  std::string error;  ///< the last poll's failure, when it failed
};

/** The screen for @p s: a header, one line per pipeline and one per component, cut to view.width. */
std::vector<Line> render(const Snapshot& s, const View& view);

}  // namespace sluice::app::top
