// Metric families keyed by name, series keyed by their rendered label set;
// values are atomics so hot paths never take the registry lock.
#include "metrics_registry.hpp"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <variant>

namespace sluice::core {

namespace {

enum class Type { Counter, Gauge, Histogram };

const char* type_name(Type t) {
  switch (t) {
    case Type::Counter:
      return "counter";
    case Type::Gauge:
      return "gauge";
    case Type::Histogram:
      return "histogram";
  }
  return "untyped";
}

void escape_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

void escape_help(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

/** Label names must match [a-zA-Z_][a-zA-Z0-9_]*; anything else becomes '_'. */
std::string sanitize_name(std::string_view n) {
  std::string s(n);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) s[i] = '_';
  }
  if (s.empty()) s = "_";
  return s;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

/** Rendered `a="x",b="y"` (no braces). */
std::string render_labels(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += sanitize_name(k);
    out += "=\"";
    escape_label_value(out, v);
    out += '"';
  }
  return out;
}

struct Series {
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
};

struct Family {
  Type type;
  std::string help;
  std::map<std::string, Series> series;  // by rendered labels
};

void append_sample(std::string& out, const std::string& name, const std::string& labels,
                   const std::string& value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

struct ProcStat {
  double cpu_seconds = 0;
  long threads = 0;
  long rss_pages = 0;
};

ProcStat read_proc_self() {
  ProcStat st;
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name (field 2) may contain spaces: fields restart after the last ')'.
  const auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(text.substr(close + 2));
    std::string field;
    // Field 3 is the first after ')': utime is 14, stime 15, num_threads 20, rss 24.
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 24 && (in >> field); ++i) {
      if (i == 14)
        utime = std::stoul(field);
      else if (i == 15)
        stime = std::stoul(field);
      else if (i == 20)
        st.threads = std::stol(field);
      else if (i == 24)
        st.rss_pages = std::stol(field);
    }
    const long ticks = sysconf(_SC_CLK_TCK);
    if (ticks > 0) st.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks);
  }
  return st;
}

/** The registry's state, reachable from the scoped views. */
struct Store {
  mutable std::mutex mutex;
  std::map<std::string, Family> families;

  Family& family(const std::string& name, const std::string& help, Type type) {
    auto [it, inserted] = families.try_emplace(name, Family{type, help, {}});
    if (!inserted && it->second.type != type)
      throw std::invalid_argument("metric " + name + " is already registered as a " +
                                  type_name(it->second.type));
    return it->second;
  }
};

class ScopedMetrics final : public Metrics {
 public:
  ScopedMetrics(Store& impl, Labels base) : impl_(impl), base_(std::move(base)) {}

  Counter& counter(const std::string& name, const std::string& help, const Labels& labels) override {
    std::lock_guard lock(impl_.mutex);
    auto& s = series(name, help, Type::Counter, labels);
    if (!s.counter) s.counter = std::make_unique<Counter>();
    return *s.counter;
  }
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels) override {
    std::lock_guard lock(impl_.mutex);
    auto& s = series(name, help, Type::Gauge, labels);
    if (!s.gauge) s.gauge = std::make_unique<Gauge>();
    return *s.gauge;
  }
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                       const Labels& labels) override {
    std::lock_guard lock(impl_.mutex);
    auto& s = series(name, help, Type::Histogram, labels);
    if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(bounds));
    return *s.histogram;
  }

 private:
  Series& series(const std::string& name, const std::string& help, Type type, const Labels& labels) {
    Family& f = impl_.family(sanitize_name(name), help, type);
    Labels all = base_;
    all.insert(all.end(), labels.begin(), labels.end());
    return f.series[render_labels(all)];
  }

  Store& impl_;
  Labels base_;
};

}  // namespace

struct MetricsRegistry::Impl : Store {};

MetricsRegistry::MetricsRegistry() : impl_(std::make_unique<Impl>()) {}
MetricsRegistry::~MetricsRegistry() = default;

std::unique_ptr<Metrics> MetricsRegistry::scoped(const std::string& pipeline, const std::string& component) {
  Labels base;
  if (!pipeline.empty()) base.emplace_back("pipeline", pipeline);
  if (!component.empty()) base.emplace_back("component", component);
  return std::make_unique<ScopedMetrics>(*impl_, std::move(base));
}

std::string MetricsRegistry::render_prometheus() const {
  std::string out;
  out.reserve(16384);
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& [name, f] : impl_->families) {
      if (f.series.empty()) continue;
      out += "# HELP " + name + ' ';
      escape_help(out, f.help);
      out += "\n# TYPE " + name + ' ' + type_name(f.type) + '\n';
      for (const auto& [labels, s] : f.series) {
        if (f.type == Type::Counter) {
          append_sample(out, name, labels, std::to_string(s.counter->value()));
        } else if (f.type == Type::Gauge) {
          append_sample(out, name, labels, std::to_string(s.gauge->value()));
        } else {
          const Histogram& h = *s.histogram;
          const auto counts = h.counts();
          const auto& bounds = h.bounds();
          const std::string prefix = labels.empty() ? std::string() : labels + ',';
          std::uint64_t cumulative = 0;
          for (std::size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            const std::string le = i < bounds.size() ? format_number(bounds[i]) : "+Inf";
            append_sample(out, name + "_bucket", prefix + "le=\"" + le + '"', std::to_string(cumulative));
          }
          append_sample(out, name + "_sum", labels, format_number(h.sum()));
          // _count equals the +Inf bucket, read from the same snapshot so they never disagree.
          append_sample(out, name + "_count", labels, std::to_string(cumulative));
        }
      }
    }
  }

  const ProcStat st = read_proc_self();
  const long page = sysconf(_SC_PAGESIZE);
  out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n";
  out += "# TYPE process_resident_memory_bytes gauge\n";
  out += "process_resident_memory_bytes " + std::to_string(st.rss_pages * (page > 0 ? page : 4096)) + '\n';
  out += "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n";
  out += "# TYPE process_cpu_seconds_total counter\n";
  out += "process_cpu_seconds_total " + format_number(st.cpu_seconds) + '\n';
  out += "# HELP process_threads Number of OS threads in the process.\n";
  out += "# TYPE process_threads gauge\n";
  out += "process_threads " + std::to_string(st.threads) + '\n';
  return out;
}

}  // namespace sluice::core
