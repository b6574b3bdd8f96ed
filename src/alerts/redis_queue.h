// RedisAlertQueue: `queue.backend: redis`. Several `sentinel` processes share
// one alert queue in Redis; each keeps its own AlertStore (which its REST API
// and WebSocket clients read) and this class keeps the stores in step:
// local changes go to Redis, other processes' changes come back into the
// local store through AlertStore::apply_remote().
//
// Redis layout (P = queue.redis_prefix):
//   P:alerts   hash  alert_id -> the merged view, one render_stored_alert() object
//   P:queue    zset  alert_id scored so that ZREVRANGE lists the queue order
//                    (redis_wire::queue_score: band, then score, then newer first)
//   P:meta     hash  alert_id -> what the merge compares (MessagePack, written by
//                    the script only: the keys of the four groups below, the
//                    status and the pieces' offsets)
//   P:age      zset  alert_id -> retention order (acknowledged or trend-watch
//                    first, then oldest received_at), for queue.max_alerts
//   P:epoch    string set (NX) by the first process to connect to a Redis
//                    without it; a process that sees it change knows Redis
//                    lost its data
//   P:changes  channel, one message per merged batch:
//              "<process_id>\n<view>\n<view>..." (each view one JSON object;
//              the renderer escapes control characters, so a view has no '\n')
//
// Writes merge, in Redis, with the rule of AlertStore::apply_remote, so the
// result does not depend on the order in which processes write (and a
// re-sent, duplicated or late old view changes nothing). One Lua script
// (redis_wire::merge_script) takes a batch of views and, per alert, picks
// four winners independently, as the store does:
//   record   the greatest (revision, received_at, record bytes, updated_at,
//            origin); it brings the record, received_at, updated_at, origin,
//            the status and the P:queue score;
//   due      the earliest non-zero ack_due;
//   ack      the earliest (acked_at, acked_by); none loses;
//   feedback the greatest (verdict_at, verdict_by, verdict, note); none loses.
// It splices the pieces of the rendered views (their byte offsets come with
// each view) into P:alerts, so the stored object is exactly what
// render_stored_alert() makes of the merged alert (ack_late recomputed from
// the winning ack_due and acked_at), publishes the views that changed, and
// trims P:alerts to queue.max_alerts by P:age. Strings compare byte-wise in
// Lua too (not with `<`, which follows the server's locale).
//
// Links. One I/O thread owns two connections (hiredis sync contexts switched
// to non-blocking sockets and driven by its own poll() loop; hiredis 0.14 has
// no Asio adapter and its blocking reads cannot time out without killing the
// connection): a command link (EVALSHA batches, pipelined; HSCAN loads; PING)
// and a subscriber link (SUBSCRIBE P:changes; PING). A link is declared down
// when the socket fails or closes, or when a reply is overdue by the reply
// timeout (queue.redis_retry, at least 200 ms); an idle link sends PING every
// queue.redis_retry, so a dead Redis shows within about 2 x redis_retry. Down
// links are retried every queue.redis_retry.
//
// What is never lost. publish() renders each change's view into an
// unconfirmed set keyed by alert id (views of one alert are merged into one,
// redis_wire::merge, so the set holds at most one view per alert). A view
// leaves the set when the EVALSHA reply that carried it arrives; when a link
// drops, every view sent but unanswered goes back and is re-sent after the
// reconnect. When Redis comes back without its data (restarted without
// persistence, or flushed: P:epoch changed), every process also re-publishes
// its whole store, a page at a time as the queue drains, so alerts confirmed
// before the restart come back too. (A process that connects for the first
// time cannot tell a lost Redis from a new one and re-publishes nothing.)
//
// Catching up. Whenever both links are (re)established - the subscription
// first - the whole of P:alerts is read again with HSCAN and applied to the
// local store (apply_remote is idempotent), so what other processes wrote
// while this one was cut off is not missed. Messages a process published
// itself are skipped when they come back.
//
// Status. Connected means: command link up with the script loaded, and the
// subscription confirmed. status() is cheap (one mutex) so the stream
// broadcaster can poll it and push the outage to the page.
//
// Threading: publish() and status() are safe from any thread and never wait
// for Redis. start() and stop() belong to the owner (one thread). The I/O
// thread calls AlertStore::apply_remote() and nothing else of the caller's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alert_store.h"
#include "core/config.h"
#include "core/result.h"

namespace sentinel {

class RedisAlertQueue {
 public:
  /// Reads queue.redis, queue.redis_prefix, queue.redis_retry and
  /// queue.max_alerts; throws std::invalid_argument naming the key when
  /// queue.redis is not host:port with a port in 1..65535 or the prefix is
  /// empty. `local` must outlive this. `process_id` must be unique per process
  /// (e.g. host:pid:random) and contain no '\n'; it also fills the origin of
  /// views whose store left it empty.
  RedisAlertQueue(const QueueConfig& config, AlertStore& local, std::string process_id);
  /// stop().
  ~RedisAlertQueue();
  RedisAlertQueue(const RedisAlertQueue&) = delete;
  RedisAlertQueue& operator=(const RedisAlertQueue&) = delete;

  /// Starts the I/O thread: connect (retrying every queue.redis_retry),
  /// subscribe, send what is unconfirmed (and the whole store when Redis lost
  /// its data), load P:alerts into the local store.
  /// Returns at once; a call while running does nothing.
  void start();
  /// Stops and joins the I/O thread and closes the links. Unconfirmed views
  /// are dropped with it. Idempotent.
  void stop();

  /// Local changes to share (what AlertStore::upsert/ack/feedback returned).
  /// Never blocks on Redis: the views are queued and written when connected,
  /// and kept until Redis confirmed them (re-sent after a reconnect).
  /// Evictions are not shared (each store applies its own retention; Redis
  /// has its own, see the header comment). Callable before start().
  void publish(std::span<const AlertChange> changes);

  struct Status {
    bool connected = false;
    WallMs down_since =
        0;  ///< when the link was lost (or start() while never up); 0 while connected
    uint64_t unconfirmed = 0;  ///< views queued or sent but not yet confirmed
    uint64_t published = 0;    ///< views Redis confirmed
    uint64_t received = 0;     ///< views of other processes applied from the channel
    uint64_t loaded = 0;       ///< views applied by full loads of P:alerts
    uint64_t republished = 0;  ///< views queued again because Redis lost its data
    uint64_t invalid = 0;      ///< views that could not be parsed or rendered (dropped)
    uint64_t reconnects = 0;   ///< times the link came back after having been up
    uint64_t transitions =
        0;  ///< times `connected` flipped (a poller can see a blip it slept through)
    std::string last_error;  ///< the latest link error ("" if none yet)
  };
  Status status() const;

  const std::string& process_id() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The pure parts of the protocol, exposed for tests and tools.
namespace redis_wire {

/// Key and channel names under a prefix (P:alerts, P:meta, P:queue, P:age,
/// P:epoch, P:changes).
struct Keys {
  std::string alerts, meta, queue, age, epoch, channel;
};
Keys keys_for(std::string_view prefix);

struct Endpoint {
  std::string host;  ///< brackets of an IPv6 literal removed
  int port = 0;
};
/// "host:port" or "[v6]:port"; the port must be 1..65535.
Result<Endpoint> parse_endpoint(std::string_view host_port);

/// The P:queue score: ((3 - band) * 10001 + round(score * 10^4)) * 2^36 +
/// received_at in tenths of a second (clamped to [0, 2^36)), an integer below
/// 2^53 so Redis's double keeps it exactly. ZREVRANGE then gives P0 first,
/// the higher score first, the newer first (to 0.1 s; ties in Redis's
/// reverse member order).
int64_t queue_score(Priority band, double score, WallMs received_at);

/// A view ready for the merge script: the rendered object and what the script
/// compares, with the byte offsets of its pieces (see the header comment).
struct WireView {
  std::string alert_id;
  std::string json;  ///< render_stored_alert()
  int64_t queue_score = 0;
  uint32_t revision = 0;
  WallMs received_at = 0, updated_at = 0, ack_due = 0, acked_at = 0, verdict_at = 0;
  std::string origin, acked_by, verdict_by, verdict_note;
  uint8_t verdict = 0;  ///< Verdict as a number (the store's order)
  bool trend_watch = false;
  size_t record_prefix = 0;  ///< json starts with the record minus its closing '}'
  size_t off_due = 0;        ///< offset of ,"ack_due":
  size_t off_ack = 0;        ///< offset of ,"acked_at":
  size_t off_late = 0;       ///< offset of ,"ack_late":
  size_t off_verdict = 0;    ///< offset of ,"verdict":
  size_t off_origin = 0;     ///< offset of ,"origin":
};
/// Renders `alert` (origin `default_origin` when empty). Error when the
/// rendering does not have the expected member order, or alert_id is empty.
Result<WireView> make_wire_view(const StoredAlert& alert, std::string_view default_origin);

/// The merge of two views of one alert by the rules of the header comment
/// (commutative, associative, idempotent): what the script stores, computed
/// here to coalesce unconfirmed views of one alert into one.
WireView merge(const WireView& a, const WireView& b);

/// Arguments of one view in an EVALSHA of merge_script(), in order.
constexpr size_t kArgsPerView = 21;
void append_view_args(const WireView& view, std::vector<std::string>& args);

/// The Lua merge script (KEYS: alerts, meta, queue, age; ARGV: channel,
/// sender, max_alerts, then kArgsPerView per view). Returns the number of
/// views that changed the stored state.
std::string_view merge_script();

/// A P:changes message: the sender and its views.
struct Frame {
  std::string_view sender;
  std::vector<std::string_view> views;
};
/// nullopt when there is no '\n' after a non-empty sender; empty lines are skipped.
std::optional<Frame> parse_frame(std::string_view payload);

}  // namespace redis_wire
}  // namespace sentinel
