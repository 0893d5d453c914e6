// The lines of `sluice top` (see top_screen.hpp).
#include "app/top/top_screen.hpp"

#include <cstdio>

namespace sluice::app::top {
namespace {

std::string uptime(double seconds) {
  // From the daemon's /status, read as any JSON number: NaN, negative or past `long` is not a time.
  if (!(seconds >= 0 && seconds < 1e15)) return "?";
  const long s = static_cast<long>(seconds);
  char buf[32];
  if (s >= 86400)
    std::snprintf(buf, sizeof buf, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
  else if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

/** @p s in a column of @p width: right-aligned ones keep at least one space before them. */
std::string cell(const std::string& s, std::size_t width, bool left = false) {
  const std::size_t room = left ? width : width - 1;
  const std::string t = s.size() > room ? s.substr(0, room) : s;
  const std::string pad(width - t.size(), ' ');
  return left ? t + pad : pad + t;
}

std::string fit(std::string s, std::size_t width) {
  if (s.size() > width) s.resize(width);
  return s;
}

/** The component's name in its pipeline: the id without "pipeline.role." ("kafka", "file", "default"). */
std::string short_name(const ComponentRow& c) {
  const auto dot = c.id.rfind('.');
  return dot == std::string::npos ? c.id : c.id.substr(dot + 1);
}

}  // namespace

std::vector<Line> render(const Snapshot& s, const View& view) {
  std::vector<Line> out;
  const std::size_t w = view.width;
  std::string head = "sluice " + (s.version.empty() ? std::string("?") : s.version) + " at " + view.admin;
  if (view.error.empty()) head += "  up " + uptime(s.uptime) + (s.ready ? "  ready" : "  NOT READY");
  head += "  sort: " + std::string(to_string(view.sort));
  if (!view.filter.empty()) head += "  filter: " + view.filter;
  out.push_back({fit(head, w), Line::Style::Header});
  if (!view.error.empty()) out.push_back({fit("cannot poll: " + view.error, w), Line::Style::Warning});
  out.push_back(
      {fit(cell("COMPONENT", 19, true) + cell("IN/s", 7) + cell("OUT/s", 7) + cell("FAIL/s", 7) +
               cell("DLQ/s", 6) + cell("QUEUE", 12) + cell("LAT ms", 7) + cell("TOTAL", 8) + " NOTES",
           w),
       Line::Style::Header});
  for (const PipelineRow* p : arrange(s, view.sort, view.filter)) {
    std::string title = p->name + "  " + p->state;
    const bool bad = !p->problem.empty() || (p->state != "running" && p->state != "finished");
    if (!p->problem.empty()) title += ": " + p->problem;
    out.push_back({fit(title, w), bad ? Line::Style::Warning : Line::Style::Pipeline});
    for (const ComponentRow& c : p->components) {
      const std::string role = c.role == "dead_letter" ? "dlq" : c.role;
      std::string queue = "-";
      if (c.queue_max > 0) queue = human(c.queue_depth) + "/" + human(c.queue_max);
      char lat[16] = "-";
      if (c.latency_ms >= 0)
        std::snprintf(lat, sizeof lat, c.latency_ms < 10 ? "%.2f" : "%.0f", c.latency_ms);
      // A source has no input counter of its own: its rate is what it emits.
      const std::string in = c.role == "source" ? "" : human(c.in_rate);
      std::string line = cell("  " + role + " " + short_name(c), 19, true) + cell(in, 7) +
                         cell(human(c.out_rate), 7) + cell(human(c.failed_rate), 7) +
                         cell(human(c.dead_lettered_rate), 6) + cell(queue, 12) + cell(lat, 7) +
                         cell(human(c.out), 8);
      // Notes that do not fit beside the figures get a line of their own below them.
      std::string below;
      if (!c.notes.empty() && line.size() + 1 + c.notes.size() <= w)
        line += " " + c.notes;
      else if (!c.notes.empty())
        below = "      " + c.notes;
      const bool warn = c.failed_rate > 0 || c.dead_lettered_rate > 0 ||
                        c.notes.find("STUCK") != std::string::npos ||
                        c.notes.find("PAUSED") != std::string::npos;
      out.push_back({fit(line, w), warn ? Line::Style::Warning : Line::Style::Plain});
      if (!below.empty()) out.push_back({fit(below, w), warn ? Line::Style::Warning : Line::Style::Plain});
    }
  }
  if (s.pipelines.empty() && view.error.empty()) out.push_back({"no pipelines", Line::Style::Plain});
  return out;
}

}  // namespace sluice::app::top
