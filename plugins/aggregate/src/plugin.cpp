// The `aggregate` plugin family: transform `aggregate`.
#include <sluice/sdk.hpp>

#include <algorithm>

#include "aggregate_settings.hpp"
#include "partitions.hpp"

namespace sluice::aggregate {
namespace {

class Aggregate final : public Transform {
 public:
  Aggregate(PluginContext& ctx, const Config& config)
      : ctx_(ctx),
        settings_(load_settings(config)),
        table_(settings_, ctx.log()),
        groups_(ctx.metrics().gauge("sluice_aggregate_groups", "Groups open (held) now")),
        closed_(ctx.metrics().counter("sluice_aggregate_emitted_total", "Groups emitted",
                                      {{"reason", "closed"}})),
        early_(ctx.metrics().counter("sluice_aggregate_emitted_total", "Groups emitted",
                                     {{"reason", "max_groups"}})),
        flushed_(
            ctx.metrics().counter("sluice_aggregate_emitted_total", "Groups emitted", {{"reason", "flush"}})),
        lost_(ctx.metrics().counter(
            "sluice_aggregate_lost_total",
            "Outputs not emitted because their partition was revoked before their window's offset was "
            "recorded (failed: the next owner counts their events again)")),
        skipped_(
            ctx.metrics().counter("sluice_aggregate_skipped_values_total",
                                  "Values an aggregation could not use (not a number for sum, min, max)")) {}

  void process(Batch& batch) override {
    Batch out;
    const std::int64_t now = now_ms();
    for (Event& e : batch) {
      try {
        table_.add(e, now, out);
      } catch (const ParseError& err) {
        ctx_.dead_letter(std::move(e), std::string("aggregate: invalid JSON: ") + err.what());
      }
    }
    if (settings_.time == TimeMode::Event) table_.close_due(now, out);
    batch = std::move(out);
    publish();
  }

  std::chrono::milliseconds tick_interval() const override {
    // A closed window waits at most a tenth of its length (at most 250 ms) to be emitted.
    return std::clamp(settings_.window / 10, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
  }

  void tick(Batch& out) override {
    table_.close_due(now_ms(), out);
    publish();
  }

  void flush(Batch& out) override {
    table_.flush(out);
    publish();
  }

 private:
  void publish() {
    groups_.set(static_cast<double>(table_.groups()));
    sync(closed_, EmitReason::Closed, last_[0]);
    sync(early_, EmitReason::MaxGroups, last_[1]);
    sync(flushed_, EmitReason::Flush, last_[2]);
    if (const auto l = table_.lost(); l > last_lost_) {
      lost_.inc(l - last_lost_);
      last_lost_ = l;
    }
    if (const auto s = table_.skipped_values(); s > last_skipped_) {
      skipped_.inc(s - last_skipped_);
      last_skipped_ = s;
    }
  }
  void sync(Counter& c, EmitReason r, std::uint64_t& last) {
    const std::uint64_t n = table_.emitted(r);
    if (n > last) c.inc(n - last);
    last = n;
  }

  PluginContext& ctx_;
  Settings settings_;
  Partitions table_;
  Gauge& groups_;
  Counter& closed_;
  Counter& early_;
  Counter& flushed_;
  Counter& lost_;
  Counter& skipped_;
  std::uint64_t last_[3] = {0, 0, 0};
  std::uint64_t last_lost_ = 0;
  std::uint64_t last_skipped_ = 0;
};

}  // namespace
}  // namespace sluice::aggregate

namespace {
namespace agg = sluice::aggregate;
}  // namespace

SLUICE_PLUGIN_LIBRARY("aggregate",
                      sluice::PluginDescriptor{
                          sizeof(sluice::PluginDescriptor), sluice::PluginKind::Transform, "aggregate",
                          "Counts, sums, distinct counts ... per group over tumbling windows.", agg::kDocs,
                          &agg::schema,
                          [](sluice::PluginContext& ctx, const sluice::Config& cfg) -> sluice::Plugin* {
                            return new agg::Aggregate(ctx, cfg);
                          },
                          [](sluice::Plugin* p) noexcept { delete p; }, &agg::check})
