// RedisAlertQueue: the wire helpers, the merge (C++ and the Lua twin that
// runs in Redis), and the I/O thread's poll loop over two hiredis contexts.
#include "alerts/alerts_log.h"
#include "alerts/redis_queue.h"

#include <absl/container/flat_hash_map.h>
#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <utility>

namespace sentinel {
namespace redis_wire {
namespace {

constexpr std::string_view kAckDue = R"(,"ack_due":)";
constexpr std::string_view kAckedAt = R"(,"acked_at":)";
constexpr std::string_view kAckLate = R"(,"ack_late":)";
constexpr std::string_view kVerdict = R"(,"verdict":)";
constexpr std::string_view kOrigin = R"(,"origin":)";

// The pieces of a rendered view the merge recombines (see redis_queue.h).
struct Pieces {
  std::string_view head, due, ack, feedback, tail;
};

Pieces pieces_of(const WireView& v) {
  const std::string_view j = v.json;
  return {j.substr(0, v.off_due), j.substr(v.off_due, v.off_ack - v.off_due),
          j.substr(v.off_ack, v.off_late - v.off_ack),
          j.substr(v.off_verdict, v.off_origin - v.off_verdict), j.substr(v.off_origin)};
}

// The record (the pipeline's object) compares by its own bytes.
std::string_view record_body(const WireView& v) {
  return std::string_view(v.json).substr(0, v.record_prefix);
}

// Each is a strict total order on its component (`a` wins over `b`), the
// same as AlertStore::apply_remote's; strings compare byte-wise
// (char_traits<char>, like the store's tuples).
bool record_newer(const WireView& a, const WireView& b) {
  if (a.revision != b.revision) return a.revision > b.revision;
  if (a.received_at != b.received_at) return a.received_at > b.received_at;
  // Both bodies end where the record's closing '}' was: compare body + '}'.
  const std::string_view ra = record_body(a), rb = record_body(b);
  if (ra != rb) {
    const size_t n = std::min(ra.size(), rb.size());
    const int c = ra.substr(0, n).compare(rb.substr(0, n));
    if (c != 0) return c > 0;
    const char na = ra.size() > n ? ra[n] : '}', nb = rb.size() > n ? rb[n] : '}';
    if (na != nb) return static_cast<unsigned char>(na) > static_cast<unsigned char>(nb);
    return ra.size() > rb.size();  // the shorter body + '}' is a prefix of the longer one's
  }
  if (a.updated_at != b.updated_at) return a.updated_at > b.updated_at;
  return a.origin > b.origin;
}

bool due_earlier(const WireView& a, const WireView& b) {
  return a.ack_due != 0 && (b.ack_due == 0 || a.ack_due < b.ack_due);
}

bool ack_earlier(const WireView& a, const WireView& b) {
  if (a.acked_at != b.acked_at) {
    if (a.acked_at == 0) return false;
    if (b.acked_at == 0) return true;
    return a.acked_at < b.acked_at;
  }
  return a.acked_by < b.acked_by;
}

bool feedback_later(const WireView& a, const WireView& b) {
  if ((a.verdict == 0) != (b.verdict == 0)) return a.verdict != 0;
  return std::tie(b.verdict_at, b.verdict_by, b.verdict, b.verdict_note) <
         std::tie(a.verdict_at, a.verdict_by, a.verdict, a.verdict_note);
}

// The Lua twin of merge() below: keep the two in step (the integration test
// compares what Redis stores with merge() of the same views).
constexpr std::string_view kMergeScript = R"lua(
local alerts, meta, queue, age = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local channel, sender, max_alerts = ARGV[1], ARGV[2], tonumber(ARGV[3])
local OPEN = 4398046511104 -- 2^42: open alerts are trimmed after every closed one

local function bytes_less(a, b) -- byte-wise; `<` on strings follows the server's locale
  if a == b then return false end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function pieces(v, json)
  v.head = string.sub(json, 1, v.off_due)
  v.duep = string.sub(json, v.off_due + 1, v.off_ack)
  v.ackp = string.sub(json, v.off_ack + 1, v.off_late)
  v.fbp = string.sub(json, v.off_verdict + 1, v.off_origin)
  v.tail = string.sub(json, v.off_origin + 1)
  return v
end

local function record_newer(a, b)
  if a.rev ~= b.rev then return a.rev > b.rev end
  if a.recv ~= b.recv then return a.recv > b.recv end
  local ra, rb = string.sub(a.head, 1, a.rec_len) .. '}', string.sub(b.head, 1, b.rec_len) .. '}'
  if ra ~= rb then return bytes_less(rb, ra) end
  if a.upd ~= b.upd then return a.upd > b.upd end
  return bytes_less(b.origin, a.origin)
end

local function due_earlier(a, b)
  return a.due ~= 0 and (b.due == 0 or a.due < b.due)
end

local function ack_earlier(a, b)
  if a.acked_at ~= b.acked_at then
    if a.acked_at == 0 then return false end
    if b.acked_at == 0 then return true end
    return a.acked_at < b.acked_at
  end
  return bytes_less(a.acked_by, b.acked_by)
end

local function feedback_later(a, b)
  if (a.verdict == 0) ~= (b.verdict == 0) then return a.verdict ~= 0 end
  if a.verdict_at ~= b.verdict_at then return a.verdict_at > b.verdict_at end
  if a.verdict_by ~= b.verdict_by then return bytes_less(b.verdict_by, a.verdict_by) end
  if a.verdict ~= b.verdict then return a.verdict > b.verdict end
  return bytes_less(b.note, a.note)
end

local changed = {}
for i = 4, #ARGV, 21 do
  local id = ARGV[i]
  local n = function(k) return tonumber(ARGV[i + k]) end
  local v = pieces({rev = n(3), recv = n(4), upd = n(5), origin = ARGV[i + 6], due = n(7),
    acked_at = n(8), acked_by = ARGV[i + 9], verdict_at = n(10), verdict_by = ARGV[i + 11],
    verdict = n(12), note = ARGV[i + 13], trend = n(14), rec_len = n(15), off_due = n(16),
    off_ack = n(17), off_late = n(18), off_verdict = n(19), off_origin = n(20)}, ARGV[i + 1])
  local r, d, a, f = v, v, v, v
  local packed = redis.call('HGET', meta, id)
  local json = packed and redis.call('HGET', alerts, id)
  if packed and json then
    local s = {}
    s.rev, s.recv, s.upd, s.origin, s.due, s.acked_at, s.acked_by, s.verdict_at, s.verdict_by,
      s.verdict, s.note, s.trend, s.rec_len, s.off_due, s.off_ack, s.off_late, s.off_verdict,
      s.off_origin = cmsgpack.unpack(packed)
    pieces(s, json)
    if not record_newer(v, s) then r = s end
    if not due_earlier(v, s) then d = s end
    if not ack_earlier(v, s) then a = s end
    if not feedback_later(v, s) then f = s end
  end
  if r == v or d == v or a == v or f == v then
    local is_late = a.acked_at ~= 0 and d.due ~= 0 and a.acked_at > d.due
    local late = ',"ack_late":' .. (is_late and 'true' or 'false')
    local merged = r.head .. d.duep .. a.ackp .. late .. f.fbp .. r.tail
    local off_ack = #r.head + #d.duep
    local off_late = off_ack + #a.ackp
    local off_verdict = off_late + #late
    redis.call('HSET', alerts, id, merged)
    redis.call('HSET', meta, id, cmsgpack.pack(r.rev, r.recv, r.upd, r.origin, d.due, a.acked_at,
      a.acked_by, f.verdict_at, f.verdict_by, f.verdict, f.note, r.trend, r.rec_len, #r.head,
      off_ack, off_late, off_verdict, off_verdict + #f.fbp))
    if r == v then redis.call('ZADD', queue, ARGV[i + 2], id) end
    local closed = r.trend == 1 or a.acked_at ~= 0
    redis.call('ZADD', age, string.format('%d', (closed and 0 or OPEN) + r.recv), id)
    changed[#changed + 1] = merged
  end
end

local excess = redis.call('ZCARD', age) - max_alerts
if excess > 0 then
  local victims = redis.call('ZRANGE', age, 0, math.min(excess, 1000) - 1)
  redis.call('HDEL', alerts, unpack(victims))
  redis.call('HDEL', meta, unpack(victims))
  redis.call('ZREM', queue, unpack(victims))
  redis.call('ZREM', age, unpack(victims))
end

if #changed > 0 then
  redis.call('PUBLISH', channel, sender .. '\n' .. table.concat(changed, '\n'))
end
return #changed
)lua";

}  // namespace

Keys keys_for(std::string_view prefix) {
  const std::string p(prefix);
  return Keys{p + ":alerts", p + ":meta", p + ":queue", p + ":age", p + ":epoch", p + ":changes"};
}

Result<Endpoint> parse_endpoint(std::string_view host_port) {
  const auto bad = [&] {
    return make_error("queue.redis",
                      fmt::format("expected host:port like 127.0.0.1:6379, got \"{}\"", host_port));
  };
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = host_port.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad();
  }
  const std::string_view port_text = host_port.substr(colon + 1);
  int port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return bad();
  }
  return Endpoint{std::string(host), port};
}

int64_t queue_score(Priority band, double score, WallMs received_at) {
  constexpr int64_t kTimeSpan = int64_t{1} << 36;
  const double clipped = std::isnan(score) ? 0.0 : std::clamp(score, 0.0, 1.0);
  const int64_t score4 = std::llround(clipped * 10'000);
  const int64_t top = (3 - static_cast<int64_t>(band)) * 10'001 + score4;
  const int64_t tenths = std::clamp<int64_t>(received_at / 100, 0, kTimeSpan - 1);
  return top * kTimeSpan + tenths;
}

Result<WireView> make_wire_view(const StoredAlert& alert, std::string_view default_origin) {
  if (alert.alert_id.empty()) return make_error("alert_id", "empty");
  WireView v;
  v.alert_id = alert.alert_id;
  if (alert.origin.empty() && !default_origin.empty()) {
    StoredAlert copy = alert;
    copy.origin = std::string(default_origin);
    render_stored_alert(copy, v.json);
  } else {
    render_stored_alert(alert, v.json);
  }
  const std::string_view j = v.json;
  const std::string_view record = alert.record;
  if (record.size() < 2 || record.back() != '}' ||
      !j.starts_with(record.substr(0, record.size() - 1))) {
    return make_error("record", "the rendered view does not start with the alert's record");
  }
  if (j.find('\n') != std::string_view::npos)
    return make_error("record", "the view holds a raw newline");
  v.record_prefix = record.size() - 1;
  size_t at = v.record_prefix;
  for (auto [marker, offset] :
       {std::pair{kAckDue, &v.off_due}, std::pair{kAckedAt, &v.off_ack},
        std::pair{kAckLate, &v.off_late}, std::pair{kVerdict, &v.off_verdict},
        std::pair{kOrigin, &v.off_origin}}) {
    const size_t found = j.find(marker, at);
    if (found == std::string_view::npos) {
      return make_error("record",
                        fmt::format("the rendered view lacks {} in its place", marker.substr(1)));
    }
    *offset = found;
    at = found + marker.size();
  }
  v.queue_score = queue_score(alert.priority, alert.score, alert.received_at);
  v.revision = alert.revision;
  v.received_at = alert.received_at;
  v.updated_at = alert.updated_at;
  v.origin = alert.origin.empty() ? std::string(default_origin) : alert.origin;
  v.ack_due = alert.ack_due;
  v.acked_at = alert.acked_at;
  v.acked_by = alert.acked_by;
  v.verdict = static_cast<uint8_t>(alert.verdict);
  v.verdict_at = alert.verdict_at;
  v.verdict_by = alert.verdict_by;
  v.verdict_note = alert.verdict_note;
  v.trend_watch = alert.status == AlertStatus::kTrendWatch;
  return v;
}

WireView merge(const WireView& a, const WireView& b) {
  const WireView& r = record_newer(b, a) ? b : a;
  const WireView& d = due_earlier(b, a) ? b : a;
  const WireView& k = ack_earlier(b, a) ? b : a;
  const WireView& f = feedback_later(b, a) ? b : a;
  if (&r == &d && &r == &k && &r == &f) return r;
  const Pieces pr = pieces_of(r), pd = pieces_of(d), pk = pieces_of(k), pf = pieces_of(f);
  const bool late = k.acked_at != 0 && d.ack_due != 0 && k.acked_at > d.ack_due;
  WireView m;
  m.alert_id = r.alert_id;
  m.json.reserve(r.json.size() + pd.due.size() + pk.ack.size() + pf.feedback.size());
  m.json.append(pr.head);
  m.off_due = m.json.size();
  m.json.append(pd.due);
  m.off_ack = m.json.size();
  m.json.append(pk.ack);
  m.off_late = m.json.size();
  m.json.append(kAckLate).append(late ? "true" : "false");
  m.off_verdict = m.json.size();
  m.json.append(pf.feedback);
  m.off_origin = m.json.size();
  m.json.append(pr.tail);
  m.queue_score = r.queue_score;
  m.revision = r.revision;
  m.received_at = r.received_at;
  m.updated_at = r.updated_at;
  m.origin = r.origin;
  m.trend_watch = r.trend_watch;
  m.record_prefix = r.record_prefix;
  m.ack_due = d.ack_due;
  m.acked_at = k.acked_at;
  m.acked_by = k.acked_by;
  m.verdict = f.verdict;
  m.verdict_at = f.verdict_at;
  m.verdict_by = f.verdict_by;
  m.verdict_note = f.verdict_note;
  return m;
}

void append_view_args(const WireView& v, std::vector<std::string>& args) {
  args.push_back(v.alert_id);
  args.push_back(v.json);
  args.push_back(std::to_string(v.queue_score));
  args.push_back(std::to_string(v.revision));
  args.push_back(std::to_string(v.received_at));
  args.push_back(std::to_string(v.updated_at));
  args.push_back(v.origin);
  args.push_back(std::to_string(v.ack_due));
  args.push_back(std::to_string(v.acked_at));
  args.push_back(v.acked_by);
  args.push_back(std::to_string(v.verdict_at));
  args.push_back(v.verdict_by);
  args.push_back(std::to_string(v.verdict));
  args.push_back(v.verdict_note);
  args.push_back(v.trend_watch ? "1" : "0");
  args.push_back(std::to_string(v.record_prefix));
  args.push_back(std::to_string(v.off_due));
  args.push_back(std::to_string(v.off_ack));
  args.push_back(std::to_string(v.off_late));
  args.push_back(std::to_string(v.off_verdict));
  args.push_back(std::to_string(v.off_origin));
}

std::string_view merge_script() {
  return kMergeScript;
}

std::optional<Frame> parse_frame(std::string_view payload) {
  const size_t nl = payload.find('\n');
  if (nl == std::string_view::npos || nl == 0) return std::nullopt;
  Frame frame{payload.substr(0, nl), {}};
  std::string_view rest = payload.substr(nl + 1);
  while (!rest.empty()) {
    const size_t end = std::min(rest.find('\n'), rest.size());
    if (end > 0) frame.views.push_back(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  return frame;
}

}  // namespace redis_wire

namespace {

using Clock = std::chrono::steady_clock;
using redis_wire::WireView;

/// Views per EVALSHA: large enough that the per-call cost vanishes, small
/// enough that one script run (~1 ms) never stalls Redis for others.
constexpr size_t kMaxBatchViews = 256;
/// EVALSHA batches sent and unanswered at once (pipelining).
constexpr size_t kMaxInFlightBatches = 4;
/// HSCAN COUNT of a full load.
constexpr size_t kScanCount = 1000;
/// Floor of the reply and connect timeouts, so a busy Redis answering a big
/// batch is not taken for a dead one when queue.redis_retry is tiny.
constexpr Millis kMinReplyTimeout{200};

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

std::string_view reply_text(const redisReply& r) {
  return r.str != nullptr ? std::string_view(r.str, r.len) : std::string_view();
}

}  // namespace

struct RedisAlertQueue::Impl {
  Impl(const QueueConfig& config, AlertStore& store, std::string id);
  ~Impl();

  // ---- shared with the callers' threads, under mu ----
  void enqueue_locked(WireView&& view);
  std::vector<WireView> take_batch();
  void requeue(std::vector<WireView>&& views);

  // ---- the I/O thread ----
  enum class Kind : uint8_t { kScriptLoad, kEpochSet, kEpochGet, kEval, kScan, kPing, kSubscribe };
  struct Expect {
    Kind kind;
    Clock::time_point sent;
    std::vector<WireView> views;  // kEval: what the reply confirms
  };
  enum class LinkState : uint8_t { kDown, kConnecting, kHandshake, kReady };
  struct Link {
    std::string_view name;
    redisContext* ctx = nullptr;
    LinkState state = LinkState::kDown;
    Clock::time_point next_attempt{}, deadline{}, last_rx{}, last_tx{};
    std::deque<Expect> expect;
  };

  void run();
  void begin_connect(Link& link, Clock::time_point now);
  void on_writable_connecting(Link& link, Clock::time_point now);
  void send(Link& link, Kind kind, const std::vector<std::string>& args, Clock::time_point now,
            std::vector<WireView> views = {});
  void flush(Link& link, Clock::time_point now);
  void read(Link& link, Clock::time_point now);
  void on_command_reply(const redisReply& reply, Clock::time_point now);
  void on_subscriber_reply(const redisReply& reply, Clock::time_point now);
  void on_message(std::string_view payload);
  void on_scan_page(const redisReply& reply, Clock::time_point now);
  void on_epoch(std::string_view current);
  void republish_page();
  void fill(Clock::time_point now);
  void check_timeouts(Clock::time_point now);
  Clock::time_point next_wake(Clock::time_point now) const;
  void fail(Link& link, const std::string& reason, Clock::time_point now);
  void update_connected();
  void close_all();

  redis_wire::Endpoint endpoint;
  redis_wire::Keys keys;
  Millis retry;
  Millis reply_timeout;
  uint64_t max_alerts;
  AlertStore& local;
  std::string process_id;
  std::string script{redis_wire::merge_script()};

  // A leaf lock: nothing else is locked or called while it is held (the
  // store's mutex is never taken under it).
  mutable std::mutex mu;
  // Unconfirmed views not yet sent: one (merged) view per alert, ids in
  // first-published order.
  absl::flat_hash_map<std::string, WireView> pending;
  std::deque<std::string> order;
  uint64_t in_flight_views = 0;
  Status status;
  bool stopping = false;
  bool wake_posted = false;
  bool invalid_logged = false;

  int wake_fd = -1;
  std::thread thread;

  // I/O thread only.
  Link cmd{"command"}, sub{"subscriber"};
  std::string sha;
  size_t evals_in_flight = 0;
  bool connected = false, ever_connected = false, outage_logged = false;
  bool reload_wanted = false, reload_active = false;
  uint64_t reload_count = 0;
  // The P:epoch value seen last ("" before the first connection). Each
  // connection offers a fresh token, so a Redis that lost its data never gets
  // the old value back.
  std::string epoch;
  std::mt19937_64 token_rng{std::random_device{}()};
  bool republish_active = false;
  std::string republish_cursor;
  uint64_t republish_count = 0;
};

RedisAlertQueue::Impl::Impl(const QueueConfig& config, AlertStore& store, std::string id)
    : retry(config.redis_retry),
      reply_timeout(std::max(config.redis_retry, kMinReplyTimeout)),
      max_alerts(config.max_alerts),
      local(store),
      process_id(std::move(id)) {
  Result<redis_wire::Endpoint> ep = redis_wire::parse_endpoint(config.redis);
  if (!ep) throw std::invalid_argument(ep.error().to_string());
  endpoint = std::move(*ep);
  if (config.redis_prefix.empty())
    throw std::invalid_argument("queue.redis_prefix: must not be empty");
  keys = redis_wire::keys_for(config.redis_prefix);
  if (process_id.empty() || process_id.find('\n') != std::string::npos) {
    throw std::invalid_argument(
        "redis queue: the process id must be non-empty and hold no newline");
  }
  if (config.redis_retry.count() <= 0)
    throw std::invalid_argument("queue.redis_retry: must be positive");
  wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0)
    throw std::runtime_error(fmt::format("redis queue: eventfd: {}", std::strerror(errno)));
}

RedisAlertQueue::Impl::~Impl() {
  if (wake_fd >= 0) ::close(wake_fd);
}

void RedisAlertQueue::Impl::enqueue_locked(WireView&& view) {
  auto [it, inserted] = pending.try_emplace(view.alert_id);
  if (inserted) {
    order.push_back(view.alert_id);
    it->second = std::move(view);
  } else {
    it->second = redis_wire::merge(it->second, view);
  }
}

std::vector<WireView> RedisAlertQueue::Impl::take_batch() {
  std::vector<WireView> batch;
  std::lock_guard lock(mu);
  while (!order.empty() && batch.size() < kMaxBatchViews) {
    auto node = pending.extract(order.front());
    order.pop_front();
    batch.push_back(std::move(node.mapped()));
  }
  in_flight_views += batch.size();
  return batch;
}

void RedisAlertQueue::Impl::requeue(std::vector<WireView>&& views) {
  std::lock_guard lock(mu);
  in_flight_views -= views.size();
  std::vector<std::string> fresh;
  for (WireView& v : views) {
    auto [it, inserted] = pending.try_emplace(v.alert_id);
    if (inserted) {
      fresh.push_back(v.alert_id);
      it->second = std::move(v);
    } else {
      it->second = redis_wire::merge(it->second, v);
    }
  }
  // Sent before what is still queued, so they go first again.
  order.insert(order.begin(), fresh.begin(), fresh.end());
}

void RedisAlertQueue::Impl::run() {
  std::vector<pollfd> fds;
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (stopping) break;
    }
    Clock::time_point now = Clock::now();
    for (Link* link : {&cmd, &sub}) {
      if (link->state == LinkState::kDown && now >= link->next_attempt) begin_connect(*link, now);
    }
    check_timeouts(now);
    fill(now);

    fds.clear();
    fds.push_back({wake_fd, POLLIN, 0});
    Link* polled[2] = {nullptr, nullptr};
    size_t n_links = 0;
    for (Link* link : {&cmd, &sub}) {
      if (link->ctx == nullptr) continue;
      short events = 0;
      if (link->state == LinkState::kConnecting) {
        events = POLLOUT;
      } else {
        events = POLLIN;
        if (sdslen(link->ctx->obuf) > 0) events |= POLLOUT;
      }
      fds.push_back({link->ctx->fd, events, 0});
      polled[n_links++] = link;
    }
    const auto wake = next_wake(now);
    const int timeout_ms = static_cast<int>(
        std::clamp<int64_t>(std::chrono::ceil<Millis>(wake - now).count(), 0, 1000));
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) {
      alerts_log()->error("redis queue: poll: {}", std::strerror(errno));
      break;
    }
    now = Clock::now();
    if (n > 0 && (fds[0].revents & POLLIN) != 0) {
      uint64_t count = 0;
      [[maybe_unused]] const ssize_t got = ::read(wake_fd, &count, sizeof count);
      std::lock_guard lock(mu);
      wake_posted = false;
    }
    for (size_t i = 0; n > 0 && i < n_links; ++i) {
      Link& link = *polled[i];
      const short revents = fds[i + 1].revents;
      if (revents == 0 || link.ctx == nullptr) continue;
      if (link.state == LinkState::kConnecting) {
        on_writable_connecting(link, now);
        continue;
      }
      if ((revents & POLLOUT) != 0) flush(link, now);
      if (link.ctx != nullptr && (revents & (POLLIN | POLLHUP | POLLERR)) != 0) read(link, now);
    }
  }
  close_all();
}

void RedisAlertQueue::Impl::begin_connect(Link& link, Clock::time_point now) {
  link.ctx = redisConnectNonBlock(endpoint.host.c_str(), endpoint.port);
  if (link.ctx == nullptr || link.ctx->err != 0) {
    const std::string reason = link.ctx != nullptr ? link.ctx->errstr : "cannot allocate a context";
    fail(link, fmt::format("connect {}:{}: {}", endpoint.host, endpoint.port, reason), now);
    return;
  }
  link.state = LinkState::kConnecting;
  link.deadline = now + reply_timeout;
}

void RedisAlertQueue::Impl::on_writable_connecting(Link& link, Clock::time_point now) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(link.ctx->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    fail(link, fmt::format("connect {}:{}: {}", endpoint.host, endpoint.port, std::strerror(err)),
         now);
    return;
  }
  link.state = LinkState::kHandshake;
  link.last_rx = now;
  if (&link == &cmd) {
    send(link, Kind::kScriptLoad, {"SCRIPT", "LOAD", script}, now);
    // A missing P:epoch means Redis lost its data (or never had any).
    const std::string offer = fmt::format("{}:{:016x}", process_id, token_rng());
    if (link.ctx != nullptr) send(link, Kind::kEpochSet, {"SET", keys.epoch, offer, "NX"}, now);
    if (link.ctx != nullptr) send(link, Kind::kEpochGet, {"GET", keys.epoch}, now);
  } else {
    send(link, Kind::kSubscribe, {"SUBSCRIBE", keys.channel}, now);
  }
}

void RedisAlertQueue::Impl::send(Link& link, Kind kind, const std::vector<std::string>& args,
                                 Clock::time_point now, std::vector<WireView> views) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(link.ctx, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
      REDIS_OK) {
    if (!views.empty()) requeue(std::move(views));
    fail(link, fmt::format("{} link: cannot queue a command: {}", link.name, link.ctx->errstr),
         now);
    return;
  }
  link.expect.push_back(Expect{kind, now, std::move(views)});
  link.last_tx = now;
}

void RedisAlertQueue::Impl::flush(Link& link, Clock::time_point now) {
  while (link.ctx != nullptr && sdslen(link.ctx->obuf) > 0) {
    const size_t before = sdslen(link.ctx->obuf);
    int done = 0;
    if (redisBufferWrite(link.ctx, &done) != REDIS_OK) {
      fail(link, fmt::format("{} link: write: {}", link.name, link.ctx->errstr), now);
      return;
    }
    if (done != 0 || sdslen(link.ctx->obuf) == before) return;  // sent, or the socket is full
  }
}

void RedisAlertQueue::Impl::read(Link& link, Clock::time_point now) {
  if (redisBufferRead(link.ctx) != REDIS_OK) {
    fail(link, fmt::format("{} link: {}", link.name, link.ctx->errstr), now);
    return;
  }
  link.last_rx = now;
  while (link.ctx != nullptr) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(link.ctx, &raw) != REDIS_OK) {
      fail(link, fmt::format("{} link: protocol: {}", link.name, link.ctx->errstr), now);
      return;
    }
    if (raw == nullptr) return;
    const ReplyPtr reply(static_cast<redisReply*>(raw));
    if (&link == &cmd) {
      on_command_reply(*reply, now);
    } else {
      on_subscriber_reply(*reply, now);
    }
  }
}

void RedisAlertQueue::Impl::on_command_reply(const redisReply& reply, Clock::time_point now) {
  if (cmd.expect.empty()) {
    fail(cmd, "command link: a reply nobody asked for", now);
    return;
  }
  Expect e = std::move(cmd.expect.front());
  cmd.expect.pop_front();
  if (reply.type == REDIS_REPLY_ERROR) {
    if (e.kind == Kind::kEval) {
      --evals_in_flight;
      requeue(std::move(e.views));
    }
    fail(cmd, fmt::format("command link: {}", reply_text(reply)), now);
    return;
  }
  switch (e.kind) {
    case Kind::kScriptLoad:
      sha = std::string(reply_text(reply));
      cmd.state = LinkState::kReady;
      update_connected();
      break;
    case Kind::kEval: {
      --evals_in_flight;
      std::lock_guard lock(mu);
      in_flight_views -= e.views.size();
      status.published += e.views.size();
      break;
    }
    case Kind::kEpochGet:
      on_epoch(reply_text(reply));
      break;
    case Kind::kScan:
      on_scan_page(reply, now);
      break;
    case Kind::kEpochSet:
    case Kind::kPing:
    case Kind::kSubscribe:
      break;
  }
}

void RedisAlertQueue::Impl::on_scan_page(const redisReply& reply, Clock::time_point now) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2 ||
      reply.element[0]->type != REDIS_REPLY_STRING || reply.element[1]->type != REDIS_REPLY_ARRAY) {
    fail(cmd, "command link: HSCAN gave an unexpected reply", now);
    return;
  }
  const redisReply& items = *reply.element[1];
  uint64_t applied = 0, bad = 0;
  for (size_t i = 1; i < items.elements; i += 2) {
    Result<StoredAlert> view = parse_stored_alert(reply_text(*items.element[i]));
    if (!view) {
      ++bad;
      continue;
    }
    local.apply_remote(*view);
    ++applied;
  }
  reload_count += applied;
  {
    std::lock_guard lock(mu);
    status.loaded += applied;
    status.invalid += bad;
  }
  if (bad > 0)
    alerts_log()->warn("redis queue: {} unreadable views in {} skipped", bad, keys.alerts);
  const std::string cursor(reply_text(*reply.element[0]));
  if (cursor != "0") {
    send(cmd, Kind::kScan, {"HSCAN", keys.alerts, cursor, "COUNT", std::to_string(kScanCount)},
         now);
    return;
  }
  reload_active = false;
  alerts_log()->info("redis queue: loaded {} alerts from {}", reload_count, keys.alerts);
}

void RedisAlertQueue::Impl::on_epoch(std::string_view current) {
  if (epoch.empty() || current == epoch) {
    epoch = std::string(current);
    return;
  }
  // Redis came back without the data it had confirmed (no persistence, or
  // flushed): re-send the whole local store, a page at a time (fill()).
  epoch = std::string(current);
  republish_active = true;
  republish_cursor.clear();
  republish_count = 0;
  alerts_log()->warn("redis queue: {} lost its data; re-publishing this process's alerts",
                     keys.epoch);
}

void RedisAlertQueue::Impl::republish_page() {
  AlertQuery query;
  query.cursor = republish_cursor;
  query.limit = kMaxBatchViews * 4;
  Result<AlertPage> page = local.list(query);
  if (!page) {
    // The cursor outlived its alert's order key: start over (merging is idempotent).
    republish_cursor.clear();
    return;
  }
  std::vector<WireView> views;
  views.reserve(page->alerts.size());
  uint64_t bad = 0;
  for (const StoredAlert& a : page->alerts) {
    Result<WireView> v = redis_wire::make_wire_view(a, process_id);
    if (v) {
      views.push_back(std::move(*v));
    } else {
      ++bad;
    }
  }
  republish_count += views.size();
  {
    std::lock_guard lock(mu);
    for (WireView& v : views) enqueue_locked(std::move(v));
    status.republished += views.size();
    status.invalid += bad;
  }
  republish_cursor = std::move(page->next_cursor);
  if (republish_cursor.empty()) {
    republish_active = false;
    alerts_log()->info("redis queue: re-published {} alerts", republish_count);
  }
}

void RedisAlertQueue::Impl::on_subscriber_reply(const redisReply& reply, Clock::time_point now) {
  if (reply.type == REDIS_REPLY_ERROR) {
    fail(sub, fmt::format("subscriber link: {}", reply_text(reply)), now);
    return;
  }
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 1 ||
      reply.element[0]->type != REDIS_REPLY_STRING) {
    fail(sub, "subscriber link: unexpected reply", now);
    return;
  }
  const std::string_view kind = reply_text(*reply.element[0]);
  if (kind == "message" && reply.elements == 3) {
    on_message(reply_text(*reply.element[2]));
    return;
  }
  const Kind want = kind == "subscribe" ? Kind::kSubscribe : Kind::kPing;
  if ((kind != "subscribe" && kind != "pong") || sub.expect.empty() ||
      sub.expect.front().kind != want) {
    fail(sub, fmt::format("subscriber link: unexpected \"{}\"", kind), now);
    return;
  }
  sub.expect.pop_front();
  if (want == Kind::kSubscribe) {
    sub.state = LinkState::kReady;
    update_connected();
  }
}

void RedisAlertQueue::Impl::on_message(std::string_view payload) {
  const std::optional<redis_wire::Frame> frame = redis_wire::parse_frame(payload);
  uint64_t applied = 0, bad = 0;
  if (!frame) {
    bad = 1;
  } else if (frame->sender != process_id) {
    for (std::string_view json : frame->views) {
      Result<StoredAlert> view = parse_stored_alert(json);
      if (!view) {
        ++bad;
        continue;
      }
      local.apply_remote(*view);
      ++applied;
    }
  }
  if (applied == 0 && bad == 0) return;
  bool log_bad = false;
  {
    std::lock_guard lock(mu);
    status.received += applied;
    status.invalid += bad;
    log_bad = bad > 0 && !invalid_logged;
    invalid_logged = invalid_logged || bad > 0;
  }
  if (log_bad)
    alerts_log()->warn("redis queue: unreadable message on {} skipped (logged once)", keys.channel);
}

void RedisAlertQueue::Impl::fill(Clock::time_point now) {
  if (cmd.state == LinkState::kReady) {
    if (republish_active) {
      size_t queued = 0;
      {
        std::lock_guard lock(mu);
        queued = pending.size();
      }
      // Refill only as the queue drains, so a large store never sits in memory twice.
      if (queued < kMaxBatchViews * kMaxInFlightBatches) republish_page();
    }
    while (evals_in_flight < kMaxInFlightBatches) {
      std::vector<WireView> batch = take_batch();
      if (batch.empty()) break;
      std::vector<std::string> args{
          "EVALSHA",  sha,      "4",          keys.alerts, keys.meta,
          keys.queue, keys.age, keys.channel, process_id,  std::to_string(max_alerts)};
      args.reserve(args.size() + batch.size() * redis_wire::kArgsPerView);
      for (const WireView& v : batch) redis_wire::append_view_args(v, args);
      ++evals_in_flight;
      send(cmd, Kind::kEval, args, now, std::move(batch));
      if (cmd.state != LinkState::kReady) return;
    }
    if (connected && reload_wanted && !reload_active) {
      reload_wanted = false;
      reload_active = true;
      reload_count = 0;
      send(cmd, Kind::kScan, {"HSCAN", keys.alerts, "0", "COUNT", std::to_string(kScanCount)}, now);
    }
  }
  for (Link* link : {&cmd, &sub}) {
    if (link->state == LinkState::kReady && link->expect.empty() &&
        now - std::max(link->last_tx, link->last_rx) >= retry) {
      send(*link, Kind::kPing, {"PING"}, now);
    }
    if (link->ctx != nullptr && link->state != LinkState::kConnecting) flush(*link, now);
  }
}

void RedisAlertQueue::Impl::check_timeouts(Clock::time_point now) {
  for (Link* link : {&cmd, &sub}) {
    if (link->state == LinkState::kConnecting && now >= link->deadline) {
      fail(*link, fmt::format("connect {}:{}: timed out", endpoint.host, endpoint.port), now);
    } else if ((link->state == LinkState::kHandshake || link->state == LinkState::kReady) &&
               !link->expect.empty() &&
               now - std::max(link->expect.front().sent, link->last_rx) >= reply_timeout) {
      fail(*link, fmt::format("{} link: no reply within {} ms", link->name, reply_timeout.count()),
           now);
    }
  }
}

Clock::time_point RedisAlertQueue::Impl::next_wake(Clock::time_point now) const {
  Clock::time_point wake = now + Millis(1000);
  for (const Link* link : {&cmd, &sub}) {
    switch (link->state) {
      case LinkState::kDown:
        wake = std::min(wake, link->next_attempt);
        break;
      case LinkState::kConnecting:
        wake = std::min(wake, link->deadline);
        break;
      case LinkState::kHandshake:
      case LinkState::kReady:
        if (!link->expect.empty()) {
          wake = std::min(wake, std::max(link->expect.front().sent, link->last_rx) + reply_timeout);
        } else {
          wake = std::min(wake, std::max(link->last_tx, link->last_rx) + retry);
        }
        break;
    }
  }
  return wake;
}

void RedisAlertQueue::Impl::fail(Link& link, const std::string& reason, Clock::time_point now) {
  if (link.ctx != nullptr) redisFree(link.ctx);
  link.ctx = nullptr;
  link.state = LinkState::kDown;
  link.next_attempt = now + retry;
  for (Expect& e : link.expect) {
    if (e.kind == Kind::kEval) requeue(std::move(e.views));
  }
  link.expect.clear();
  if (&link == &cmd) {
    evals_in_flight = 0;
    reload_active = false;
    sha.clear();
  }
  {
    std::lock_guard lock(mu);
    status.last_error = reason;
  }
  if (!outage_logged) {
    alerts_log()->warn("redis queue: {} (retrying every {} ms)", reason, retry.count());
    outage_logged = true;
  } else {
    alerts_log()->debug("redis queue: {}", reason);
  }
  update_connected();
}

void RedisAlertQueue::Impl::update_connected() {
  const bool now_connected = cmd.state == LinkState::kReady && sub.state == LinkState::kReady;
  if (now_connected == connected) return;
  connected = now_connected;
  {
    std::lock_guard lock(mu);
    status.connected = now_connected;
    ++status.transitions;
    if (now_connected) {
      status.down_since = 0;
      if (ever_connected) ++status.reconnects;
    } else {
      status.down_since = wall_clock_ms();
    }
  }
  if (now_connected) {
    // Subscribed before the load starts: nothing written meanwhile is missed.
    reload_wanted = true;
    outage_logged = false;
    alerts_log()->info("redis queue: connected to {}:{} ({})", endpoint.host, endpoint.port,
                       ever_connected ? "reconnected" : "first connection");
    ever_connected = true;
  }
}

void RedisAlertQueue::Impl::close_all() {
  for (Link* link : {&cmd, &sub}) {
    if (link->ctx != nullptr) redisFree(link->ctx);
    link->ctx = nullptr;
    link->state = LinkState::kDown;
    for (Expect& e : link->expect) {
      if (e.kind == Kind::kEval) requeue(std::move(e.views));
    }
    link->expect.clear();
  }
  evals_in_flight = 0;
  std::lock_guard lock(mu);
  if (status.connected) {
    status.connected = false;
    status.down_since = wall_clock_ms();
    ++status.transitions;
  }
  connected = false;
}

// ---------------------------------------------------------------- facade --

RedisAlertQueue::RedisAlertQueue(const QueueConfig& config, AlertStore& local,
                                 std::string process_id)
    : impl_(std::make_unique<Impl>(config, local, std::move(process_id))) {}

RedisAlertQueue::~RedisAlertQueue() {
  stop();
}

void RedisAlertQueue::start() {
  if (impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = false;
    if (!impl_->status.connected && impl_->status.down_since == 0)
      impl_->status.down_since = wall_clock_ms();
  }
  impl_->thread = std::thread([this] { impl_->run(); });
}

void RedisAlertQueue::stop() {
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t put = ::write(impl_->wake_fd, &one, sizeof one);
  impl_->thread.join();
}

void RedisAlertQueue::publish(std::span<const AlertChange> changes) {
  std::vector<WireView> views;
  views.reserve(changes.size());
  uint64_t bad = 0;
  for (const AlertChange& change : changes) {
    if (change.kind == ChangeKind::kEvict) continue;
    Result<WireView> view = redis_wire::make_wire_view(change.alert, impl_->process_id);
    if (!view) {
      if (bad++ == 0) {
        alerts_log()->error("redis queue: alert {} not shared: {}", change.alert.alert_id,
                            view.error().to_string());
      }
      continue;
    }
    views.push_back(std::move(*view));
  }
  bool wake = false;
  {
    std::lock_guard lock(impl_->mu);
    impl_->status.invalid += bad;
    for (WireView& v : views) impl_->enqueue_locked(std::move(v));
    if (!views.empty() && !impl_->wake_posted) {
      impl_->wake_posted = true;
      wake = true;
    }
  }
  if (wake) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t put = ::write(impl_->wake_fd, &one, sizeof one);
  }
}

RedisAlertQueue::Status RedisAlertQueue::status() const {
  std::lock_guard lock(impl_->mu);
  Status s = impl_->status;
  s.unconfirmed = impl_->pending.size() + impl_->in_flight_views;
  return s;
}

const std::string& RedisAlertQueue::process_id() const {
  return impl_->process_id;
}

}  // namespace sentinel
