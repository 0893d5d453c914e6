// `stdin` source, `stdout` and `null` sinks.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <sluice/lines.hpp>

#include "plugins.hpp"

namespace sluice_basic {
namespace {

class Stdin : public sluice::Source {
 public:
  Stdin(sluice::PluginContext&, const sluice::Config& cfg) : lines_(cfg, "stdin") {}

  void run(sluice::SourceContext& ctx) override {
    std::string line;
    std::uint64_t lineno = 0;
    sluice::Batch batch;
    auto flush = [&] {
      if (batch.empty()) return true;
      bool ok = ctx.emit(batch);
      batch.clear();
      return ok;
    };
    // getline blocks: a pending line is emitted when input pauses only once the batch fills or input ends,
    // so keep batches small when reading interactively (batch_size: 1).
    while (!ctx.stopping() && std::getline(std::cin, line)) {
      ++lineno;
      sluice::Event e;
      std::string reason;
      switch (lines_.decode(line, line.size(), lineno, e, reason)) {
        case sluice::LineDecoder::Result::Skip:
          continue;
        case sluice::LineDecoder::Result::DeadLetter:
          ctx.dead_letter(std::move(e), std::move(reason));
          continue;
        case sluice::LineDecoder::Result::Event:
          break;
      }
      batch.push_back(std::move(e));
      if (batch.size() >= lines_.batch_size() && !flush()) return;
    }
    flush();
  }

 private:
  sluice::LineDecoder lines_;
};

class Stdout : public sluice::Sink {
 public:
  /** The factory-side check of its config (validate and run). */
  static void check(const sluice::Config& cfg, sluice::ConfigIssues& issues);

  Stdout(sluice::PluginContext&, const sluice::Config& cfg)
      : stream_(cfg.str("stream") == "stderr" ? stderr : stdout) {
    if (cfg.str("format") == "template") {
      std::string err;
      auto t = sluice::Template::parse(cfg.str("template"), &err);
      if (!t) throw std::runtime_error(cfg.where("template") + ": " + err);
      template_ = std::move(*t);
    }
  }

  sluice::WriteResult write(sluice::Batch& batch) override {
    buffer_.clear();
    for (const auto& e : batch) {
      if (template_) {
        try {
          template_->render_to(e, buffer_);
        } catch (const sluice::ParseError& err) {
          return per_event_error(batch, err.what());
        }
      } else {
        buffer_ += e.payload();
      }
      buffer_ += '\n';
    }
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), stream_) != buffer_.size() ||
        std::fflush(stream_) != 0)
      return sluice::WriteResult::retry(std::string("write to standard output failed: ") +
                                        std::strerror(errno));
    return sluice::WriteResult::ok();
  }

 private:
  // A payload that is not JSON cannot be rendered; write the others, dead-letter it.
  sluice::WriteResult per_event_error(sluice::Batch& batch, const std::string&) {
    sluice::WriteResult r;
    buffer_.clear();
    for (const auto& e : batch) {
      std::string err;
      if (template_->uses_fields() && !e.parse(&err)) {
        r.per_event.emplace_back(sluice::Outcome::Error, "cannot render template: invalid JSON: " + err);
        continue;
      }
      template_->render_to(e, buffer_);
      buffer_ += '\n';
      r.per_event.emplace_back(sluice::Outcome::Ok, "");
    }
    std::fwrite(buffer_.data(), 1, buffer_.size(), stream_);
    std::fflush(stream_);
    return r;
  }

  std::FILE* stream_;
  std::optional<sluice::Template> template_;
  std::string buffer_;
};

class Null : public sluice::Sink {
 public:
  Null(sluice::PluginContext& ctx, const sluice::Config&)
      : count_(ctx.metrics().counter("sluice_null_events_total", "Events discarded by the null sink")) {}
  sluice::WriteResult write(sluice::Batch& batch) override {
    count_.inc(batch.size());
    return sluice::WriteResult::ok();
  }

 private:
  sluice::Counter& count_;
};

}  // namespace

const sluice::Schema& stdin_schema() {
  static const sluice::Schema s = sluice::SchemaBuilder().with(&sluice::line_options).build();
  return s;
}
const char* const stdin_docs =
    "Reads standard input until end of file (a finite source: the daemon then drains and exits).";

const sluice::Schema& stdout_schema() {
  static const sluice::Schema s =
      sluice::SchemaBuilder()
          .option("format", sluice::OptionType::Enum)
          .choices({"json", "template"})
          .def("json")
          .doc("json: the event's payload per line; template: `template` rendered per line.")
          .option("template", sluice::OptionType::Template)
          .doc("Line template, e.g. \"{user_id}\\t{item_id}\".")
          .option("stream", sluice::OptionType::Enum)
          .choices({"stdout", "stderr"})
          .def("stdout")
          .doc("Which stream to write.")
          .build();
  return s;
}
const char* const stdout_docs = "Writes one line per event and flushes after every batch.";

const sluice::Schema& null_schema() {
  static const sluice::Schema s = sluice::SchemaBuilder().build();
  return s;
}
const char* const null_docs = "Counts events (`sluice_null_events_total`) and discards them; for benchmarks.";

void Stdout::check(const sluice::Config& cfg, sluice::ConfigIssues& issues) {
  if (cfg.str("format") == "template" && (!cfg.has("template") || cfg.str("template").empty()))
    issues.error(cfg, "format", "format template needs a `template`");
}

sluice::PluginDescriptor stdin_descriptor() {
  return sluice::describe<Stdin>(sluice::PluginKind::Source, "stdin", "Lines or NDJSON from standard input.",
                                 stdin_docs, &stdin_schema);
}

sluice::PluginDescriptor stdout_descriptor() {
  return sluice::describe<Stdout>(sluice::PluginKind::Sink, "stdout",
                                  "JSON lines or a line template to standard output.", stdout_docs,
                                  &stdout_schema);
}

sluice::PluginDescriptor null_descriptor() {
  return sluice::describe<Null>(sluice::PluginKind::Sink, "null", "Counts and discards events.", null_docs,
                                &null_schema);
}

}  // namespace sluice_basic
