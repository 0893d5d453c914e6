#pragma once
// Topic patterns (`topics: ["^page-.*"]`): librdkafka compiles them with POSIX regcomp, and glibc's
// regcomp copies a repeated subexpression once per repetition it must spell out (`x+` is `xx*`,
// `x{3,5}` is `xxxx?x?`), so nested repetitions grow its memory exponentially: `^(b+++...)` with a
// hundred pluses, or `((a+)+)+...`, takes gigabytes in `sluice validate` and again in librdkafka.
#include <cstddef>
#include <string>

namespace sluice::kafka {

/** The most pattern nodes regcomp may build for one topic pattern. */
inline constexpr double kMaxTopicPatternNodes = 100000;

/**
 * An upper bound of the nodes regcomp builds for POSIX extended regular expression @p pattern
 * (sizes multiply through nested repetitions), or a value above kMaxTopicPatternNodes as soon as
 * it is known to exceed it. Malformed syntax is left to regcomp to report.
 */
double topic_pattern_nodes(const std::string& pattern);

}  // namespace sluice::kafka
