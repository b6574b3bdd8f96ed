// WebSocket fan-out of the net primitive alone: an HttpServer with one
// WebSocket route on loopback, N clients (WsClientGroup, one I/O thread per
// group), and a broadcaster thread that sends R messages/s for S seconds, each
// carrying its steady_clock send time, to every client as one shared buffer.
// Prints the per-client receipt latency (send time -> client's on_message)
// and the messages lost (must be 0). The issue's figure (p99 < 50 ms at 1,000
// alerts/s, 1,000 clients) is for the full server; this is the primitive's.
//   build/<dir>/bench/ws_fanout_bench [--clients 1000] [--rate 1000] [--seconds 10]
//       [--bytes 512] [--server-threads 1] [--client-threads 1]
// Exits 1 when a message was lost or a client was cut off.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "net/http_server.h"
#include "net/ws_client.h"

namespace {

using sentinel::net::HttpRequest;
using sentinel::net::HttpResponse;
using sentinel::net::HttpServer;
using sentinel::net::HttpServerOptions;
using sentinel::net::WebSocketConnection;
using sentinel::net::WebSocketSession;
using sentinel::net::WsClientGroup;
using sentinel::net::WsCloseInfo;
using Clock = std::chrono::steady_clock;

struct Args {
  size_t clients = 1000;
  double rate = 1000;     // messages per second
  double seconds = 10;
  size_t bytes = 512;     // message size
  int server_threads = 1;
  size_t client_threads = 1;
};

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const char* value = argv[i + 1];
    if (key == "--clients") {
      args.clients = std::strtoull(value, nullptr, 10);
    } else if (key == "--rate") {
      args.rate = std::strtod(value, nullptr);
    } else if (key == "--seconds") {
      args.seconds = std::strtod(value, nullptr);
    } else if (key == "--bytes") {
      args.bytes = std::strtoull(value, nullptr, 10);
    } else if (key == "--server-threads") {
      args.server_threads = std::atoi(value);
    } else if (key == "--client-threads") {
      args.client_threads = std::max<size_t>(1, std::strtoull(value, nullptr, 10));
    } else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      std::exit(2);
    }
  }
  return args;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// {"seq":N,"t":NS,"pad":"..."} padded to `bytes`, like an alert change message in size.
std::string make_message(uint64_t seq, int64_t sent_ns, size_t bytes) {
  std::string text = fmt::format(R"({{"seq":{},"t":{},"pad":")", seq, sent_ns);
  if (text.size() + 2 < bytes) text.append(bytes - text.size() - 2, 'x');
  text += "\"}";
  return text;
}

// The number after `key` in `message`, or -1.
int64_t field(std::string_view message, std::string_view key) {
  const size_t at = message.find(key);
  if (at == std::string_view::npos) return -1;
  int64_t value = -1;
  const char* begin = message.data() + at + key.size();
  std::from_chars(begin, message.data() + message.size(), value);
  return value;
}

// What one client group's thread records; read after the run.
struct GroupStats {
  std::vector<uint64_t> next_seq;       // per client of the group
  std::vector<uint32_t> latency_us;
  uint64_t received = 0;
  uint64_t gaps = 0;                    // messages skipped (lost) seen by sequence
  uint64_t closed = 0;
  std::atomic<uint64_t> received_total{0};
};

double percentile_ms(std::vector<uint32_t>& values, double q) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  return values[index] / 1000.0;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  spdlog::set_level(spdlog::level::warn);

  // Each client costs two descriptors in this process (its socket and the server's).
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  const rlim_t needed = 2 * args.clients + 64;
  if (files.rlim_cur < needed) {
    files.rlim_cur = std::min(needed, files.rlim_max);
    setrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur < needed) {
      std::fprintf(stderr, "need %llu file descriptors, hard limit is %llu\n",
                   static_cast<unsigned long long>(needed), static_cast<unsigned long long>(files.rlim_max));
      return 2;
    }
  }

  HttpServerOptions options;
  options.threads = args.server_threads;
  HttpServer server(options);
  std::mutex connections_mu;
  std::vector<std::shared_ptr<WebSocketConnection>> connections;
  server.websocket("/v1/alerts/stream", [&](HttpRequest&) -> std::variant<WebSocketSession, HttpResponse> {
    WebSocketSession session;
    session.on_open = [&](const std::shared_ptr<WebSocketConnection>& connection) {
      std::lock_guard lock(connections_mu);
      connections.push_back(connection);
    };
    return session;
  });
  server.start();

  const size_t groups = std::min(args.client_threads, args.clients);
  std::vector<std::unique_ptr<GroupStats>> stats;
  std::vector<std::unique_ptr<WsClientGroup>> clients;
  const uint64_t total_messages = static_cast<uint64_t>(args.rate * args.seconds);
  for (size_t g = 0; g < groups; ++g) {
    const size_t count = args.clients / groups + (g < args.clients % groups ? 1 : 0);
    auto& s = *stats.emplace_back(std::make_unique<GroupStats>());
    s.next_seq.assign(count, 0);
    s.latency_us.reserve(count * total_messages);
    clients.push_back(std::make_unique<WsClientGroup>(WsClientGroup::Handlers{
        .on_message =
            [&s](size_t index, std::string_view message) {
              const int64_t received_ns = now_ns();
              const int64_t seq = field(message, R"("seq":)");
              const int64_t sent_ns = field(message, R"("t":)");
              if (seq < 0 || sent_ns < 0) return;
              auto& next = s.next_seq[index];
              if (static_cast<uint64_t>(seq) > next) s.gaps += static_cast<uint64_t>(seq) - next;
              next = static_cast<uint64_t>(seq) + 1;
              s.latency_us.push_back(static_cast<uint32_t>(std::max<int64_t>(0, received_ns - sent_ns) / 1000));
              ++s.received;
              s.received_total.fetch_add(1, std::memory_order_relaxed);
            },
        .on_close = [&s](size_t, const WsCloseInfo&) { ++s.closed; }}));
    const auto connected = clients.back()->connect("127.0.0.1", server.port(), "/v1/alerts/stream", count);
    if (!connected.ok()) {
      std::fprintf(stderr, "%s\n", connected.error().to_string().c_str());
      return 2;
    }
  }
  for (;;) {
    {
      std::lock_guard lock(connections_mu);
      if (connections.size() == args.clients) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  // The broadcaster: one shared buffer per message, handed to every connection.
  const double cpu_before = cpu_seconds();
  std::vector<uint32_t> fanout_us;
  fanout_us.reserve(total_messages);
  const auto interval = std::chrono::duration<double>(1.0 / args.rate);
  const auto start = Clock::now();
  for (uint64_t seq = 0; seq < total_messages; ++seq) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(interval * seq));
    const int64_t sent_ns = now_ns();
    auto message = std::make_shared<const std::string>(make_message(seq, sent_ns, args.bytes));
    for (const auto& connection : connections) connection->send(message);
    fanout_us.push_back(static_cast<uint32_t>((now_ns() - sent_ns) / 1000));
  }
  const double send_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // Let the last messages arrive (bounded: a lost one never does).
  const uint64_t expected = total_messages * args.clients;
  const auto drain_deadline = Clock::now() + std::chrono::seconds(10);
  auto received_now = [&] {
    uint64_t n = 0;
    for (const auto& s : stats) n += s->received_total.load(std::memory_order_relaxed);
    return n;
  };
  while (received_now() < expected && Clock::now() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double cpu_used = cpu_seconds() - cpu_before;
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const auto server_stats = server.stats();

  for (auto& group : clients) group->close_all(std::chrono::seconds(10));
  clients.clear();  // joins the client threads: `stats` is now quiescent
  server.stop();

  std::vector<uint32_t> latencies;
  uint64_t received = 0, gaps = 0;
  for (const auto& s : stats) {
    latencies.insert(latencies.end(), s->latency_us.begin(), s->latency_us.end());
    received += s->received;
    gaps += s->gaps;
  }
  const uint64_t lost = expected - std::min(expected, received);
  std::vector<uint32_t> fanout = fanout_us;
  std::printf("clients %zu, %.0f messages/s for %.1f s (%zu bytes), server threads %d, client threads %zu\n",
              args.clients, args.rate, args.seconds, args.bytes, args.server_threads, groups);
  std::printf("broadcast took %.2f s for %llu messages\n", send_seconds, static_cast<unsigned long long>(total_messages));
  std::printf("delivered %llu of %llu; lost %llu (gaps seen %llu); cut off as slow %llu\n",
              static_cast<unsigned long long>(received), static_cast<unsigned long long>(expected),
              static_cast<unsigned long long>(lost), static_cast<unsigned long long>(gaps),
              static_cast<unsigned long long>(server_stats.ws_closed_slow));
  std::printf("latency ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n", percentile_ms(latencies, 0.50),
              percentile_ms(latencies, 0.95), percentile_ms(latencies, 0.99), percentile_ms(latencies, 1.0));
  std::printf("fan-out to %zu queues per message, ms: p50 %.3f  p99 %.3f  max %.3f\n", args.clients,
              percentile_ms(fanout, 0.50), percentile_ms(fanout, 0.99), percentile_ms(fanout, 1.0));
  std::printf("process CPU %.2f s over %.2f s wall (%.0f%% of one core)\n", cpu_used, wall, 100 * cpu_used / wall);
  return lost == 0 && server_stats.ws_closed_slow == 0 ? 0 : 1;
}
