// The open groups of the `aggregate` transform (see groups.hpp).
#include "groups.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sluice::aggregate {
namespace {

bool is_number(const std::optional<Json>& v) {
  return v && v->is_number();
}

double as_double(const Json& v) {
  return v.get<double>();
}

}  // namespace

GroupTable::GroupTable(const Settings& settings) : s_(settings) {
  // `a.b` nests and metadata goes elsewhere: then the output is built as a JSON value instead.
  auto top = [](const FieldPath& f) {
    return !f.is_meta() && f.text() != "." && f.text().find('.') == std::string::npos;
  };
  flat_output_ = true;
  for (const FieldPath& f : s_.group_by) flat_output_ = flat_output_ && (f.is_meta() || top(f));
  for (const Aggregation& a : s_.aggregations) flat_output_ = flat_output_ && top(a.target);
  if (s_.window_field) flat_output_ = flat_output_ && top(*s_.window_field);
}

void GroupTable::State::reset() {
  count = 0;
  isum = 0;
  dsum = 0;
  is_float = false;
  value = Json();
  has_value = false;
  if (distinct) distinct->clear();
}

GroupTable::Group* GroupTable::Window::find(std::string_view key, std::size_t hash) {
  if (slots.empty()) return nullptr;
  const std::size_t mask = slots.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const std::uint32_t at = slots[i];
    if (at == 0) return nullptr;
    if (groups[at - 1].key == key) return &groups[at - 1];
  }
}

GroupTable::Group& GroupTable::Window::insert(std::string_view key, std::size_t hash) {
  if ((used + 1) * 2 > slots.size()) {
    // Grow at half full and index the live groups again.
    std::vector<std::uint32_t> bigger(std::max<std::size_t>(64, slots.size() * 2), 0);
    const std::size_t mask = bigger.size() - 1;
    for (std::size_t g = 0; g < used; ++g) {
      std::size_t i = std::hash<std::string_view>{}(groups[g].key) & mask;
      while (bigger[i] != 0) i = (i + 1) & mask;
      bigger[i] = static_cast<std::uint32_t>(g + 1);
    }
    slots = std::move(bigger);
  }
  const std::size_t mask = slots.size() - 1;
  std::size_t i = hash & mask;
  while (slots[i] != 0) i = (i + 1) & mask;
  if (used == groups.size()) groups.emplace_back();
  Group& g = groups[used++];
  slots[i] = static_cast<std::uint32_t>(used);
  g.key.assign(key);
  return g;
}

void GroupTable::Window::clear() {
  used = 0;
  std::fill(slots.begin(), slots.end(), 0);
}

void GroupTable::append_key(const std::optional<Json>& v) {
  auto bytes = [this](char tag, const void* p, std::size_t n) {
    key_.push_back(tag);
    key_.append(static_cast<const char*>(p), n);
  };
  if (!v) return key_.push_back('\x01');
  switch (v->type()) {
    case Json::value_t::number_integer: {
      const auto x = v->get<std::int64_t>();
      return bytes('i', &x, sizeof x);
    }
    case Json::value_t::number_unsigned: {
      const auto x = v->get<std::uint64_t>();
      return bytes('u', &x, sizeof x);
    }
    case Json::value_t::number_float: {
      const auto x = v->get<double>();
      return bytes('f', &x, sizeof x);
    }
    case Json::value_t::string: {
      const std::string& str = v->get_ref<const std::string&>();
      const auto n = static_cast<std::uint32_t>(str.size());
      bytes('s', &n, sizeof n);
      key_ += str;
      return;
    }
    case Json::value_t::boolean:
      return key_.push_back(v->get<bool>() ? 'T' : 'F');
    case Json::value_t::null:
      return key_.push_back('n');
    default: {
      const std::string text = v->dump(-1, ' ', false, Json::error_handler_t::replace);
      const auto n = static_cast<std::uint32_t>(text.size());
      bytes('j', &n, sizeof n);
      key_ += text;
      return;
    }
  }
}

std::int64_t GroupTable::window_start(std::int64_t t) const noexcept {
  const std::int64_t w = s_.window.count();
  std::int64_t r = t % w;
  if (r < 0) r += w;
  return t - r;
}

void GroupTable::add(Event& event, std::int64_t now_ms, Batch& out) {
  // Everything that can throw (reading the payload) comes before any change.
  key_.clear();
  if (s_.by_partition) {
    key_ += event.meta.topic;
    key_.push_back('\0');
    key_ += std::to_string(event.meta.partition);
    key_.push_back('\0');
  }
  std::vector<std::optional<Json>>& keys = keys_scratch_;
  keys.clear();
  for (const FieldPath& f : s_.group_by) {
    keys.push_back(f.get(event));
    append_key(keys.back());
  }
  std::vector<std::optional<Json>>& values = values_scratch_;
  values.resize(s_.aggregations.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    if (s_.aggregations[i].field) values[i] = s_.aggregations[i].field->get(event);
  std::int64_t t = now_ms;
  if (s_.time == TimeMode::Event) {
    if (s_.time_field) {
      const std::optional<Json> v = s_.time_field->get(event);
      if (is_number(v) && std::isfinite(as_double(*v)) && std::abs(as_double(*v)) < 9e15)
        t = static_cast<std::int64_t>(as_double(*v));
    } else if (event.timestamp_ms != 0) {
      t = event.timestamp_ms;
    }
    watermark_ = std::max(watermark_, t);
  }

  const std::int64_t start = window_start(t);
  const std::size_t hash = std::hash<std::string_view>{}(key_);
  auto wit = windows_.find(start);
  Group* g = wit != windows_.end() ? wit->second.find(key_, hash) : nullptr;
  if (!g) {
    // A new group: first make room; the oldest window's groups go early (the new group's own may be it).
    while (!hold_ && size_ >= s_.max_groups && !windows_.empty())
      emit_window(windows_.begin(), out, EmitReason::MaxGroups);
    wit = windows_.find(start);
    if (wit == windows_.end()) {
      Window w;
      if (!spare_.empty()) {
        w = std::move(spare_.back());
        spare_.pop_back();
      }
      w.opened_ms = now_ms;
      wit = windows_.emplace(start, std::move(w)).first;
    }
    g = &wit->second.insert(key_, hash);
    g->keys = keys;
    g->states.resize(s_.aggregations.size());
    for (State& st : g->states) st.reset();
    g->acks.clear();
    g->first_offset = g->last_offset = -1;
    if (s_.by_partition) {
      g->topic = event.meta.topic;
      g->partition = event.meta.partition;
      g->origin = event.meta.checkpoint ? event.meta.checkpoint->origin() : std::string();
    }
    ++size_;
  }

  for (std::size_t i = 0; i < values.size(); ++i) update(g->states[i], s_.aggregations[i], values[i]);
  if (s_.by_partition && event.meta.offset >= 0) {
    if (g->first_offset < 0 || event.meta.offset < g->first_offset) g->first_offset = event.meta.offset;
    g->last_offset = std::max(g->last_offset, event.meta.offset);
  }
  // Consecutive events of one source run share an acknowledgement: one reference is enough (dropping a
  // copy releases it as delivered, which cannot change the run's outcome while the group holds another).
  if (event.ack) {
    if (!g->acks.empty() && g->acks.back().id() == event.ack.id())
      event.ack.reset();
    else
      g->acks.push_back(std::move(event.ack));
  }
}

void GroupTable::update(State& st, const Aggregation& a, const std::optional<Json>& v) {
  switch (a.op) {
    case Op::Count:
      ++st.count;
      return;
    case Op::Sum:
      if (!v) return;
      if (!v->is_number()) {
        ++skipped_;
        return;
      }
      ++st.count;
      if (!st.is_float && v->is_number_integer() &&
          (v->is_number_unsigned() ? v->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX)
                                   : true)) {
        std::int64_t sum = 0;
        if (!__builtin_add_overflow(st.isum, v->get<std::int64_t>(), &sum)) {
          st.isum = sum;
          return;
        }
      }
      if (!st.is_float) {
        st.is_float = true;
        st.dsum = static_cast<double>(st.isum);
      }
      st.dsum += as_double(*v);
      return;
    case Op::Min:
    case Op::Max:
      if (!v) return;
      if (!v->is_number()) {
        ++skipped_;
        return;
      }
      if (!st.has_value ||
          (a.op == Op::Min ? as_double(*v) < as_double(st.value) : as_double(*v) > as_double(st.value))) {
        st.value = *v;
        st.has_value = true;
      }
      return;
    case Op::First:
      if (v && !st.has_value) {
        st.value = *v;
        st.has_value = true;
      }
      return;
    case Op::Last:
      if (v) {
        st.value = *v;
        st.has_value = true;
      }
      return;
    case Op::Distinct:
      if (!v) return;
      if (!st.distinct) st.distinct = std::make_unique<std::unordered_set<std::string>>();
      if (st.distinct->size() < a.distinct_max)
        st.distinct->insert(v->dump(-1, ' ', false, Json::error_handler_t::replace));
      return;
  }
}

Event GroupTable::emit(std::int64_t start, Group& g) const {
  Event out;
  if (flat_output_) {
    // The common shape, written as text: one allocation instead of a JSON object's.
    std::string text = "{";
    auto field = [&text](const std::string& name) {
      if (text.size() > 1) text.push_back(',');
      text += Json(name).dump();
      text.push_back(':');
    };
    for (std::size_t i = 0; i < s_.group_by.size(); ++i)
      if (g.keys[i] && !s_.group_by[i].is_meta()) {
        field(s_.group_by[i].text());
        text += g.keys[i]->dump(-1, ' ', false, Json::error_handler_t::replace);
      }
    for (std::size_t i = 0; i < s_.aggregations.size(); ++i) {
      const Aggregation& a = s_.aggregations[i];
      const State& st = g.states[i];
      field(a.target.text());
      switch (a.op) {
        case Op::Count:
          text += std::to_string(st.count);
          break;
        case Op::Sum:
          text += st.is_float ? Json(st.dsum).dump() : std::to_string(st.isum);
          break;
        case Op::Min:
        case Op::Max:
        case Op::First:
        case Op::Last:
          text += st.has_value ? st.value.dump(-1, ' ', false, Json::error_handler_t::replace) : "null";
          break;
        case Op::Distinct:
          text += std::to_string(st.distinct_count());
          break;
      }
    }
    if (s_.window_field) {
      field(s_.window_field->text());
      text += "{\"start\":" + std::to_string(start) +
              ",\"end\":" + std::to_string(start + s_.window.count()) + "}";
    }
    text.push_back('}');
    out = Event(std::move(text));
    for (std::size_t i = 0; i < s_.group_by.size(); ++i)
      if (g.keys[i] && s_.group_by[i].is_meta()) s_.group_by[i].set(out, *g.keys[i]);
  } else {
    out = Event::from_json(Json::object());
    build_fields(start, g, out);
  }
  out.timestamp_ms = start;
  if (s_.by_partition) {
    out.meta.topic = g.topic;
    out.meta.partition = g.partition;
    out.meta.offset = g.last_offset;
    if (g.first_offset >= 0) out.meta.set_attribute("first_offset", std::to_string(g.first_offset));
    if (!g.origin.empty()) out.meta.set_attribute("origin", g.origin);
  }
  out.ack = Ack::join(std::move(g.acks));
  g.acks.clear();
  return out;
}

void GroupTable::build_fields(std::int64_t start, Group& g, Event& out) const {
  for (std::size_t i = 0; i < s_.group_by.size(); ++i)
    if (g.keys[i]) s_.group_by[i].set(out, *g.keys[i]);
  for (std::size_t i = 0; i < s_.aggregations.size(); ++i) {
    const Aggregation& a = s_.aggregations[i];
    State& st = g.states[i];
    Json r;
    switch (a.op) {
      case Op::Count:
        r = st.count;
        break;
      case Op::Sum:
        r = st.is_float ? Json(st.dsum) : Json(st.isum);
        break;
      case Op::Min:
      case Op::Max:
      case Op::First:
      case Op::Last:
        r = st.has_value ? st.value : Json();
        break;
      case Op::Distinct:
        r = st.distinct_count();
        break;
    }
    a.target.set(out, std::move(r));
  }
  if (s_.window_field) s_.window_field->set(out, Json{{"start", start}, {"end", start + s_.window.count()}});
}

std::map<std::int64_t, GroupTable::Window>::iterator GroupTable::emit_window(
    std::map<std::int64_t, Window>::iterator it, Batch& out, EmitReason reason) {
  Window& w = it->second;
  for (std::size_t i = 0; i < w.used; ++i) out.push_back(emit(it->first, w.groups[i]));
  emitted_[static_cast<int>(reason)] += w.used;
  size_ -= w.used;
  w.clear();
  spare_.push_back(std::move(w));
  return windows_.erase(it);
}

void GroupTable::close_due(std::int64_t now_ms, Batch& out) {
  const std::int64_t w = s_.window.count(), late = s_.lateness.count();
  for (auto it = windows_.begin(); it != windows_.end();) {
    const std::int64_t end = it->first + w;
    bool due;
    if (s_.time == TimeMode::Processing)
      due = end <= now_ms;
    else  // by the event time seen, or held no longer than window + lateness of wall clock
      due =
          (watermark_ != INT64_MIN && end + late <= watermark_) || it->second.opened_ms + w + late <= now_ms;
    it = due ? emit_window(it, out, EmitReason::Closed) : std::next(it);
  }
}

void GroupTable::flush(Batch& out, EmitReason reason) {
  for (auto it = windows_.begin(); it != windows_.end();) it = emit_window(it, out, reason);
}

}  // namespace sluice::aggregate
