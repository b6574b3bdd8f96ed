// AlertStore at scale (issue 4: GET /v1/alerts over 1M stored alerts, p99 < 20 ms).
//
// Fills a store with `--alerts` synthetic alerts (deterministic: fixed seed),
// shaped like a month of a city's queue: 77 districts with skewed load, the
// five alert types, a realistic priority mix (P0 5%, P1 15%, P2 35%, P3 45%),
// spikes partly trend-watch, most alerts older than a day acknowledged, one
// in ten updated once. Upserts go in epochs of 1,000 as the pipeline hook
// sends them. Then times `--queries` list() calls of a mix of filters (limit
// 50) and of later pages reached through next_cursor, and prints p50/p95/p99
// per kind and overall, and the memory the store took (RSS delta / alerts).
//
// With --http 1 the queries go through the real HTTP API instead
// (register_api_routes on an HttpServer on loopback, one keep-alive client,
// bearer token checked, JSON rendered): the issue's figure for GET /v1/alerts.
// Usage: alert_store_bench [--alerts N] [--queries N] [--seed N] [--http 0|1]
#include <fmt/format.h>

#include "net/http_client.h"
#include "net/http_server.h"
#include "server/access_log.h"
#include "server/api_routes.h"
#include "server/auth.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include "alerts/alert.h"
#include "alerts/alert_store.h"
#include "core/config.h"
#include "core/time.h"

using namespace sentinel;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  uint64_t alerts = 1'000'000;
  uint64_t queries = 10'000;
  uint64_t seed = 42;
  bool http = false;  // --http 1: the same queries as GET /v1/alerts through the real routes
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const uint64_t v = std::stoull(argv[i + 1]);
    if (k == "--alerts") a.alerts = v;
    else if (k == "--queries") a.queries = v;
    else if (k == "--seed") a.seed = v;
    else if (k == "--http") a.http = v != 0;
    else throw std::invalid_argument("unknown option " + k);
  }
  return a;
}

uint64_t rss_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

constexpr int kDistricts = 77;
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kSpanMs = 30 * kDayMs;
const int64_t kStart = to_ms(*parse_rfc3339("2026-02-01T00:00:00Z"));

std::string district_name(int i) { return fmt::format("District {:02}", i + 1); }

struct Generator {
  std::mt19937_64 rng;
  std::discrete_distribution<int> district;
  std::discrete_distribution<int> type{30, 25, 15, 20, 10};
  std::discrete_distribution<int> band{5, 15, 35, 45};
  uint64_t n;

  Generator(uint64_t seed, uint64_t total) : rng(seed), n(total) {
    std::vector<double> w;
    for (int i = 0; i < kDistricts; ++i) w.push_back(1.0 / std::pow(i + 1, 0.7));  // a few busy districts
    district = std::discrete_distribution<int>(w.begin(), w.end());
  }

  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

  Alert make(uint64_t i) {
    Alert a;
    a.alert_id = fmt::format("a-{:016x}", i * 0x9E3779B97F4A7C15ull);
    a.type = static_cast<AlertType>(type(rng));
    a.status = a.type == AlertType::kSpike && rng() % 5 < 2 ? AlertStatus::kTrendWatch : AlertStatus::kAlert;
    static const char* kCategories[] = {"sensor.gunshot", "cad.call.weapon", "geofence.school",
                                        "cctv.crowd", "network.ddos"};
    a.category = kCategories[static_cast<int>(a.type)];
    a.cell = 0x89c2a4b000000000ull + (rng() % 4096) * 0x1000000;
    a.cell_token = fmt::format("{:x}", a.cell >> 40);
    a.dedup_key = fmt::format("{}/{}/{}", alert_type_name(a.type), a.cell_token, a.category);
    const int b = band(rng);
    static const double kLo[] = {0.85, 0.65, 0.40, 0.0}, kHi[] = {1.0, 0.85, 0.65, 0.40};
    a.score.score = uniform(kLo[b], kHi[b]);
    a.score.priority = static_cast<Priority>(b);
    a.score.terms = {uniform(0, 1), uniform(0, 1), 0.5, uniform(0, 1), uniform(0, 1), 0.15};
    a.confidence = uniform(0.5, 1);
    a.has_confidence = true;
    a.verified = rng() % 2;
    a.sources = {"cad", "cctv", "sensor"};
    a.sources.resize(1 + rng() % 3);
    for (int k = 0; k < 4; ++k) a.event_ids.push_back(fmt::format("evt-{:012}-{}", i * 7 + k, k));
    a.has_location = true;
    a.lat = 41.64 + uniform(0, 0.38);
    a.lon = -87.94 + uniform(0, 0.42);
    a.district = district_name(district(rng));
    const int64_t t = kStart + static_cast<int64_t>(i * static_cast<uint64_t>(kSpanMs) / n);
    a.event_time = event_time_from_ms(t - static_cast<int64_t>(rng() % 600'000));
    a.first_seen = a.event_time;
    a.last_seen = a.emitted_at = event_time_from_ms(t);
    a.count = a.event_ids.size();
    return a;
  }
};

struct Stats {
  std::vector<double> ms;
  void add(double v) { ms.push_back(v); }
  double pct(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
  }
};

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  QueueConfig qc;
  qc.max_alerts = args.alerts;
  const uint64_t rss0 = rss_bytes();
  AlertStore store(qc, "bench");
  Generator gen(args.seed, args.alerts);

  // ---- fill
  const auto fill_start = Clock::now();
  constexpr uint64_t kEpoch = 1000;
  uint64_t record_bytes = 0, updated = 0;
  std::vector<Alert> batch;
  std::vector<std::string> records;
  std::vector<Alert> pending_updates;  // one in ten gets a revision 1 a few epochs later
  for (uint64_t first = 0; first < args.alerts; first += kEpoch) {
    batch.clear();
    for (uint64_t i = first; i < std::min(args.alerts, first + kEpoch); ++i) batch.push_back(gen.make(i));
    if (first / kEpoch % 5 == 4) {
      for (Alert& u : pending_updates) {
        u.revision = 1;
        u.count += 1;
        batch.push_back(std::move(u));
      }
      updated += pending_updates.size();
      pending_updates.clear();
    }
    records.assign(batch.size(), std::string());
    std::vector<const Alert*> ptrs;
    std::vector<std::string_view> views;
    for (size_t k = 0; k < batch.size(); ++k) {
      render_alert(batch[k], records[k]);
      record_bytes += records[k].size();
      ptrs.push_back(&batch[k]);
      views.push_back(records[k]);
    }
    const WallMs now = to_ms(batch.front().emitted_at) + 2000;
    store.upsert(ptrs, views, now);
    for (size_t k = 0; k < batch.size(); ++k) {
      if (batch[k].revision == 0 && gen.rng() % 10 == 0) pending_updates.push_back(batch[k]);
      // Older than a day by the end of the month: 90% acked; the last day: 30%.
      const bool old = to_ms(batch[k].emitted_at) < kStart + kSpanMs - kDayMs;
      if (batch[k].revision == 0 && gen.rng() % 10 < (old ? 9u : 3u)) {
        (void)store.ack(batch[k].alert_id, "analyst", now + 30'000);
      }
    }
  }
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  batch.clear();
  batch.shrink_to_fit();
  records.clear();
  records.shrink_to_fit();
  const uint64_t rss1 = rss_bytes();
  const AlertStoreStats st = store.stats(kStart + kSpanMs);
  fmt::print("filled {} alerts ({} updates, {} alerts acked) in {:.1f} s ({:.0f} upserts/s); record {:.0f} bytes avg\n",
             st.alerts + st.trend_watch, updated, st.alerts - st.unacked, fill_s,
             static_cast<double>(args.alerts + updated) / fill_s,
             static_cast<double>(record_bytes) / static_cast<double>(args.alerts + updated));
  fmt::print("memory: RSS +{:.0f} MB = {:.0f} bytes per alert (changes ring of {} included)\n",
             static_cast<double>(rss1 - rss0) / 1e6,
             static_cast<double>(rss1 - rss0) / static_cast<double>(st.alerts + st.trend_watch), qc.resume_changes);
  fmt::print("alerts {} trend_watch {} unacked {} overdue {} P0 {} P1 {} P2 {} P3 {}\n", st.alerts, st.trend_watch,
             st.unacked, st.overdue, st.by_priority[0], st.by_priority[1], st.by_priority[2], st.by_priority[3]);

  // ---- queries
  const std::vector<std::string> kinds = {"none",          "priority=P0,P1",     "status=alert",
                                          "status=trend",  "district",           "type",
                                          "day",           "acked=false",        "district+P0,P1",
                                          "type+unacked+day", "district+type+alert", "next pages"};
  std::map<std::string, Stats> per_kind;
  Stats overall;
  std::mt19937_64 rng(args.seed + 1);
  auto random_query = [&](int kind) {
    AlertQuery q;
    q.limit = 50;
    auto day = [&] {
      const int64_t d = kStart + static_cast<int64_t>(rng() % 30) * kDayMs;
      q.from = event_time_from_ms(d);
      q.to = event_time_from_ms(d + kDayMs);
    };
    switch (kind) {
      case 1: q.priorities = {Priority::kP0, Priority::kP1}; break;
      case 2: q.status = AlertStatus::kAlert; break;
      case 3: q.status = AlertStatus::kTrendWatch; break;
      case 4: q.district = district_name(static_cast<int>(rng() % kDistricts)); break;
      case 5: q.type = static_cast<AlertType>(rng() % 5); break;
      case 6: day(); break;
      case 7: q.acked = false; break;
      case 8:
        q.district = district_name(static_cast<int>(rng() % kDistricts));
        q.priorities = {Priority::kP0, Priority::kP1};
        break;
      case 9:
        q.type = static_cast<AlertType>(rng() % 5);
        q.acked = false;
        day();
        break;
      case 10:
        q.district = district_name(static_cast<int>(rng() % kDistricts));
        q.type = static_cast<AlertType>(rng() % 5);
        q.status = AlertStatus::kAlert;
        break;
      default: break;
    }
    return q;
  };
  // --http: the API in front of the same store.
  Config config;
  TokenStore tokens;
  const std::string token = TokenStore::generate();
  (void)tokens.add("bench", Role::kAnalyst, TokenStore::hash(token));
  AlertTrail trail(1);
  AccessLog access("", std::nullopt, &trail);
  ApiContext ctx;
  ctx.config = &config;
  ctx.store = &store;
  ctx.tokens = &tokens;
  ctx.access = &access;
  ctx.trail = &trail;
  std::unique_ptr<net::HttpServer> server;
  std::unique_ptr<net::HttpClient> client;
  if (args.http) {
    server = std::make_unique<net::HttpServer>(net::HttpServerOptions{});
    register_api_routes(*server, ctx);
    server->start();
    client = std::make_unique<net::HttpClient>("127.0.0.1", server->port());
  }
  const net::HttpHeaders auth = {{"Authorization", "Bearer " + token}};
  auto target_of = [](const AlertQuery& q) {
    std::string t = "/v1/alerts?limit=" + std::to_string(q.limit);
    if (!q.priorities.empty()) {
      t += "&priority=";
      for (size_t i = 0; i < q.priorities.size(); ++i) t += (i ? "," : "") + std::string(priority_name(q.priorities[i]));
    }
    if (q.status) t += "&status=" + std::string(alert_status_name(*q.status));
    if (q.type) t += "&type=" + std::string(alert_type_name(*q.type));
    if (q.district) {
      std::string d = *q.district;
      for (size_t at = 0; (at = d.find(' ', at)) != std::string::npos;) d.replace(at, 1, "%20");
      t += "&district=" + d;
    }
    if (q.from) t += "&from=" + format_rfc3339(*q.from);
    if (q.to) t += "&to=" + format_rfc3339(*q.to);
    if (q.acked) t += std::string("&acked=") + (*q.acked ? "true" : "false");
    if (!q.cursor.empty()) t += "&cursor=" + q.cursor;
    return t;
  };
  auto timed = [&](const AlertQuery& q, const std::string& kind) {
    const auto t0 = Clock::now();
    AlertPage out;
    if (client) {
      const net::HttpResponse r = client->request("GET", target_of(q), {}, auth);
      if (r.status != 200) throw std::runtime_error("GET " + target_of(q) + ": " + std::to_string(r.status) + " " + r.body);
      const size_t at = r.body.rfind(R"("next_cursor":")");
      if (at != std::string::npos) {
        const size_t start = at + 15;
        out.next_cursor = r.body.substr(start, r.body.find('"', start) - start);
      }
    } else {
      auto page = store.list(q);
      if (!page.ok()) throw std::runtime_error(page.error().to_string());
      out = std::move(page.value());
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    per_kind[kind].add(ms);
    overall.add(ms);
    return out;
  };
  uint64_t done = 0;
  while (done < args.queries) {
    const int kind = static_cast<int>(rng() % kinds.size());
    if (kind == 11) {
      // Page 2..5 of a random filtered query (page 1 counts under its kind).
      const int base = static_cast<int>(rng() % 11);
      AlertQuery q = random_query(base);
      AlertPage page = timed(q, kinds[static_cast<size_t>(base)]);
      ++done;
      for (int p = 0; p < 4 && !page.next_cursor.empty() && done < args.queries; ++p, ++done) {
        q.cursor = page.next_cursor;
        page = timed(q, kinds[11]);
      }
    } else {
      timed(random_query(kind), kinds[static_cast<size_t>(kind)]);
      ++done;
    }
  }
  if (server) server->stop();
  fmt::print("\n{}\n{:<22} {:>7} {:>9} {:>9} {:>9} {:>9}\n",
             args.http ? "GET /v1/alerts over HTTP (keep-alive, token checked, JSON rendered)" : "AlertStore::list()",
             "query (limit 50)", "n", "p50 ms", "p95 ms", "p99 ms",
             "max ms");
  for (const std::string& k : kinds) {
    Stats& s = per_kind[k];
    fmt::print("{:<22} {:>7} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f}\n", k, s.ms.size(), s.pct(0.5), s.pct(0.95),
               s.pct(0.99), s.pct(1.0));
  }
  fmt::print("{:<22} {:>7} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f}\n", "overall", overall.ms.size(), overall.pct(0.5),
             overall.pct(0.95), overall.pct(0.99), overall.pct(1.0));

  // The stream's and the stats panel's calls, for scale.
  auto t0 = Clock::now();
  auto snap = store.snapshot(1000);
  const double snap_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  t0 = Clock::now();
  (void)store.stats(kStart + kSpanMs + kDayMs);
  const double stats_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  fmt::print("\nsnapshot(1000): {:.2f} ms; stats() after a day passed: {:.3f} ms\n", snap_ms, stats_ms);
  return 0;
}
