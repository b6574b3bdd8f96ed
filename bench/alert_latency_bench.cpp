// Load generator: event-to-alert latency of the live pipeline at a paced
// offered rate (issue 3: p99 under 10 ms at 100,000 events/s).
//
// Drives Pipeline::ingest_body, the path POST /v1/events takes after the
// HTTP layer, with NDJSON bodies of `--body` events stamped with the wall
// clock, at `--rate` events/s for `--seconds`. Every stage is on: Chicago
// enrichment (77 areas, 566 schools), windows, signals, correlation, a
// geofence rule, spike, isolation forest, dedup, and the signed audit log.
// Latency is from the moment an event is accepted to the moment the alert
// (or update) it caused is written, as /metrics reports it.
//
// Usage: alert_latency_bench [--rate N] [--seconds S] [--body N] [--shards N]
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <thread>

#include "core/keys.h"
#include "core/cloudevents.h"
#include "core/config.h"
#include "core/time.h"
#include "pipeline/alerting.h"
#include "pipeline/pipeline.h"

namespace fs = std::filesystem;
using namespace sentinel;

namespace {

struct Args {
  double rate = 100'000;
  double seconds = 10;
  int body = 100;
  int shards = 2;
  bool dense = false;  ///< 30% alert-prone events instead of 6.5%
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const double v = std::stod(argv[i + 1]);
    if (k == "--rate") a.rate = v;
    else if (k == "--seconds") a.seconds = v;
    else if (k == "--body") a.body = static_cast<int>(v);
    else if (k == "--shards") a.shards = static_cast<int>(v);
    else if (k == "--dense") a.dense = v != 0;
    else throw std::invalid_argument("unknown option " + k);
  }
  return a;
}

/// The quantile line of a summary in Prometheus text, in milliseconds.
double quantile_ms(const std::string& metrics, const std::string& name, const std::string& q) {
  const std::regex re(name + R"(\{quantile=")" + q + R"("\} ([0-9.eE+-]+|NaN))");
  std::smatch m;
  if (!std::regex_search(metrics, m, re)) return -1;
  return std::stod(m[1].str()) * 1000;
}

double counter(const std::string& metrics, const std::string& name) {
  const std::regex re("\n" + name + R"( ([0-9.eE+-]+))");
  std::smatch m;
  if (!std::regex_search(metrics, m, re)) return -1;
  return std::stod(m[1].str());
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  spdlog::set_level(spdlog::level::err);
  const fs::path root = SENTINEL_SOURCE_DIR;
  const fs::path work = fs::temp_directory_path() / fmt::format("sentinel-alert-latency-{}", ::getpid());
  fs::create_directories(work);
  generate_keypair((work / "keys").string());
  const std::string yaml = fmt::format(R"(
city:
  time_zone: America/Chicago
  districts: {0}/examples/data/chicago/chicago_community_areas.geojson
  district_name_property: community
  sensitive_sites: [{0}/examples/data/chicago/chicago_public_schools_2011.geojson]
audit:
  key: {1}/keys/audit.key
geofences:
  - name: schools-150m
    sites: {0}/examples/data/chicago/chicago_public_schools_2011.geojson
    radius_m: 150
    types: [sensor., cad.call.weapon]
)",
                                       root.string(), work.string());
  const Config config = parse_config(yaml, "alert_latency_bench.yaml");
  PipelineOptions options;
  options.out_dir = (work / "out").string();
  options.inputs = {"http"};
  options.live = true;
  options.shards = args.shards;
  Pipeline pipeline(config, options);
  pipeline.start();

  // Types by share of the load: most telemetry is routine, some of it is
  // alert-prone (correlation and sensor types). --dense 1 makes 30% of it
  // alert-prone, an incident storm over the whole city.
  struct Kind {
    const char *source, *type, *severity;
    double share;
  };
  const std::vector<Kind> normal = {{"platform", "platform.fir.theft", "property", 0.30},
                                    {"cctv", "cctv.motion", "other", 0.50},
                                    {"network", "network.flow", "other", 0.135},
                                    {"cad", "cad.call.weapon", "violent", 0.02},
                                    {"cctv", "cctv.crowd", "other", 0.03},
                                    {"sensor", "sensor.gunshot", "violent", 0.01},
                                    {"sensor", "sensor.panic", "violent", 0.005}};
  const std::vector<Kind> dense = {{"platform", "platform.fir.theft", "property", 0.40},
                                   {"cctv", "cctv.motion", "other", 0.30},
                                   {"cad", "cad.call.disturbance", "other", 0.15},
                                   {"cad", "cad.call.weapon", "violent", 0.06},
                                   {"cctv", "cctv.crowd", "other", 0.06},
                                   {"sensor", "sensor.gunshot", "violent", 0.02},
                                   {"sensor", "sensor.panic", "violent", 0.01}};
  const std::vector<Kind>& kinds = args.dense ? dense : normal;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  const auto interval = std::chrono::duration<double>(args.body / args.rate);
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(args.seconds);
  uint64_t sent = 0, rejected = 0, bodies = 0;
  auto next = start;
  std::string text;
  while (std::chrono::steady_clock::now() < end) {
    text.clear();
    const int64_t now_ms =
        std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string ts = format_rfc3339(event_time_from_ms(now_ms));
    for (int i = 0; i < args.body; ++i) {
      double pick = u(rng);
      const Kind* k = &kinds[0];
      for (const Kind& c : kinds) {
        k = &c;
        if ((pick -= c.share) <= 0) break;
      }
      fmt::format_to(std::back_inserter(text),
                     R"({{"specversion":"1.0","id":"b{}","source":"{}","type":"{}","time":"{}","lat":{:.5f},"lon":{:.5f},"severity":"{}","confidence":{:.2f}}})"
                     "\n",
                     sent + static_cast<uint64_t>(i), k->source, k->type, ts, 41.75 + u(rng) * 0.2,
                     -87.75 + u(rng) * 0.15, k->severity, 0.5 + u(rng) * 0.5);
    }
    auto body = std::make_shared<std::string>(text);
    const size_t length = body->size();
    body->resize(length + kJsonPadding, '\0');
    const Pipeline::BodyResult r = pipeline.ingest_body(0, body, length);
    sent += static_cast<uint64_t>(args.body);
    rejected += r.rejected.size();
    ++bodies;
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    std::this_thread::sleep_until(next);
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  pipeline.drain();
  const std::string metrics = pipeline.metrics_text();
  pipeline.finish();
  const AlertCounters& a = pipeline.alert_counters();
  std::printf("mix %s; offered %.0f events/s for %.1f s in bodies of %d: sent %llu (%.0f/s), rejected %llu, shards %d\n",
              args.dense ? "dense (30% alert-prone)" : "normal (6.5% alert-prone)", args.rate, elapsed, args.body, static_cast<unsigned long long>(sent), static_cast<double>(sent) / elapsed,
              static_cast<unsigned long long>(rejected), pipeline.shard_count());
  std::printf("alerts %llu, updates %llu, suppressed %llu, trend_watch %llu, signal events %llu\n",
              static_cast<unsigned long long>(a.alerts.load()), static_cast<unsigned long long>(a.updates.load()),
              static_cast<unsigned long long>(a.suppressed.load()),
              static_cast<unsigned long long>(a.trend_watch.load()), static_cast<unsigned long long>(a.signals.load()));
  const std::string h = "sentinel_event_to_alert_seconds";
  std::printf("event-to-alert latency over every alert and update of the run: p50 %.3f ms, p95 %.3f ms, p99 %.3f ms\n",
              quantile_ms(metrics, h, "0.5"), quantile_ms(metrics, h, "0.95"), quantile_ms(metrics, h, "0.99"));
  std::printf("audit records written: see %s/out/audit.jsonl; backlog at end %.0f\n", work.c_str(),
              counter(metrics, "sentinel_backlog_events"));
  std::error_code ec;
  fs::remove_all(work, ec);
  return 0;
}
