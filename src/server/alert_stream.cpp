#include "server/alert_stream.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "core/json_writer.h"

namespace sentinel {

namespace {
constexpr size_t kBatchChanges = 1000;  // changes per message: bounds one message's size
// A client further behind than this gets a snapshot instead: cheaper for it,
// and a catch-up of many batches at once would overflow its send queue and
// get it cut off as a slow consumer, again and again.
constexpr uint64_t kMaxCatchUp = 2 * kBatchChanges;
constexpr auto kWait = std::chrono::milliseconds(100);
constexpr auto kLinger = std::chrono::milliseconds(10);  // adds at most this to delivery latency
}  // namespace

std::string render_changes_message(std::span<const AlertChange> changes) {
  std::string out;
  out.reserve(64 + changes.size() * 1200);
  out += R"({"type":"changes","changes":[)";
  for (size_t i = 0; i < changes.size(); ++i) {
    if (i) out += ',';
    out += R"({"seq":)";
    out += std::to_string(changes[i].seq);
    out += R"(,"kind":")";
    out += change_kind_name(changes[i].kind);
    out += R"(","alert":)";
    render_stored_alert(changes[i].alert, out);
    out += '}';
  }
  out += "]}";
  return out;
}

AlertStream::AlertStream(AlertStore& store, size_t snapshot_limit, StatusFn status, AckFn ack,
                         size_t max_message_bytes)
    : store_(store),
      stream_id_(TokenStore::generate().substr(4, 12)),
      snapshot_limit_(snapshot_limit),
      max_message_bytes_(max_message_bytes), status_(std::move(status)), ack_(std::move(ack)) {}

AlertStream::~AlertStream() { stop(); }

void AlertStream::start() {
  sent_ = store_.last_seq();
  if (status_) last_status_ = status_();
  thread_ = std::thread([this] { run(); });
}

void AlertStream::stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
}

size_t AlertStream::clients() const {
  std::lock_guard lock(clients_mutex_);
  return clients_.size();
}

void AlertStream::send(Client& c, std::shared_ptr<const std::string> message) {
  if (c.conn->send(std::move(message))) messages_sent_.fetch_add(1, std::memory_order_relaxed);
}

void AlertStream::send_snapshot(Client& c, bool reset) {
  auto [alerts, seq] = store_.snapshot(snapshot_limit_);
  std::string out;
  out.reserve(64 + alerts.size() * 1200);
  out += R"({"type":"snapshot","stream":")";
  out += stream_id_;
  out += R"(","seq":)";
  out += std::to_string(seq);
  if (reset) out += R"(,"reset":true)";
  out += R"(,"alerts":[)";
  size_t included = 0;
  for (; included < alerts.size(); ++included) {
    const size_t mark = out.size();
    if (included) out += ',';
    render_stored_alert(alerts[included], out);
    if (out.size() + 64 > max_message_bytes_) {  // the rest is listed by /v1/alerts
      out.resize(mark);
      break;
    }
  }
  out += "]";
  if (included < alerts.size()) out += R"(,"truncated":true)";
  out += "}";
  c.position = seq;
  send(c, std::make_shared<const std::string>(std::move(out)));
}

void AlertStream::catch_up(Client& c) {
  if (store_.last_seq() > c.position + kMaxCatchUp) {
    send_snapshot(c, true);
    return;
  }
  for (;;) {
    auto changes = store_.changes_since(c.position, kBatchChanges);
    if (!changes) {
      send_snapshot(c, true);
      return;
    }
    if (changes->empty()) return;
    c.position = changes->back().seq;
    send(c, std::make_shared<const std::string>(render_changes_message(*changes)));
    if (changes->size() < kBatchChanges) return;
  }
}

net::WebSocketSession AlertStream::open_session(Principal who, std::optional<uint64_t> since, std::string stream) {
  net::WebSocketSession s;
  s.subprotocol = "sentinel.v1";
  s.on_open = [this, who, since, stream](const std::shared_ptr<net::WebSocketConnection>& conn) {
    std::lock_guard lock(clients_mutex_);
    Client& c = clients_[conn->id()];
    c.conn = conn;
    c.who = who;
    if (!last_status_.empty()) {
      send(c, std::make_shared<const std::string>(R"({"type":"status","queue":)" + last_status_ + "}"));
    }
    const bool resumable = since && (stream.empty() || stream == stream_id_) && *since <= store_.last_seq();
    if (resumable) {
      c.position = *since;
      catch_up(c);
    } else {
      send_snapshot(c, since.has_value());
    }
  };
  s.on_message = [this](net::WebSocketConnection& conn, std::string_view text) {
    nlohmann::json m = nlohmann::json::parse(text, nullptr, false);
    std::string reply;
    Principal who;
    {
      std::lock_guard lock(clients_mutex_);
      auto it = clients_.find(conn.id());
      if (it == clients_.end()) return;
      who = it->second.who;
    }
    if (m.is_discarded() || !m.is_object() || !m.contains("op") || !m["op"].is_string()) {
      reply = R"j({"type":"error","error":"expected a JSON object with a string 'op': ack or ping"})j";
    } else if (m["op"] == "ping") {
      reply = R"({"type":"pong"})";
    } else if (m["op"] == "ack") {
      if (!m.contains("alert_id") || !m["alert_id"].is_string()) {
        reply = R"({"type":"error","error":"ack: missing string 'alert_id'"})";
      } else {
        reply = ack_(who, m["alert_id"].get<std::string>());
      }
    } else {
      std::string err;
      JsonWriter w(err);
      w.begin_object().member("type", "error").member("error", "unknown op '" + m["op"].get<std::string>() + "'");
      w.end_object();
      reply = std::move(err);
    }
    conn.send(std::make_shared<const std::string>(std::move(reply)));
  };
  s.on_close = [this](net::WebSocketConnection& conn, uint16_t, std::string_view) {
    std::lock_guard lock(clients_mutex_);
    clients_.erase(conn.id());
  };
  return s;
}

void AlertStream::broadcast(uint64_t to) {
  // Render the batch once for every client that is exactly at its start.
  std::optional<std::vector<AlertChange>> batch = store_.changes_since(sent_, kBatchChanges);
  std::lock_guard lock(clients_mutex_);
  if (!batch) {
    // The broadcaster fell further behind than the store's change ring: every
    // client starts over from a snapshot.
    for (auto& [id, c] : clients_) send_snapshot(c, true);
    sent_ = to;
    return;
  }
  if (batch->empty()) return;
  const uint64_t from = sent_;
  const uint64_t last = batch->back().seq;
  auto message = std::make_shared<const std::string>(render_changes_message(*batch));
  for (auto& [id, c] : clients_) {
    if (c.position == from) {
      send(c, message);
      c.position = last;
    } else if (c.position < last) {
      catch_up(c);
    }
  }
  sent_ = last;
}

void AlertStream::run() {
  auto next_status = std::chrono::steady_clock::now();
  while (!stopping_.load()) {
    uint64_t last = store_.wait_for_change(sent_, kWait);
    if (last > sent_) {
      // Let a burst gather for a moment: one frame per client carries many
      // changes, instead of one frame per change per client.
      std::this_thread::sleep_for(kLinger);
      broadcast(store_.last_seq());
    }
    if (status_ && std::chrono::steady_clock::now() >= next_status) {
      next_status = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
      std::string s = status_();
      if (s != last_status_) {
        auto message = std::make_shared<const std::string>(R"({"type":"status","queue":)" + s + "}");
        std::lock_guard lock(clients_mutex_);
        last_status_ = std::move(s);
        for (auto& [id, c] : clients_) send(c, message);
      }
    }
  }
}

}  // namespace sentinel
