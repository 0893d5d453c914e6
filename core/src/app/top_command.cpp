// `sluice top`: a running daemon's pipelines and components, refreshed every second from its admin
// endpoint (/status and /metrics). In a terminal it is an ncurses view with keys; otherwise it prints
// the same lines once a second (or --iterations times).
#include <curses.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "app/admin_client.hpp"
#include "app/commands.hpp"
#include "app/top/top_screen.hpp"
#include "sluice/event.hpp"

namespace sluice::app {
namespace {

using namespace std::chrono_literals;
using top::Line;

/** GET @p path from @p admin; throws with a printable reason. */
std::string get(const std::string& admin, const std::string& path) {
  AdminAnswer a = admin_request(admin, "GET", path);
  if (a.status != 200 && path != "/status")
    throw std::runtime_error(path + " answered " + std::to_string(a.status));
  return a.body;
}

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/** One poll: the new snapshot, or the error (and the previous snapshot kept). */
struct Poller {
  std::string admin;
  top::Snapshot last;
  bool have = false;
  std::string error;

  void poll() {
    try {
      const std::string status_text = get(admin, "/status");
      const std::string metrics_text = get(admin, "/metrics");
      const auto status = nlohmann::json::parse(status_text, nullptr, false);
      if (status.is_discarded() || !status.is_object())
        throw std::runtime_error("/status is not a JSON object");
      last = top::build_snapshot(status, top::parse_metrics_text(metrics_text), seconds_now(),
                                 have ? &last : nullptr);
      have = true;
      error.clear();
    } catch (const std::exception& e) {
      error = safe_utf8(e.what());
    }
  }
};

int plain(Poller& poller, const CliOptions& opts) {
  top::View view{poller.admin, top::SortKey::Name, "", 200, ""};
  poller.poll();  // the first poll gives totals; rates need a second
  for (long i = 0; opts.iterations <= 0 || i < opts.iterations; ++i) {
    std::this_thread::sleep_for(1s);
    poller.poll();
    view.error = poller.error;
    for (const Line& l : top::render(poller.last, view)) std::cout << l.text << "\n";
    std::cout << std::endl;
    if (!std::cout) return exit_failure;  // the reader went away
  }
  return poller.have ? exit_ok : exit_failure;
}

int terminal(Poller& poller, const CliOptions& opts) {
  initscr();
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  curs_set(0);
  if (has_colors()) {
    start_color();
    use_default_colors();
    init_pair(1, COLOR_RED, -1);
    init_pair(2, COLOR_CYAN, -1);
  }
  timeout(100);
  top::View view{poller.admin, top::SortKey::OutRate, "", 80, ""};
  double next_poll = 0;
  long polls = 0;
  for (;;) {
    if (seconds_now() >= next_poll) {
      poller.poll();
      ++polls;
      next_poll = seconds_now() + 1;
      view.error = poller.error;
      view.width = static_cast<std::size_t>(std::max(COLS, 20));
      erase();
      int y = 0;
      for (const Line& l : top::render(poller.last, view)) {
        if (y >= LINES - 1) break;
        const int attr = l.style == Line::Style::Header     ? A_BOLD
                         : l.style == Line::Style::Pipeline ? (has_colors() ? COLOR_PAIR(2) : 0) | A_BOLD
                         : l.style == Line::Style::Warning  ? (has_colors() ? COLOR_PAIR(1) : A_STANDOUT)
                                                            : 0;
        attron(attr);
        mvaddnstr(y++, 0, l.text.c_str(), COLS);
        attroff(attr);
      }
      attron(A_REVERSE);
      mvaddnstr(LINES - 1, 0, " q quit  s sort  / filter  (refreshed every second)", COLS);
      attroff(A_REVERSE);
      refresh();
      if (opts.iterations > 0 && polls > opts.iterations) break;
    }
    const int ch = getch();
    if (ch == 'q' || ch == 'Q') break;
    if (ch == 's' || ch == 'S') {
      view.sort = top::next(view.sort);
      next_poll = 0;
    } else if (ch == '/') {
      mvaddstr(LINES - 1, 0, "filter pipelines (empty: all): ");
      clrtoeol();
      echo();
      curs_set(1);
      timeout(-1);
      char buf[128] = {0};
      getnstr(buf, sizeof buf - 1);
      noecho();
      curs_set(0);
      timeout(100);
      view.filter = buf;
      next_poll = 0;
    } else if (ch == KEY_RESIZE) {
      next_poll = 0;
    }
  }
  endwin();
  return poller.have ? exit_ok : exit_failure;
}

}  // namespace

int top_command(const CliOptions& opts) {
  Poller poller;
  poller.admin = admin_address(opts);
  if (::isatty(STDOUT_FILENO) && ::isatty(STDIN_FILENO) && std::getenv("TERM")) return terminal(poller, opts);
  return plain(poller, opts);
}

}  // namespace sluice::app
