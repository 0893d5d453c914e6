// The open groups of the `aggregate` transform (see groups.hpp).
#include "groups.hpp"

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
    // The JSON text keeps 1 and "1" apart; \x1f cannot occur in it unescaped.
    if (keys.back())
      key_ += keys.back()->dump(-1, ' ', false, Json::error_handler_t::replace);
    else
      key_.push_back('\x01');
    key_.push_back('\x1f');
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
  auto wit = windows_.find(start);
  Group* g = nullptr;
  if (wit != windows_.end()) {
    auto git = wit->second.groups.find(key_);
    if (git != wit->second.groups.end()) g = &git->second;
  }
  if (!g) {
    // A new group: first make room, oldest window first (the new group's own window may go too).
    while (size_ >= s_.max_groups && !windows_.empty()) {
      auto oldest = windows_.begin();
      auto& groups = oldest->second.groups;
      auto first = groups.begin();
      out.push_back(emit(oldest->first, first->second));
      ++emitted_[static_cast<int>(EmitReason::MaxGroups)];
      groups.erase(first);
      --size_;
      if (groups.empty()) windows_.erase(oldest);
    }
    wit = windows_.find(start);
    if (wit == windows_.end()) {
      wit = windows_.emplace(start, Window{}).first;
      wit->second.opened_ms = now_ms;
    }
    Group fresh;
    fresh.keys = keys;
    fresh.states.resize(s_.aggregations.size());
    if (s_.by_partition) {
      fresh.topic = event.meta.topic;
      fresh.partition = event.meta.partition;
    }
    g = &wit->second.groups.emplace(key_, std::move(fresh)).first->second;
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
      if (st.distinct.size() < a.distinct_max)
        st.distinct.insert(v->dump(-1, ' ', false, Json::error_handler_t::replace));
      return;
  }
}

Event GroupTable::emit(std::int64_t start, Group& g) const {
  Event out = Event::from_json(Json::object());
  for (std::size_t i = 0; i < s_.group_by.size(); ++i)
    if (g.keys[i]) s_.group_by[i].set(out, std::move(*g.keys[i]));
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
        r = st.has_value ? std::move(st.value) : Json();
        break;
      case Op::Distinct:
        r = st.distinct.size();
        break;
    }
    a.target.set(out, std::move(r));
  }
  if (s_.window_field) s_.window_field->set(out, Json{{"start", start}, {"end", start + s_.window.count()}});
  out.timestamp_ms = start;
  if (s_.by_partition) {
    out.meta.topic = g.topic;
    out.meta.partition = g.partition;
    out.meta.offset = g.last_offset;
    if (g.first_offset >= 0) out.meta.set_attribute("first_offset", std::to_string(g.first_offset));
  }
  out.ack = Ack::join(std::move(g.acks));
  return out;
}

std::map<std::int64_t, GroupTable::Window>::iterator GroupTable::emit_window(
    std::map<std::int64_t, Window>::iterator it, Batch& out, EmitReason reason) {
  for (auto& [key, g] : it->second.groups) out.push_back(emit(it->first, g));
  emitted_[static_cast<int>(reason)] += it->second.groups.size();
  size_ -= it->second.groups.size();
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

void GroupTable::flush(Batch& out) {
  for (auto it = windows_.begin(); it != windows_.end();) it = emit_window(it, out, EmitReason::Flush);
}

}  // namespace sluice::aggregate
