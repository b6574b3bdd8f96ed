// AlertStream: WebSocket /v1/alerts/stream (DESIGN.md section 5).
//
// A client gets a snapshot (the first server.page_max alerts in queue order
// and the sequence number it is current at), then every change as it
// happens. Reconnecting with ?since=SEQ sends only the changes after SEQ, or
// a snapshot marked "reset" when they are no longer kept or when they are
// more than a fresh snapshot would cost (kMaxCatchUp changes).
//
// Fan-out. One broadcaster thread waits on the store, renders each batch of
// changes ONCE into one message and hands the same buffer to every client
// whose position is at the batch start; a client elsewhere (just opened,
// resumed) gets its own catch-up built from the store's change ring. A
// client that falls behind server.ws_max_queued_bytes is cut off by the
// WebSocket layer (close 1008 "slow consumer"), never slowing the others and
// never holding more than that much memory.
//
// Threading: open_session() runs on HTTP I/O threads, the broadcaster on its
// own; both take the clients mutex, and sends never block.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "alerts/alert_store.h"
#include "net/websocket.h"
#include "server/auth.h"

namespace sentinel {

class AlertStream {
 public:
  /// The queue status object ({"backend":..,"connected":..,...}), polled
  /// for changes; and what to do when a client acknowledges over the socket.
  using StatusFn = std::function<std::string()>;
  using AckFn = std::function<std::string(const Principal&, std::string_view alert_id)>;

  /// `snapshot_limit` alerts at most in a snapshot, and at most
  /// `max_message_bytes` of them (a client's queue must hold a whole message:
  /// server.ws_max_queued_bytes, see net/websocket.h).
  AlertStream(AlertStore& store, size_t snapshot_limit, StatusFn status, AckFn ack,
              size_t max_message_bytes = 2u << 20);
  ~AlertStream();  ///< stop()s
  void start();
  /// Stops the broadcaster; sessions already open are closed by the server.
  void stop();

  /// The session for an authorised upgrade; `since` and `stream` from the
  /// query. Sequence numbers belong to one stream (this process's run, named
  /// by a random id in every snapshot): a position of another stream, or one
  /// beyond this stream's last change, gets a snapshot marked "reset".
  net::WebSocketSession open_session(Principal who, std::optional<uint64_t> since, std::string stream);
  const std::string& stream_id() const { return stream_id_; }

  size_t clients() const;
  uint64_t messages_sent() const { return messages_sent_.load(std::memory_order_relaxed); }

 private:
  struct Client {
    std::shared_ptr<net::WebSocketConnection> conn;
    Principal who;
    uint64_t position = 0;  // the last seq this client has been sent
  };

  void run();
  void broadcast(uint64_t to);
  /// Sends `c` everything after its position (or a reset snapshot). Under clients_mutex_.
  void catch_up(Client& c);
  void send_snapshot(Client& c, bool reset);
  void send(Client& c, std::shared_ptr<const std::string> message);

  AlertStore& store_;
  const std::string stream_id_;
  size_t snapshot_limit_;
  size_t max_message_bytes_;
  StatusFn status_;
  AckFn ack_;
  mutable std::mutex clients_mutex_;
  std::unordered_map<uint64_t, Client> clients_;  // by connection id
  uint64_t sent_ = 0;                              // broadcaster: last seq broadcast
  std::string last_status_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> messages_sent_{0};
  std::thread thread_;
};

/// {"type":"changes","changes":[{"seq":N,"kind":"..","alert":{..}}...]}
std::string render_changes_message(std::span<const AlertChange> changes);

}  // namespace sentinel
