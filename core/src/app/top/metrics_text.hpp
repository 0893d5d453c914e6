#pragma once
// The Prometheus text exposition format (version 0.0.4), as `sluice top` reads /metrics: one sample
// per line, `name{label="value",...} value [timestamp]`; comments and lines it cannot read are skipped,
// never fatal (the endpoint may be any server the user points `top` at).
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::app::top {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/** The samples of @p text, in order; unreadable lines are skipped. */
std::vector<Sample> parse_metrics_text(std::string_view text);

}  // namespace sluice::app::top
