// AlertStore: how the queue is kept (alert_store.h says what it does).
//
// Storage. Alerts live in an absl::node_hash_map keyed by alert_id: nodes are
// allocated one by one and never move, so the indexes point at them. An entry
// keeps the record (a shared, immutable string: the change ring holds the same
// bytes without a copy) and the indexed and operator fields, with district,
// actor and origin names interned to 32-bit ids.
//
// Indexes, all absl::btree (compact B-trees), kept in step by the one pattern
// unindex(node) -> change the entry -> index(node):
//  - queue_: QueueKeys in queue order, in partitions: partition 0 holds every
//    alert, and one partition per (dimension, value) for district, type,
//    status and acked holds the alerts with that value (5 keys per alert).
//    Priority leads the order, so a set of priorities is a few contiguous
//    ranges of any partition. Each key carries every filterable field, so a
//    scan tests filters without touching the entry.
//  - by_time_: (event_time, node) for a selective time range.
//  - retention_[open/closed]: (received_at, id), for eviction order.
//  - due_past_ / due_future_: unacked due times split at the `now` of the
//    last stats() call; a later call moves only what crossed (amortised O(1)
//    per alert instead of a scan of every overdue alert).
// Counts per (partition, priority) and per event-time hour feed the planner.
//
// Planning a list(). Candidate drivers: partition 0 or the partition of one
// equality filter (restricted to the asked priorities), scanned in queue
// order until limit + 1 matches; or the time index, scanned over the whole
// range and sorted (no queue order there). The expected cost of an ordered
// driver is min(its size, (limit + 1) / the joint selectivity of the other
// filters), assuming independent filters; the time driver costs ~4x its
// range's count (a dereference per key). A filter value with no alert, or a
// time range over empty hours, answers at once. Worst case, an ordered scan
// of a whole partition is a sequential walk of 48-byte keys (~5 ns each).
#include "alerts/alert_store.h"

#include <absl/container/btree_map.h>
#include <absl/container/btree_set.h>
#include <absl/container/flat_hash_map.h>
#include <absl/container/node_hash_map.h>
#include <simdjson.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <utility>

#include "core/json_writer.h"

namespace sentinel {

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kNone:
      return "none";
    case Verdict::kTruePositive:
      return "true_positive";
    case Verdict::kFalsePositive:
      return "false_positive";
  }
  return "none";
}

std::optional<Verdict> parse_verdict(std::string_view s) {
  if (s == "none") return Verdict::kNone;
  if (s == "true_positive") return Verdict::kTruePositive;
  if (s == "false_positive") return Verdict::kFalsePositive;
  return std::nullopt;
}

std::string_view change_kind_name(ChangeKind k) {
  switch (k) {
    case ChangeKind::kNew:
      return "new";
    case ChangeKind::kUpdate:
      return "update";
    case ChangeKind::kAck:
      return "ack";
    case ChangeKind::kFeedback:
      return "feedback";
    case ChangeKind::kEvict:
      return "evict";
  }
  return "update";
}

namespace {

constexpr int64_t kHourMs = 3'600'000;

// ---------------------------------------------------------------- names ----

std::optional<Priority> parse_priority(std::string_view s) {
  if (s.size() != 2 || s[0] != 'P' || s[1] < '0' || s[1] > '3') return std::nullopt;
  return static_cast<Priority>(s[1] - '0');
}

std::optional<AlertType> parse_type(std::string_view s) {
  for (AlertType t : {AlertType::kSensor, AlertType::kCorrelation, AlertType::kGeofence,
                      AlertType::kSpike, AlertType::kMlAnomaly}) {
    if (alert_type_name(t) == s) return t;
  }
  return std::nullopt;
}

std::optional<AlertStatus> parse_status(std::string_view s) {
  if (s == "alert") return AlertStatus::kAlert;
  if (s == "trend_watch") return AlertStatus::kTrendWatch;
  return std::nullopt;
}

// The score as the record shows it (alert_json.cpp: 4 decimals, no -0); a NaN
// (printed null) orders as 0.
double record_score(double v) {
  const double r = round_term(v);
  return std::isfinite(r) && r != 0 ? r : 0.0;
}

// --------------------------------------------------------------- entries ---

// Names (districts, actors, origins) as dense ids, 0 = "". Not core/Interner:
// that one caps at 2^20 names and remote views may bring any actor name; this
// one lives under the store's mutex and never runs out. Names are never
// removed: their number is bounded by districts, tokens and processes.
class Names {
 public:
  Names() { ids_.emplace(names_.emplace_back(), 0); }

  uint32_t intern(std::string_view s) {
    if (s.empty()) return 0;
    if (auto it = ids_.find(s); it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(names_.size());
    ids_.emplace(names_.emplace_back(s), id);  // deque: the view stays valid
    return id;
  }
  std::optional<uint32_t> find(std::string_view s) const {
    if (auto it = ids_.find(s); it != ids_.end()) return it->second;
    return std::nullopt;
  }
  const std::string& name(uint32_t id) const { return names_[id]; }

 private:
  std::deque<std::string> names_;
  absl::flat_hash_map<std::string_view, uint32_t> ids_;
};

struct Entry {
  std::shared_ptr<const std::string> record;
  double score = 0;
  int64_t event_time = 0;  // ms
  WallMs received_at = 0, updated_at = 0, ack_due = 0, acked_at = 0, verdict_at = 0;
  uint32_t revision = 0;
  uint32_t district = 0, origin = 0, acked_by = 0, verdict_by = 0;  // Names ids
  Priority priority = Priority::kP3;
  AlertType type = AlertType::kSensor;
  AlertStatus status = AlertStatus::kAlert;
  Verdict verdict = Verdict::kNone;
  std::shared_ptr<const std::string> note;  // null when empty
};

using Map = absl::node_hash_map<std::string, Entry>;
using Node = Map::value_type;

// Debian's absl has its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW 0).
absl::string_view as_absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

const std::string& note_of(const Entry& e) {
  static const std::string kEmpty;
  return e.note ? *e.note : kEmpty;
}

bool is_closed(const Entry& e) { return e.acked_at != 0 || e.status == AlertStatus::kTrendWatch; }
bool tracks_due(const Entry& e) {
  return e.status == AlertStatus::kAlert && e.acked_at == 0 && e.ack_due != 0;
}

// --------------------------------------------------------------- indexes ---

enum Dim : uint32_t { kAll = 0, kDistrict = 1, kType = 2, kStatus = 3, kAcked = 4 };

// A partition id: dimension in the top byte, value below. District ids past
// 2^24 - 1 share the last partition; scans test the exact id anyway.
constexpr uint32_t part_of(Dim d, uint32_t value) {
  return static_cast<uint32_t>(d) << 24 | std::min<uint32_t>(value, 0xFFFFFF);
}

struct QueueKey {
  uint32_t part = 0;
  uint32_t district = 0;
  uint8_t priority = 0, type = 0, status = 0, acked = 0;
  double score = 0;
  WallMs received_at = 0;
  int64_t event_time = 0;
  const Node* node = nullptr;  // alert_id (last tie-break) and the entry
};

// Queue order ignoring the partition: priority, higher score, newer
// received_at, smaller alert_id.
bool queue_less(const QueueKey& a, const QueueKey& b) {
  if (a.priority != b.priority) return a.priority < b.priority;
  if (a.score != b.score) return a.score > b.score;
  if (a.received_at != b.received_at) return a.received_at > b.received_at;
  return a.node->first < b.node->first;
}

struct QueueOrder {
  bool operator()(const QueueKey& a, const QueueKey& b) const {
    if (a.part != b.part) return a.part < b.part;
    return queue_less(a, b);
  }
};

struct NodeKey {  // (time, node) for the time, retention and due indexes
  int64_t t = 0;
  const Node* node = nullptr;
};
// Ties by node address: enough for uniqueness where order among ties is moot.
struct ByTimeThenAddress {
  bool operator()(const NodeKey& a, const NodeKey& b) const {
    if (a.t != b.t) return a.t < b.t;
    return std::less<const Node*>()(a.node, b.node);
  }
};
// Ties by alert_id: eviction order must not depend on addresses.
struct ByTimeThenId {
  bool operator()(const NodeKey& a, const NodeKey& b) const {
    if (a.t != b.t) return a.t < b.t;
    return a.node->first < b.node->first;
  }
};

QueueKey key_of(const Node& n) {
  const Entry& e = n.second;
  QueueKey k;
  k.district = e.district;
  k.priority = static_cast<uint8_t>(e.priority);
  k.type = static_cast<uint8_t>(e.type);
  k.status = static_cast<uint8_t>(e.status);
  k.acked = e.acked_at != 0;
  k.score = e.score;
  k.received_at = e.received_at;
  k.event_time = e.event_time;
  k.node = &n;
  return k;
}

std::array<uint32_t, 5> parts_of(const QueueKey& k) {
  return {part_of(kAll, 0), part_of(kDistrict, k.district), part_of(kType, k.type),
          part_of(kStatus, k.status), part_of(kAcked, k.acked)};
}

int64_t hour_of(int64_t ms) { return ms / kHourMs - (ms % kHourMs < 0 ? 1 : 0); }

// ---------------------------------------------------------------- cursor ---

// Binary form: version, priority, score (IEEE bits), received_at, alert_id;
// then base64url without padding (libsodium).
constexpr uint8_t kCursorVersion = 1;
constexpr size_t kCursorFixed = 1 + 1 + 8 + 8;

struct Cursor {
  uint8_t priority = 0;
  double score = 0;
  WallMs received_at = 0;
  std::string alert_id;
};

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

std::string encode_cursor(const QueueKey& k) {
  std::string bin;
  bin.push_back(static_cast<char>(kCursorVersion));
  bin.push_back(static_cast<char>(k.priority));
  put_u64(bin, std::bit_cast<uint64_t>(k.score));
  put_u64(bin, static_cast<uint64_t>(k.received_at));
  bin += k.node->first;
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bin.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bin.data()),
                    bin.size(), kVariant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<Cursor> decode_cursor(std::string_view text) {
  constexpr size_t kMaxCursor = 4096;
  if (text.empty() || text.size() > kMaxCursor) return std::nullopt;
  std::string bin(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), text.data(),
                        text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bin.data());
  if (len <= kCursorFixed || p[0] != kCursorVersion || p[1] > 3) return std::nullopt;
  Cursor c;
  c.priority = p[1];
  c.score = std::bit_cast<double>(get_u64(p + 2));
  c.received_at = static_cast<WallMs>(get_u64(p + 10));
  if (!std::isfinite(c.score)) return std::nullopt;
  c.alert_id.assign(bin.data() + kCursorFixed, len - kCursorFixed);
  return c;
}

// ----------------------------------------------------------------- JSON ----

// Times with milliseconds always (append_rfc3339 drops ".000"), null for 0.
void append_wall(std::string& out, WallMs t) {
  if (t == 0) {
    out += "null";
    return;
  }
  out.push_back('"');
  const size_t start = out.size();
  append_rfc3339(out, event_time_from_ms(t));
  if (out.find('.', start) == std::string::npos) out.insert(out.size() - 1, ".000");
  out.push_back('"');
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

void render_stored_alert(const StoredAlert& a, std::string& out) {
  std::string_view rec = a.record;
  while (!rec.empty() && is_json_space(rec.back())) rec.remove_suffix(1);
  size_t lead = 0;
  while (lead < rec.size() && is_json_space(rec[lead])) ++lead;
  if (rec.size() - lead >= 2 && rec[lead] == '{' && rec.back() == '}') {
    rec.remove_suffix(1);
    while (!rec.empty() && is_json_space(rec.back())) rec.remove_suffix(1);
    out.append(rec);
    if (rec.back() != '{') out.push_back(',');
  } else {
    out += "{\"alert_id\":";
    JsonWriter::append_string(out, a.alert_id);
    out.push_back(',');
  }
  out += "\"received_at\":";
  append_wall(out, a.received_at);
  out += ",\"updated_at\":";
  append_wall(out, a.updated_at);
  out += ",\"ack_due\":";
  append_wall(out, a.ack_due);
  out += ",\"acked_at\":";
  append_wall(out, a.acked_at);
  out += ",\"acked_by\":";
  JsonWriter::append_string(out, a.acked_by);
  out += ",\"ack_late\":";
  out += a.ack_late() ? "true" : "false";
  out += ",\"verdict\":\"";
  out += verdict_name(a.verdict);
  out += "\",\"verdict_at\":";
  append_wall(out, a.verdict_at);
  out += ",\"verdict_by\":";
  JsonWriter::append_string(out, a.verdict_by);
  out += ",\"verdict_note\":";
  JsonWriter::append_string(out, a.verdict_note);
  out += ",\"origin\":";
  JsonWriter::append_string(out, a.origin);
  out.push_back('}');
}

Result<StoredAlert> parse_stored_alert(std::string_view json) {
  namespace od = simdjson::ondemand;
  // One parser per thread: the Redis reader parses every published alert.
  thread_local od::parser parser;
  const simdjson::padded_string padded(json);
  od::document doc;
  od::object obj;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(obj)) {
    return make_error("", "not a JSON object");
  }
  StoredAlert a;
  enum : uint32_t {
    kId = 1, kPriority = 2, kType = 4, kStatus = 8, kEventTime = 16, kRevision = 32,
    kReceived = 64, kUpdated = 128,
  };
  uint32_t seen = 0;
  size_t record_end = std::string::npos;  // offset of the "received_at" key's quote

  auto bad = [](std::string_view key, std::string_view reason) {
    return make_error(std::string(key), std::string(reason));
  };
  auto read_string = [](od::value& v, std::string& out) -> bool {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    out.assign(s);
    return true;
  };
  auto read_time = [](od::value& v, int64_t& out) -> bool {
    od::json_type t;
    if (v.type().get(t)) return false;
    if (t == od::json_type::null) {
      out = 0;
      return true;
    }
    std::string_view s;
    if (v.get_string().get(s)) return false;
    const auto parsed = parse_rfc3339(s);
    if (!parsed) return false;
    out = to_ms(*parsed);
    return true;
  };

  for (auto field_result : obj) {
    std::string_view key;
    if (field_result.error()) return make_error("", "not valid JSON");
    od::field& field = field_result.value_unsafe();  // checked just above
    // The raw key (just after its opening quote) before unescaped_key(), which consumes it.
    const char* raw_key = field.key().raw();
    if (field.unescaped_key().get(key)) return make_error("", "not valid JSON");
    od::value& v = field.value();
    if (key == "alert_id") {
      if (!read_string(v, a.alert_id) || a.alert_id.empty()) return bad(key, "not a non-empty string");
      seen |= kId;
    } else if (key == "priority") {
      std::string_view s;
      std::optional<Priority> p;
      if (v.get_string().get(s) || !(p = parse_priority(s))) return bad(key, "not P0..P3");
      a.priority = *p;
      seen |= kPriority;
    } else if (key == "score") {
      od::json_type t;
      double d = 0;
      if (v.type().get(t)) return bad(key, "not a number");
      if (t != od::json_type::null && v.get_double().get(d)) return bad(key, "not a number");
      a.score = record_score(d);
    } else if (key == "type") {
      std::string_view s;
      std::optional<AlertType> t;
      if (v.get_string().get(s) || !(t = parse_type(s))) return bad(key, "not an alert type");
      a.type = *t;
      seen |= kType;
    } else if (key == "status") {
      std::string_view s;
      std::optional<AlertStatus> st;
      if (v.get_string().get(s) || !(st = parse_status(s))) return bad(key, "not alert or trend_watch");
      a.status = *st;
      seen |= kStatus;
    } else if (key == "district") {
      od::json_type t;
      if (v.type().get(t)) return bad(key, "not a string or null");
      if (t != od::json_type::null && !read_string(v, a.district)) return bad(key, "not a string or null");
    } else if (key == "event_time") {
      int64_t ms = 0;
      if (!read_time(v, ms)) return bad(key, "not an RFC 3339 time");
      a.event_time = event_time_from_ms(ms);
      seen |= kEventTime;
    } else if (key == "revision") {
      uint64_t r = 0;
      if (v.get_uint64().get(r) || r > std::numeric_limits<uint32_t>::max()) {
        return bad(key, "not a 32-bit unsigned integer");
      }
      a.revision = static_cast<uint32_t>(r);
      seen |= kRevision;
    } else if (key == "received_at") {
      if (record_end == std::string::npos) {
        record_end = static_cast<size_t>(raw_key - 1 - padded.data());
      }
      if (!read_time(v, a.received_at)) return bad(key, "not an RFC 3339 time or null");
      seen |= kReceived;
    } else if (key == "updated_at") {
      if (!read_time(v, a.updated_at)) return bad(key, "not an RFC 3339 time or null");
      seen |= kUpdated;
    } else if (key == "ack_due") {
      if (!read_time(v, a.ack_due)) return bad(key, "not an RFC 3339 time or null");
    } else if (key == "acked_at") {
      if (!read_time(v, a.acked_at)) return bad(key, "not an RFC 3339 time or null");
    } else if (key == "acked_by") {
      if (!read_string(v, a.acked_by)) return bad(key, "not a string");
    } else if (key == "verdict") {
      std::string_view s;
      std::optional<Verdict> vd;
      if (v.get_string().get(s) || !(vd = parse_verdict(s))) {
        return bad(key, "not none, true_positive or false_positive");
      }
      a.verdict = *vd;
    } else if (key == "verdict_at") {
      if (!read_time(v, a.verdict_at)) return bad(key, "not an RFC 3339 time or null");
    } else if (key == "verdict_by") {
      if (!read_string(v, a.verdict_by)) return bad(key, "not a string");
    } else if (key == "verdict_note") {
      if (!read_string(v, a.verdict_note)) return bad(key, "not a string");
    } else if (key == "origin") {
      if (!read_string(v, a.origin)) return bad(key, "not a string");
    }
    // Other members (the rest of the record, ack_late) are skipped.
  }
  static constexpr std::pair<uint32_t, const char*> kRequired[] = {
      {kId, "alert_id"},         {kPriority, "priority"},       {kType, "type"},
      {kStatus, "status"},       {kEventTime, "event_time"},    {kRevision, "revision"},
      {kReceived, "received_at"}, {kUpdated, "updated_at"},
  };
  for (const auto& [bit, name] : kRequired) {
    if (!(seen & bit)) return make_error(name, "missing");
  }
  // The record is the text before "received_at", closed again.
  size_t end = record_end;
  while (end > 0 && is_json_space(json[end - 1])) --end;
  if (end == 0 || (json[end - 1] != ',' && json[end - 1] != '{')) {
    return make_error("received_at", "not after the record's members");
  }
  if (json[end - 1] == ',') --end;
  a.record.reserve(end + 1);
  a.record.assign(json.substr(0, end));
  a.record.push_back('}');
  return a;
}

// ------------------------------------------------------------------ store --

struct AlertStore::Impl {
  struct RingItem {
    uint64_t seq = 0;
    ChangeKind kind = ChangeKind::kNew;
    std::string alert_id;
    Entry state;
  };

  Impl(const QueueConfig& config, std::string origin_name)
      : max_alerts(config.max_alerts),
        resume_changes(config.resume_changes),
        sla{config.ack_p0.count(), config.ack_p1.count(), config.ack_p2.count(),
            config.ack_p3.count()} {
    origin = names.intern(origin_name);
  }

  const uint64_t max_alerts;
  const uint64_t resume_changes;
  const int64_t sla[4];
  uint32_t origin = 0;

  // Lock order: only `mu`. Everything below is guarded by it.
  mutable std::mutex mu;
  mutable std::condition_variable changed;

  Names names;
  Map map;
  absl::btree_set<QueueKey, QueueOrder> queue;
  absl::btree_set<NodeKey, ByTimeThenAddress> by_time;
  absl::btree_set<NodeKey, ByTimeThenId> retention[2];  // [0] open, [1] closed
  // stats() is const but moves keys across the split: mutable, under `mu`.
  mutable absl::btree_set<NodeKey, ByTimeThenAddress> due_past, due_future;
  mutable WallMs due_split = std::numeric_limits<WallMs>::min();
  absl::flat_hash_map<uint32_t, std::array<uint64_t, 4>> part_counts;
  absl::btree_map<int64_t, uint64_t> hour_counts;
  uint64_t n_alert = 0, n_trend = 0, n_unacked = 0, evicted = 0;
  uint64_t by_priority[4] = {0, 0, 0, 0};
  uint64_t last_seq = 0;
  std::deque<RingItem> ring;

  // ------------------------------------------------------------ indexing --

  void index(const Node& n) {
    const Entry& e = n.second;
    const QueueKey k = key_of(n);
    for (uint32_t part : parts_of(k)) {
      QueueKey pk = k;
      pk.part = part;
      queue.insert(pk);
      ++part_counts[part][k.priority];
    }
    by_time.insert({e.event_time, &n});
    ++hour_counts[hour_of(e.event_time)];
    retention[is_closed(e)].insert({e.received_at, &n});
    if (tracks_due(e)) (e.ack_due < due_split ? due_past : due_future).insert({e.ack_due, &n});
    if (e.status == AlertStatus::kAlert) {
      ++n_alert;
      ++by_priority[k.priority];
      if (e.acked_at == 0) ++n_unacked;
    } else {
      ++n_trend;
    }
  }

  void unindex(const Node& n) {
    const Entry& e = n.second;
    const QueueKey k = key_of(n);
    for (uint32_t part : parts_of(k)) {
      QueueKey pk = k;
      pk.part = part;
      queue.erase(pk);
      auto it = part_counts.find(part);
      if (--it->second[k.priority] == 0 &&
          it->second == std::array<uint64_t, 4>{0, 0, 0, 0}) {
        part_counts.erase(it);
      }
    }
    by_time.erase({e.event_time, &n});
    auto h = hour_counts.find(hour_of(e.event_time));
    if (--h->second == 0) hour_counts.erase(h);
    retention[is_closed(e)].erase({e.received_at, &n});
    if (tracks_due(e)) {
      if (due_past.erase({e.ack_due, &n}) == 0) due_future.erase({e.ack_due, &n});
    }
    if (e.status == AlertStatus::kAlert) {
      --n_alert;
      --by_priority[k.priority];
      if (e.acked_at == 0) --n_unacked;
    } else {
      --n_trend;
    }
  }

  // -------------------------------------------------------------- changes --

  StoredAlert materialise(const std::string& id, const Entry& e) const {
    StoredAlert a;
    a.alert_id = id;
    a.record = e.record ? *e.record : std::string();
    a.priority = e.priority;
    a.score = e.score;
    a.type = e.type;
    a.status = e.status;
    a.district = names.name(e.district);
    a.event_time = event_time_from_ms(e.event_time);
    a.revision = e.revision;
    a.received_at = e.received_at;
    a.updated_at = e.updated_at;
    a.ack_due = e.ack_due;
    a.acked_at = e.acked_at;
    a.acked_by = names.name(e.acked_by);
    a.verdict = e.verdict;
    a.verdict_at = e.verdict_at;
    a.verdict_by = names.name(e.verdict_by);
    a.verdict_note = note_of(e);
    a.origin = names.name(e.origin);
    return a;
  }

  AlertChange record_change(ChangeKind kind, const Node& n) {
    const uint64_t seq = ++last_seq;
    if (resume_changes > 0) {
      ring.push_back(RingItem{seq, kind, n.first, n.second});
      while (ring.size() > resume_changes) ring.pop_front();
    }
    return AlertChange{seq, kind, materialise(n.first, n.second)};
  }

  // Evicts past max_alerts: the oldest closed (acked or trend-watch) alert
  // first, then the oldest of any kind.
  void evict_over_limit(std::vector<AlertChange>* out) {
    while (map.size() > max_alerts) {
      auto& from = retention[1].empty() ? retention[0] : retention[1];
      const Node* victim = from.begin()->node;
      unindex(*victim);
      AlertChange change = record_change(ChangeKind::kEvict, *victim);
      if (out) out->push_back(std::move(change));
      map.erase(map.find(as_absl(victim->first)));
      ++evicted;
    }
  }

  // --------------------------------------------------------------- entries --

  Entry entry_of(const StoredAlert& a) {
    Entry e;
    e.record = std::make_shared<const std::string>(a.record);
    e.score = record_score(a.score);
    e.event_time = to_ms(a.event_time);
    e.received_at = a.received_at;
    e.updated_at = a.updated_at;
    e.ack_due = a.ack_due;
    e.acked_at = a.acked_at;
    e.verdict_at = a.verdict != Verdict::kNone ? a.verdict_at : 0;
    e.revision = a.revision;
    e.district = names.intern(a.district);
    e.origin = names.intern(a.origin);
    e.acked_by = a.acked_at != 0 ? names.intern(a.acked_by) : 0;
    e.verdict_by = a.verdict != Verdict::kNone ? names.intern(a.verdict_by) : 0;
    e.priority = a.priority;
    e.type = a.type;
    e.status = a.status;
    e.verdict = a.verdict;
    if (a.verdict != Verdict::kNone && !a.verdict_note.empty()) {
      e.note = std::make_shared<const std::string>(a.verdict_note);
    }
    return e;
  }

  WallMs due_from(Priority p, AlertStatus s, WallMs now) const {
    const int64_t d = sla[static_cast<int>(p)];
    return s == AlertStatus::kAlert && d > 0 ? now + d : 0;
  }

  // ------------------------------------------------------------------ list --

  struct Filters {
    uint8_t priorities = 0;  // bit per priority
    std::optional<uint32_t> district;
    std::optional<uint8_t> type, status, acked;
    bool has_time = false;
    int64_t from = std::numeric_limits<int64_t>::min(), to = std::numeric_limits<int64_t>::max();

    bool matches(const QueueKey& k) const {
      return ((priorities >> k.priority) & 1) && (!district || k.district == *district) &&
             (!type || k.type == *type) && (!status || k.status == *status) &&
             (!acked || k.acked == *acked) && k.event_time >= from && k.event_time < to;
    }
  };

  uint64_t part_size(uint32_t part, uint8_t priorities) const {
    auto it = part_counts.find(part);
    if (it == part_counts.end()) return 0;
    uint64_t n = 0;
    for (int p = 0; p < 4; ++p) {
      if ((priorities >> p) & 1) n += it->second[p];
    }
    return n;
  }

  // Alerts whose event-time hour overlaps [from, to): an upper bound of the
  // range's count (0 means none). Gives up past kMaxBuckets hours (`total`).
  uint64_t time_estimate(int64_t from, int64_t to, uint64_t total) const {
    constexpr int kMaxBuckets = 20'000;
    uint64_t n = 0;
    int buckets = 0;
    const int64_t last = hour_of(to - 1);
    for (auto it = hour_counts.lower_bound(hour_of(from)); it != hour_counts.end() && it->first <= last;
         ++it) {
      if (++buckets > kMaxBuckets) return total;
      n += it->second;
    }
    return n;
  }

  // Up to limit + 1 matching nodes after `after` in queue order.
  std::vector<QueueKey> run_query(const Filters& f, const std::optional<Cursor>& after,
                                  uint32_t limit) const {
    std::vector<QueueKey> out;
    const uint64_t want = uint64_t{limit} + 1;
    if (f.from >= f.to) return out;
    const uint64_t n_sel = part_size(part_of(kAll, 0), f.priorities);
    if (n_sel == 0) return out;

    struct Candidate {
      uint32_t part;
      double size;
    };
    std::vector<Candidate> cands{{part_of(kAll, 0), static_cast<double>(n_sel)}};
    auto add = [&](Dim d, const std::optional<uint32_t>& v) {
      if (v) cands.push_back({part_of(d, *v), static_cast<double>(part_size(part_of(d, *v), f.priorities))});
    };
    add(kDistrict, f.district);
    add(kType, f.type ? std::optional<uint32_t>(*f.type) : std::nullopt);
    add(kStatus, f.status ? std::optional<uint32_t>(*f.status) : std::nullopt);
    add(kAcked, f.acked ? std::optional<uint32_t>(*f.acked) : std::nullopt);
    for (const Candidate& c : cands) {
      if (c.size == 0) return out;
    }
    double time_sel = 1;
    uint64_t time_count = 0;
    if (f.has_time) {
      const uint64_t total = map.size();
      time_count = time_estimate(f.from, f.to, total);
      if (time_count == 0) return out;
      time_sel = std::min(1.0, static_cast<double>(time_count) / static_cast<double>(total));
    }
    // Cheapest ordered driver.
    size_t best = 0;
    double best_cost = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < cands.size(); ++i) {
      double others = time_sel;
      for (size_t j = 1; j < cands.size(); ++j) {
        if (j != i) others *= cands[j].size / static_cast<double>(n_sel);
      }
      const double cost = std::min(cands[i].size, static_cast<double>(want) / std::max(others, 1e-12));
      if (cost < best_cost) {
        best_cost = cost;
        best = i;
      }
    }
    if (f.has_time && 4.0 * static_cast<double>(time_count) < best_cost) {
      scan_time(f, after, want, out);
    } else {
      scan_ordered(cands[best].part, f, after, want, out);
    }
    return out;
  }

  void scan_ordered(uint32_t part, const Filters& f, const std::optional<Cursor>& after,
                    uint64_t want, std::vector<QueueKey>& out) const {
    static const Node kBandStart{};  // never compared: no real score is +inf
    Node cursor_node{after ? after->alert_id : std::string(), Entry{}};
    for (uint8_t p = 0; p < 4; ++p) {
      if (!((f.priorities >> p) & 1) || (after && p < after->priority)) continue;
      QueueKey probe;
      probe.part = part;
      probe.priority = p;
      decltype(queue)::const_iterator it;
      if (after && p == after->priority) {
        probe.score = after->score;
        probe.received_at = after->received_at;
        probe.node = &cursor_node;
        it = queue.upper_bound(probe);
      } else {
        probe.score = std::numeric_limits<double>::infinity();
        probe.received_at = std::numeric_limits<WallMs>::max();
        probe.node = &kBandStart;
        it = queue.lower_bound(probe);
      }
      for (; it != queue.end() && it->part == part && it->priority == p; ++it) {
        if (!f.matches(*it)) continue;
        out.push_back(*it);
        if (out.size() >= want) return;
      }
    }
  }

  void scan_time(const Filters& f, const std::optional<Cursor>& after, uint64_t want,
                 std::vector<QueueKey>& out) const {
    Node cursor_node{after ? after->alert_id : std::string(), Entry{}};
    QueueKey probe;
    if (after) {
      probe.priority = after->priority;
      probe.score = after->score;
      probe.received_at = after->received_at;
      probe.node = &cursor_node;
    }
    // Max-heap of the `want` first in queue order.
    for (auto it = by_time.lower_bound({f.from, nullptr}); it != by_time.end() && it->t < f.to; ++it) {
      const QueueKey k = key_of(*it->node);
      if (!f.matches(k) || (after && !queue_less(probe, k))) continue;
      if (out.size() == want) {
        if (!queue_less(k, out.front())) continue;
        std::pop_heap(out.begin(), out.end(), queue_less);
        out.back() = k;
      } else {
        out.push_back(k);
      }
      std::push_heap(out.begin(), out.end(), queue_less);
    }
    std::sort_heap(out.begin(), out.end(), queue_less);
  }
};

// ------------------------------------------------------------ AlertStore ---

AlertStore::AlertStore(const QueueConfig& config, std::string origin)
    : impl_(std::make_unique<Impl>(config, std::move(origin))) {}

AlertStore::~AlertStore() = default;

std::vector<AlertChange> AlertStore::upsert(std::span<const Alert* const> alerts,
                                            std::span<const std::string_view> records, WallMs now) {
  assert(alerts.size() == records.size());
  std::vector<AlertChange> out;
  {
    std::lock_guard lock(impl_->mu);
    Impl& s = *impl_;
    const size_t n = std::min(alerts.size(), records.size());
    for (size_t i = 0; i < n; ++i) {
      const Alert* a = alerts[i];
      if (a == nullptr || a->alert_id.empty()) continue;
      auto it = s.map.find(as_absl(a->alert_id));
      if (it == s.map.end()) {
        Entry e;
        e.record = std::make_shared<const std::string>(records[i]);
        e.priority = a->score.priority;
        e.score = record_score(a->score.score);
        e.type = a->type;
        e.status = a->status;
        e.district = s.names.intern(a->district);
        e.event_time = to_ms(a->event_time);
        e.revision = a->revision;
        e.received_at = now;
        e.updated_at = now;
        e.origin = s.origin;
        e.ack_due = s.due_from(e.priority, e.status, now);
        it = s.map.emplace(a->alert_id, std::move(e)).first;
        s.index(*it);
        out.push_back(s.record_change(ChangeKind::kNew, *it));
      } else {
        Entry& e = it->second;
        if (a->revision <= e.revision) continue;
        s.unindex(*it);
        const bool raised =
            a->status == AlertStatus::kAlert &&
            (e.status == AlertStatus::kTrendWatch || a->score.priority < e.priority);
        e.record = std::make_shared<const std::string>(records[i]);
        e.priority = a->score.priority;
        e.score = record_score(a->score.score);
        e.type = a->type;
        e.status = a->status;
        e.district = s.names.intern(a->district);
        e.event_time = to_ms(a->event_time);
        e.revision = a->revision;
        e.updated_at = now;
        if (raised) {
          const WallMs due = s.due_from(e.priority, e.status, now);
          if (due != 0) e.ack_due = e.ack_due == 0 ? due : std::min(e.ack_due, due);
        }
        s.index(*it);
        out.push_back(s.record_change(ChangeKind::kUpdate, *it));
      }
      s.evict_over_limit(&out);
    }
  }
  if (!out.empty()) impl_->changed.notify_all();
  return out;
}

Result<std::optional<AlertChange>> AlertStore::ack(std::string_view alert_id, std::string_view actor,
                                                   WallMs now) {
  std::optional<AlertChange> change;
  {
    std::lock_guard lock(impl_->mu);
    Impl& s = *impl_;
    auto it = s.map.find(as_absl(alert_id));
    if (it == s.map.end()) return make_error("alert_id", "no alert '" + std::string(alert_id) + "'");
    if (it->second.acked_at != 0) return std::optional<AlertChange>();
    s.unindex(*it);
    it->second.acked_at = std::max<WallMs>(now, 1);  // 0 means "not acknowledged"
    it->second.acked_by = s.names.intern(actor);
    s.index(*it);
    change = s.record_change(ChangeKind::kAck, *it);
  }
  impl_->changed.notify_all();
  return change;
}

Result<AlertChange> AlertStore::feedback(std::string_view alert_id, Verdict verdict,
                                         std::string_view actor, std::string_view note, WallMs now) {
  if (verdict == Verdict::kNone) return make_error("verdict", "must be true_positive or false_positive");
  if (note.size() > kMaxNoteBytes) {
    return make_error("note", "longer than " + std::to_string(kMaxNoteBytes) + " bytes (" +
                                  std::to_string(note.size()) + ")");
  }
  std::optional<AlertChange> change;
  {
    std::lock_guard lock(impl_->mu);
    Impl& s = *impl_;
    auto it = s.map.find(as_absl(alert_id));
    if (it == s.map.end()) return make_error("alert_id", "no alert '" + std::string(alert_id) + "'");
    // No indexed field changes: no reindexing.
    Entry& e = it->second;
    e.verdict = verdict;
    e.verdict_at = std::max<WallMs>(now, 1);
    e.verdict_by = s.names.intern(actor);
    e.note = note.empty() ? nullptr : std::make_shared<const std::string>(note);
    change = s.record_change(ChangeKind::kFeedback, *it);
  }
  impl_->changed.notify_all();
  return std::move(*change);
}

std::optional<AlertChange> AlertStore::apply_remote(const StoredAlert& incoming) {
  if (incoming.alert_id.empty()) return std::nullopt;
  std::optional<AlertChange> change;
  {
    std::lock_guard lock(impl_->mu);
    Impl& s = *impl_;
    Entry in = s.entry_of(incoming);
    auto it = s.map.find(incoming.alert_id);
    if (it == s.map.end()) {
      it = s.map.emplace(incoming.alert_id, std::move(in)).first;
      s.index(*it);
      change = s.record_change(ChangeKind::kNew, *it);
      s.evict_over_limit(nullptr);
    } else {
      const Entry& cur = it->second;
      Entry merged = cur;
      const std::string& in_record = *in.record;
      static const std::string kNoRecord;
      const std::string& cur_record = cur.record ? *cur.record : kNoRecord;
      // Record group: the greatest (revision, received_at, record, updated_at, origin).
      const auto view = [&](const Entry& e, const std::string& record) {
        return std::forward_as_tuple(e.revision, e.received_at, record, e.updated_at,
                                     s.names.name(e.origin));
      };
      const bool record_wins = view(cur, cur_record) < view(in, in_record);
      if (record_wins) {
        merged.record = in.record;
        merged.score = in.score;
        merged.event_time = in.event_time;
        merged.received_at = in.received_at;
        merged.updated_at = in.updated_at;
        merged.revision = in.revision;
        merged.district = in.district;
        merged.origin = in.origin;
        merged.priority = in.priority;
        merged.type = in.type;
        merged.status = in.status;
      }
      // Due: the earliest non-zero.
      if (in.ack_due != 0 && (merged.ack_due == 0 || in.ack_due < merged.ack_due)) {
        merged.ack_due = in.ack_due;
      }
      // Ack: the earliest (acked_at, acked_by).
      bool ack_changed = false;
      if (in.acked_at != 0 &&
          (cur.acked_at == 0 ||
           std::forward_as_tuple(in.acked_at, s.names.name(in.acked_by)) <
               std::forward_as_tuple(cur.acked_at, s.names.name(cur.acked_by)))) {
        merged.acked_at = in.acked_at;
        merged.acked_by = in.acked_by;
        ack_changed = true;
      }
      // Feedback: the greatest (verdict_at, verdict_by, verdict, note).
      bool verdict_changed = false;
      if (in.verdict != Verdict::kNone &&
          (cur.verdict == Verdict::kNone ||
           std::forward_as_tuple(cur.verdict_at, s.names.name(cur.verdict_by), cur.verdict, note_of(cur)) <
               std::forward_as_tuple(in.verdict_at, s.names.name(in.verdict_by), in.verdict, note_of(in)))) {
        merged.verdict = in.verdict;
        merged.verdict_at = in.verdict_at;
        merged.verdict_by = in.verdict_by;
        merged.note = in.note;
        verdict_changed = true;
      }
      const bool due_changed = merged.ack_due != cur.ack_due;
      if (record_wins || ack_changed || verdict_changed || due_changed) {
        s.unindex(*it);
        it->second = std::move(merged);
        s.index(*it);
        const ChangeKind kind = record_wins ? ChangeKind::kUpdate
                                : ack_changed ? ChangeKind::kAck
                                : verdict_changed ? ChangeKind::kFeedback
                                                  : ChangeKind::kUpdate;
        change = s.record_change(kind, *it);
      }
    }
  }
  if (change) impl_->changed.notify_all();
  return change;
}

std::optional<StoredAlert> AlertStore::get(std::string_view alert_id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->map.find(as_absl(alert_id));
  if (it == impl_->map.end()) return std::nullopt;
  return impl_->materialise(it->first, it->second);
}

Result<AlertPage> AlertStore::list(const AlertQuery& query) const {
  std::optional<Cursor> after;
  if (!query.cursor.empty()) {
    after = decode_cursor(query.cursor);
    if (!after) return make_error("cursor", "not a cursor of this API (take next_cursor as it was given)");
  }
  if (query.limit == 0) return make_error("limit", "must be at least 1");
  Impl::Filters f;
  for (Priority p : query.priorities) f.priorities |= static_cast<uint8_t>(1u << static_cast<int>(p));
  if (f.priorities == 0) f.priorities = 0xF;
  if (query.type) f.type = static_cast<uint8_t>(*query.type);
  if (query.status) f.status = static_cast<uint8_t>(*query.status);
  if (query.acked) f.acked = *query.acked ? 1 : 0;
  if (query.from) f.from = to_ms(*query.from);
  if (query.to) f.to = to_ms(*query.to);
  f.has_time = query.from || query.to;

  AlertPage page;
  std::lock_guard lock(impl_->mu);
  const Impl& s = *impl_;
  if (query.district) {
    f.district = s.names.find(*query.district);
    if (!f.district) return page;  // no alert was ever in it
  }
  const std::vector<QueueKey> keys = s.run_query(f, after, query.limit);
  const size_t shown = std::min<size_t>(keys.size(), query.limit);
  page.alerts.reserve(shown);
  for (size_t i = 0; i < shown; ++i) {
    page.alerts.push_back(s.materialise(keys[i].node->first, keys[i].node->second));
  }
  if (keys.size() > query.limit) page.next_cursor = encode_cursor(keys[shown - 1]);
  return page;
}

std::optional<std::vector<AlertChange>> AlertStore::changes_since(uint64_t after, size_t limit) const {
  std::lock_guard lock(impl_->mu);
  const Impl& s = *impl_;
  if (after > s.last_seq) return std::nullopt;
  std::vector<AlertChange> out;
  if (after == s.last_seq) return out;
  const uint64_t first = s.ring.empty() ? s.last_seq + 1 : s.ring.front().seq;
  if (after + 1 < first) return std::nullopt;
  for (size_t i = after + 1 - first; i < s.ring.size() && out.size() < limit; ++i) {
    const Impl::RingItem& item = s.ring[i];
    out.push_back(AlertChange{item.seq, item.kind, s.materialise(item.alert_id, item.state)});
  }
  return out;
}

std::pair<std::vector<StoredAlert>, uint64_t> AlertStore::snapshot(size_t limit) const {
  std::lock_guard lock(impl_->mu);
  const Impl& s = *impl_;
  std::vector<StoredAlert> out;
  out.reserve(std::min(limit, s.map.size()));
  for (auto it = s.queue.begin(); it != s.queue.end() && it->part == part_of(kAll, 0) && out.size() < limit;
       ++it) {
    out.push_back(s.materialise(it->node->first, it->node->second));
  }
  return {std::move(out), s.last_seq};
}

uint64_t AlertStore::wait_for_change(uint64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  impl_->changed.wait_for(lock, timeout, [&] { return impl_->last_seq > after; });
  return impl_->last_seq;
}

uint64_t AlertStore::last_seq() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_seq;
}

AlertStoreStats AlertStore::stats(WallMs now) const {
  std::lock_guard lock(impl_->mu);
  const Impl& s = *impl_;
  // Move the keys that crossed `now` since the last call (either way).
  if (now > s.due_split) {
    while (!s.due_future.empty() && s.due_future.begin()->t < now) {
      s.due_past.insert(*s.due_future.begin());
      s.due_future.erase(s.due_future.begin());
    }
  } else if (now < s.due_split) {
    while (!s.due_past.empty() && std::prev(s.due_past.end())->t >= now) {
      s.due_future.insert(*std::prev(s.due_past.end()));
      s.due_past.erase(std::prev(s.due_past.end()));
    }
  }
  s.due_split = now;
  AlertStoreStats st;
  st.alerts = s.n_alert;
  st.trend_watch = s.n_trend;
  st.unacked = s.n_unacked;
  st.overdue = s.due_past.size();
  for (int p = 0; p < 4; ++p) st.by_priority[p] = s.by_priority[p];
  st.last_seq = s.last_seq;
  st.evicted = s.evicted;
  return st;
}

}  // namespace sentinel
