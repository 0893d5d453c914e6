// `generate` source: events from a JSON template, for tests, demos and benchmarks.
#include "plugins.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <random>
#include <thread>

namespace sluice_basic {
namespace {

/** One piece of a dynamic string leaf. */
struct Piece {
  enum Kind { Literal, Seq, RandomInt, RandomChoice, Uuid, Now } kind = Literal;
  std::string text;                  ///< literal text
  std::int64_t min = 0, max = 0;     ///< RandomInt bounds
  std::vector<std::string> choices;  ///< RandomChoice values
};

/** A string leaf of the template that changes per event, with its path from the root. */
struct Leaf {
  std::vector<std::string> path;
  std::vector<Piece> pieces;
  bool numeric = false;  ///< the whole string is one {seq} / {random_int}: the value is a number
};

std::vector<Piece> compile_string(const std::string& s, const std::string& where) {
  std::vector<Piece> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t open = s.find('{', i);
    if (open == std::string::npos) {
      out.push_back(Piece{Piece::Literal, s.substr(i), 0, 0, {}});
      break;
    }
    if (open > i) out.push_back(Piece{Piece::Literal, s.substr(i, open - i), 0, 0, {}});
    std::size_t close = s.find('}', open);
    if (close == std::string::npos)
      throw std::runtime_error(where + ": unterminated '{' in template string '" + s + "'");
    std::string tok = s.substr(open + 1, close - open - 1);
    Piece p;
    if (tok == "seq") {
      p.kind = Piece::Seq;
    } else if (tok == "uuid") {
      p.kind = Piece::Uuid;
    } else if (tok == "now") {
      p.kind = Piece::Now;
    } else if (tok.rfind("random_int:", 0) == 0) {
      p.kind = Piece::RandomInt;
      std::string args = tok.substr(11);
      auto colon = args.find(':');
      try {
        if (colon == std::string::npos) throw std::invalid_argument("");
        p.min = std::stoll(args.substr(0, colon));
        p.max = std::stoll(args.substr(colon + 1));
      } catch (const std::exception&) {
        throw std::runtime_error(where + ": expected {random_int:MIN:MAX}, got {" + tok + "}");
      }
      if (p.min > p.max) throw std::runtime_error(where + ": {" + tok + "}: MIN is greater than MAX");
    } else if (tok.rfind("random_choice:", 0) == 0) {
      p.kind = Piece::RandomChoice;
      std::string args = tok.substr(14);
      std::size_t start = 0;
      while (true) {
        auto comma = args.find(',', start);
        p.choices.push_back(
            args.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      throw std::runtime_error(
          where + ": unknown generator {" + tok +
          "}; expected {seq}, {random_int:MIN:MAX}, {random_choice:a,b}, {uuid} or {now}");
    }
    out.push_back(std::move(p));
    i = close + 1;
  }
  return out;
}

void collect_leaves(const sluice::Json& j, std::vector<std::string>& path, std::vector<Leaf>& leaves) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      path.push_back(it.key());
      collect_leaves(it.value(), path, leaves);
      path.pop_back();
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      path.push_back(std::to_string(i));
      collect_leaves(j[i], path, leaves);
      path.pop_back();
    }
  } else if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s.find('{') == std::string::npos) return;
    std::string where = "template";
    for (auto& p : path) where += "." + p;
    Leaf leaf{path, compile_string(s, where), false};
    leaf.numeric = leaf.pieces.size() == 1 &&
                   (leaf.pieces[0].kind == Piece::Seq || leaf.pieces[0].kind == Piece::RandomInt);
    leaves.push_back(std::move(leaf));
  }
}

/** Counts acknowledgements; shared with the ack callbacks, which may outlive run(). */
struct AckCounts {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};
};

class Generate : public sluice::Source {
 public:
  /** The factory-side check of its config (validate and run). */
  static void check(const sluice::Config& cfg, sluice::ConfigIssues& issues);

  Generate(sluice::PluginContext& ctx, const sluice::Config& cfg)
      : log_(ctx.log()),
        endless_(cfg.integer("count") < 0),
        count_(endless_ ? 0 : static_cast<std::uint64_t>(cfg.integer("count"))),
        rate_(cfg.number("rate")),
        batch_size_(static_cast<std::size_t>(cfg.integer("batch_size"))),
        acked_metric_(
            ctx.metrics().counter("sluice_generate_acknowledged_total",
                                  "Generated events whose acknowledgement completed as delivered")) {
    prototype_ =
        cfg.has("template") ? sluice::yaml_to_json(cfg.node("template")) : sluice::Json{{"seq", "{seq}"}};
    std::vector<std::string> path;
    collect_leaves(prototype_, path, leaves_);
    compile_text();
    if (rate_ > 0) batch_size_ = std::max<std::size_t>(1, std::min<std::size_t>(batch_size_, rate_ / 20));
  }

  ~Generate() override {
    log_.info("acknowledged ", counts_->delivered.load(), " events (", counts_->failed.load(),
              " not delivered) of ", emitted_, " generated");
  }

  void run(sluice::SourceContext& ctx) override {
    std::mt19937_64 rng(std::random_device{}());
    const auto start = std::chrono::steady_clock::now();
    while (!ctx.stopping() && (endless_ || emitted_ < count_)) {
      std::size_t n = batch_size_;
      if (!endless_) n = std::min<std::uint64_t>(n, count_ - emitted_);
      if (rate_ > 0) {  // token bucket: wait until this batch is due
        auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(static_cast<double>(emitted_) / rate_));
        auto now = std::chrono::steady_clock::now();
        if (due > now && ctx.wait_stop(std::chrono::duration_cast<std::chrono::milliseconds>(due - now) +
                                       std::chrono::milliseconds(1)))
          break;
      }
      sluice::Batch batch;
      batch.reserve(n);
      auto counts = counts_;
      auto* metric = &acked_metric_;
      sluice::AckHandle ack = sluice::Ack::create([counts, metric, n](sluice::AckStatus st) {
        if (st == sluice::AckStatus::Failed) {
          counts->failed += n;
        } else {
          counts->delivered += n;
          metric->inc(n);
        }
      });
      const std::int64_t ts = sluice::now_ms();
      for (std::size_t i = 0; i < n; ++i) {
        sluice::Event e(render(emitted_ + i + 1, ts, rng));
        e.timestamp_ms = ts;
        e.ack = ack;
        batch.push_back(std::move(e));
      }
      ack.reset();
      if (!ctx.emit(batch)) {  // stopping: the batch was not taken, so it was not delivered
        for (auto& e : batch) e.ack.release(sluice::AckStatus::Failed);
        break;
      }
      emitted_ += n;
    }
  }

 private:
  static sluice::Json& walk(sluice::Json& j, const std::vector<std::string>& path) {
    sluice::Json* cur = &j;
    for (const auto& p : path) cur = cur->is_array() ? &(*cur)[std::stoul(p)] : &(*cur)[p];
    return *cur;
  }

  /**
   * Splits the template's JSON text around its dynamic leaves, so an event is
   * its payload text written straight from those pieces: one allocation per
   * event, no parsed fields. Stages that read fields scan or parse the text
   * lazily, and sinks that send the payload as it is do no JSON work at all.
   */
  void compile_text() {
    auto marker = [](std::size_t i) { return "\x01" + std::to_string(i) + "\x02"; };
    sluice::Json marked = prototype_;
    for (std::size_t i = 0; i < leaves_.size(); ++i) walk(marked, leaves_[i].path) = marker(i);
    const std::string text = marked.dump(-1, ' ', false, sluice::Json::error_handler_t::replace);
    std::vector<std::pair<std::size_t, std::size_t>> at;  // position in text, leaf
    for (std::size_t i = 0; i < leaves_.size(); ++i) {
      const std::string m = sluice::Json(marker(i)).dump();
      const std::size_t pos = text.find(m);
      if (pos == std::string::npos || text.find(m, pos + 1) != std::string::npos)
        throw std::runtime_error("template: control characters \\x01 and \\x02 are not allowed in it");
      at.emplace_back(pos, i);
    }
    std::sort(at.begin(), at.end());
    std::size_t from = 0;
    for (const auto& [pos, leaf] : at) {
      segments_.push_back(text.substr(from, pos - from));
      order_.push_back(leaf);
      from = pos + sluice::Json(marker(leaf)).dump().size();
    }
    segments_.push_back(text.substr(from));
    // Literal text inside dynamic strings is written as JSON string content.
    auto escape = [](const std::string& raw) {
      const std::string q = sluice::Json(raw).dump(-1, ' ', false, sluice::Json::error_handler_t::replace);
      return q.substr(1, q.size() - 2);
    };
    for (Leaf& leaf : leaves_)
      for (Piece& p : leaf.pieces) {
        if (p.kind == Piece::Literal) p.text = escape(p.text);
        for (auto& c : p.choices) c = escape(c);
      }
    size_hint_ = text.size() + 16;
  }

  static void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, end);
  }

  std::string render(std::uint64_t seq, std::int64_t ts, std::mt19937_64& rng) {
    std::string out;
    out.reserve(size_hint_);
    out += segments_[0];
    for (std::size_t k = 0; k < order_.size(); ++k) {
      const Leaf& leaf = leaves_[order_[k]];
      if (leaf.numeric) {
        const Piece& p = leaf.pieces[0];
        append_int(out, p.kind == Piece::Seq ? static_cast<std::int64_t>(seq) : random_int(p, rng));
      } else {
        out += '"';
        for (const Piece& p : leaf.pieces) append_piece(out, p, seq, ts, rng);
        out += '"';
      }
      out += segments_[k + 1];
    }
    if (out.size() + 16 > size_hint_) size_hint_ = out.size() + 16;
    return out;
  }

  static void append_piece(std::string& out, const Piece& p, std::uint64_t seq, std::int64_t ts,
                           std::mt19937_64& rng) {
    switch (p.kind) {
      case Piece::Literal:
        out += p.text;
        break;
      case Piece::Seq:
        append_int(out, static_cast<std::int64_t>(seq));
        break;
      case Piece::RandomInt:
        append_int(out, random_int(p, rng));
        break;
      case Piece::RandomChoice:
        out += p.choices[rng() % p.choices.size()];
        break;
      case Piece::Now:
        append_int(out, ts);
        break;
      case Piece::Uuid: {
        static const char* hex = "0123456789abcdef";
        std::uint64_t a = rng(), b = rng();
        for (int k = 0; k < 32; ++k) {
          if (k == 8 || k == 12 || k == 16 || k == 20) out += '-';
          std::uint64_t& w = k < 16 ? a : b;
          char c = hex[w & 15];
          if (k == 12) c = '4';
          if (k == 16) c = hex[8 | (w & 3)];
          out += c;
          w >>= 4;
        }
        break;
      }
    }
  }

  static std::int64_t random_int(const Piece& p, std::mt19937_64& rng) {
    const auto span = static_cast<std::uint64_t>(p.max - p.min) + 1;
    return p.min + static_cast<std::int64_t>(span == 0 ? rng() : rng() % span);
  }

  sluice::Logger& log_;
  bool endless_;
  std::uint64_t count_;
  double rate_;
  std::size_t batch_size_;
  sluice::Counter& acked_metric_;
  sluice::Json prototype_;
  std::vector<Leaf> leaves_;
  std::vector<std::string> segments_;  ///< the template's JSON text between dynamic leaves
  std::vector<std::size_t> order_;     ///< leaves in the order they appear in the text
  std::size_t size_hint_ = 64;
  std::uint64_t emitted_ = 0;
  std::shared_ptr<AckCounts> counts_ = std::make_shared<AckCounts>();
};

}  // namespace

const sluice::Schema& generate_schema() {
  static const sluice::Schema s =
      sluice::SchemaBuilder()
          .option("count", sluice::OptionType::Int)
          .def("-1")
          .range(-1, std::nullopt)
          .doc("How many events to generate; -1 (the default) generates without end, 0 none.")
          .option("rate", sluice::OptionType::Float)
          .def("0")
          .range(0, std::nullopt)
          .doc("Events per second; 0 is as fast as the pipeline takes them.")
          .option("template", sluice::OptionType::Any)
          .doc(
              "A map: the event. String values may contain {seq} (1, 2, ...), {random_int:MIN:MAX}, "
              "{random_choice:a,b,c}, {uuid} and {now} (ms since the epoch); a string that is exactly {seq} "
              "or {random_int:..} becomes a number. Default: {seq: \"{seq}\"}.")
          .option("batch_size", sluice::OptionType::Int)
          .def("1024")
          .range(1, 1000000)
          .doc("Events per emitted batch (smaller when a rate is set).")
          .build();
  return s;
}

const char* const generate_docs =
    "Generates events from a template, for tests, demos and benchmarks. One acknowledgement per batch; at "
    "exit "
    "it logs `acknowledged N events`.\n\n"
    "```yaml\nsource:\n  type: generate\n  count: 1000\n  rate: 100\n  template: {user_id: "
    "\"{random_int:1:1000}\", "
    "item_id: \"{random_int:1:5000}\"}\n```\n";

namespace {

/** True when a key or string of @p j holds \x01 or \x02, the markers compile_text() puts into the text. */
bool has_marker_bytes(const sluice::Json& j) {
  auto bad = [](const std::string& s) { return s.find_first_of("\x01\x02") != std::string::npos; };
  if (j.is_string()) return bad(j.get_ref<const std::string&>());
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (bad(it.key()) || has_marker_bytes(it.value())) return true;
  } else if (j.is_array()) {
    for (const auto& v : j)
      if (has_marker_bytes(v)) return true;
  }
  return false;
}

}  // namespace

void Generate::check(const sluice::Config& cfg, sluice::ConfigIssues& issues) {
  if (!cfg.has("template")) return;
  const sluice::Json prototype = sluice::yaml_to_json(cfg.node("template"));
  if (!prototype.is_object()) return issues.error(cfg, "template", "template must be a map");
  if (has_marker_bytes(prototype))
    return issues.error(cfg, "template", "control characters \\x01 and \\x02 are not allowed in it");
  try {
    std::vector<std::string> path;
    std::vector<Leaf> leaves;
    collect_leaves(prototype, path, leaves);
  } catch (const std::runtime_error& e) {
    issues.error(cfg, "template", e.what());
  }
}

sluice::PluginDescriptor generate_descriptor() {
  return sluice::describe<Generate>(sluice::PluginKind::Source, "generate",
                                    "Events from a template: counts, rates, random fields.", generate_docs,
                                    &generate_schema);
}

}  // namespace sluice_basic
