#include "core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

namespace sentinel {
namespace config_test {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// Every member, one by one: Config has no operator== (see the report to the
/// lead); a new member must be added here, and the example/docs tests below
/// fail until the example lists its key.
void expect_same(const Config& a, const Config& b) {
  EXPECT_EQ(a.city.name, b.city.name);
  EXPECT_EQ(a.city.time_zone, b.city.time_zone);
  EXPECT_EQ(a.city.districts, b.city.districts);
  EXPECT_EQ(a.city.district_name_property, b.city.district_name_property);
  EXPECT_EQ(a.city.sensitive_sites, b.city.sensitive_sites);
  EXPECT_EQ(a.city.bounds, b.city.bounds);
  EXPECT_EQ(a.ingest.sources, b.ingest.sources);
  EXPECT_EQ(a.ingest.dedup_horizon.count(), b.ingest.dedup_horizon.count());
  EXPECT_EQ(a.ingest.max_line_bytes, b.ingest.max_line_bytes);
  EXPECT_EQ(a.ingest.max_clock_skew.count(), b.ingest.max_clock_skew.count());
  EXPECT_EQ(a.cells.fine_level, b.cells.fine_level);
  EXPECT_EQ(a.cells.coarse_level, b.cells.coarse_level);
  EXPECT_EQ(a.pipeline.shards, b.pipeline.shards);
  EXPECT_EQ(a.pipeline.batch_size, b.pipeline.batch_size);
  EXPECT_EQ(a.pipeline.queue_batches, b.pipeline.queue_batches);
  EXPECT_EQ(a.watermark.max_out_of_orderness.count(), b.watermark.max_out_of_orderness.count());
  EXPECT_EQ(a.watermark.idle_timeout.count(), b.watermark.idle_timeout.count());
  EXPECT_EQ(a.windows.allowed_lateness.count(), b.windows.allowed_lateness.count());
  EXPECT_EQ(a.windows.tumbling, b.windows.tumbling);
  EXPECT_EQ(a.windows.tumbling_size.count(), b.windows.tumbling_size.count());
  EXPECT_EQ(a.windows.sliding, b.windows.sliding);
  EXPECT_EQ(a.windows.sliding_size.count(), b.windows.sliding_size.count());
  EXPECT_EQ(a.windows.sliding_slide.count(), b.windows.sliding_slide.count());
  EXPECT_EQ(a.windows.session, b.windows.session);
  EXPECT_EQ(a.windows.session_gap.count(), b.windows.session_gap.count());
  EXPECT_EQ(a.windows.global_size.count(), b.windows.global_size.count());
  EXPECT_EQ(a.checkpoint.interval.count(), b.checkpoint.interval.count());
  EXPECT_EQ(a.checkpoint.keep, b.checkpoint.keep);
  EXPECT_EQ(a.latency.budget.count(), b.latency.budget.count());
  EXPECT_EQ(a.latency.warn_p95.count(), b.latency.warn_p95.count());
  EXPECT_EQ(a.latency.breaker_p95.count(), b.latency.breaker_p95.count());
  EXPECT_EQ(a.latency.window.count(), b.latency.window.count());
  EXPECT_EQ(a.server.listen, b.server.listen);
  EXPECT_EQ(a.server.max_body_bytes, b.server.max_body_bytes);
  EXPECT_EQ(a.server.threads, b.server.threads);
  EXPECT_EQ(a.server.retry_after.count(), b.server.retry_after.count());
  EXPECT_EQ(a.server.tokens, b.server.tokens);
  EXPECT_EQ(a.server.web_root, b.server.web_root);
  EXPECT_EQ(a.server.ws_max_queued_bytes, b.server.ws_max_queued_bytes);
  EXPECT_EQ(a.server.ws_max_message_bytes, b.server.ws_max_message_bytes);
  EXPECT_EQ(a.server.ws_ping_interval.count(), b.server.ws_ping_interval.count());
  EXPECT_EQ(a.server.ingest_rate, b.server.ingest_rate);
  EXPECT_EQ(a.server.ingest_burst, b.server.ingest_burst);
  EXPECT_EQ(a.server.page_max, b.server.page_max);
  EXPECT_EQ(a.queue.backend, b.queue.backend);
  EXPECT_EQ(a.queue.redis, b.queue.redis);
  EXPECT_EQ(a.queue.redis_prefix, b.queue.redis_prefix);
  EXPECT_EQ(a.queue.redis_retry.count(), b.queue.redis_retry.count());
  EXPECT_EQ(a.queue.max_alerts, b.queue.max_alerts);
  EXPECT_EQ(a.queue.resume_changes, b.queue.resume_changes);
  EXPECT_EQ(a.queue.ack_p0.count(), b.queue.ack_p0.count());
  EXPECT_EQ(a.queue.ack_p1.count(), b.queue.ack_p1.count());
  EXPECT_EQ(a.queue.ack_p2.count(), b.queue.ack_p2.count());
  EXPECT_EQ(a.queue.ack_p3.count(), b.queue.ack_p3.count());
  EXPECT_EQ(a.alerts.model_types, b.alerts.model_types);
  EXPECT_EQ(a.telemetry.batch_size, b.telemetry.batch_size);
  EXPECT_EQ(a.telemetry.max_file_bytes, b.telemetry.max_file_bytes);
  EXPECT_EQ(a.telemetry.kafka_topic, b.telemetry.kafka_topic);
  EXPECT_EQ(a.telemetry.watch_dir, b.telemetry.watch_dir);
  EXPECT_EQ(a.detection.interval.count(), b.detection.interval.count());
  EXPECT_EQ(a.detection.timeout.count(), b.detection.timeout.count());
  EXPECT_EQ(a.detection.max_flows_per_iteration, b.detection.max_flows_per_iteration);
  EXPECT_EQ(a.detection.engine_budget.count(), b.detection.engine_budget.count());
  EXPECT_EQ(a.detection.rules, b.detection.rules);
  EXPECT_EQ(a.detection.model, b.detection.model);
  EXPECT_EQ(a.detection.ml_threshold, b.detection.ml_threshold);
  EXPECT_EQ(a.detection.math_z, b.detection.math_z);
  EXPECT_EQ(a.detection.math_warmup, b.detection.math_warmup);
  EXPECT_EQ(a.detection.publish_rate, b.detection.publish_rate);
  EXPECT_EQ(a.detection.publish_burst, b.detection.publish_burst);
  EXPECT_EQ(a.ensemble.weight_rules, b.ensemble.weight_rules);
  EXPECT_EQ(a.ensemble.weight_math, b.ensemble.weight_math);
  EXPECT_EQ(a.ensemble.weight_ml, b.ensemble.weight_ml);
  EXPECT_EQ(a.ensemble.threshold, b.ensemble.threshold);
  EXPECT_EQ(a.kafka.brokers, b.kafka.brokers);
  EXPECT_EQ(a.kafka.topic_anomalies, b.kafka.topic_anomalies);
  EXPECT_EQ(a.kafka.topic_evidence, b.kafka.topic_evidence);
  EXPECT_EQ(a.kafka.topic_policy, b.kafka.topic_policy);
  EXPECT_EQ(a.kafka.group_id, b.kafka.group_id);
  EXPECT_EQ(a.kafka.signing_key, b.kafka.signing_key);
  EXPECT_EQ(a.kafka.verify_key, b.kafka.verify_key);
  EXPECT_EQ(a.kafka.instance_id, b.kafka.instance_id);
  EXPECT_EQ(a.intel.enabled, b.intel.enabled);
  EXPECT_EQ(a.intel.store, b.intel.store);
  EXPECT_EQ(a.intel.database, b.intel.database);
  EXPECT_EQ(a.intel.postgres_env, b.intel.postgres_env);
  EXPECT_EQ(a.intel.feeds, b.intel.feeds);
  EXPECT_EQ(a.intel.feed_schedule, b.intel.feed_schedule);
  EXPECT_EQ(a.intel.fetch_timeout, b.intel.fetch_timeout);
  EXPECT_EQ(a.intel.fetch_max_bytes, b.intel.fetch_max_bytes);
  EXPECT_EQ(a.intel.enrich_min_chars, b.intel.enrich_min_chars);
  EXPECT_EQ(a.intel.page_timeout, b.intel.page_timeout);
  EXPECT_EQ(a.intel.page_max_bytes, b.intel.page_max_bytes);
  EXPECT_EQ(a.intel.gazetteer, b.intel.gazetteer);
  EXPECT_EQ(a.intel.home_regions, b.intel.home_regions);
  EXPECT_EQ(a.intel.organisations, b.intel.organisations);
  EXPECT_EQ(a.intel.triage_rules, b.intel.triage_rules);
  EXPECT_EQ(a.intel.fetch_concurrency, b.intel.fetch_concurrency);
  EXPECT_EQ(a.intel.enrich_concurrency, b.intel.enrich_concurrency);
  EXPECT_EQ(a.intel.extract_concurrency, b.intel.extract_concurrency);
  EXPECT_EQ(a.intel.fetch_retry_base, b.intel.fetch_retry_base);
  EXPECT_EQ(a.intel.enrich_retry_base, b.intel.enrich_retry_base);
  EXPECT_EQ(a.intel.extract_retry_base, b.intel.extract_retry_base);
  EXPECT_EQ(a.intel.max_attempts, b.intel.max_attempts);
  EXPECT_EQ(a.intel.stale_check, b.intel.stale_check);
  EXPECT_EQ(a.intel.extraction, b.intel.extraction);
  EXPECT_EQ(a.intel.llm_kind, b.intel.llm_kind);
  EXPECT_EQ(a.intel.llm_base_url, b.intel.llm_base_url);
  EXPECT_EQ(a.intel.llm_model, b.intel.llm_model);
  EXPECT_EQ(a.intel.llm_api_key_env, b.intel.llm_api_key_env);
  EXPECT_EQ(a.intel.llm_fallback_kind, b.intel.llm_fallback_kind);
  EXPECT_EQ(a.intel.llm_fallback_base_url, b.intel.llm_fallback_base_url);
  EXPECT_EQ(a.intel.llm_fallback_model, b.intel.llm_fallback_model);
  EXPECT_EQ(a.intel.llm_fallback_api_key_env, b.intel.llm_fallback_api_key_env);
  EXPECT_EQ(a.intel.llm_timeout, b.intel.llm_timeout);
  EXPECT_EQ(a.intel.llm_breaker_failures, b.intel.llm_breaker_failures);
  EXPECT_EQ(a.intel.llm_breaker_cool_down, b.intel.llm_breaker_cool_down);
  EXPECT_EQ(a.intel.stage2, b.intel.stage2);
  EXPECT_EQ(a.intel.two_stage_domains, b.intel.two_stage_domains);
  EXPECT_EQ(a.log.level, b.log.level);
  EXPECT_EQ(a.audit.key, b.audit.key);
  EXPECT_EQ(a.audit.sign_every, b.audit.sign_every);
  EXPECT_EQ(a.thresholds.ml_anomaly, b.thresholds.ml_anomaly);
  EXPECT_EQ(a.thresholds.correlation_per_source, b.thresholds.correlation_per_source);
  EXPECT_EQ(a.thresholds.correlation_combined, b.thresholds.correlation_combined);
  EXPECT_EQ(a.thresholds.spike, b.thresholds.spike);
  EXPECT_EQ(a.priority.weights.threat_severity, b.priority.weights.threat_severity);
  EXPECT_EQ(a.priority.weights.model_confidence, b.priority.weights.model_confidence);
  EXPECT_EQ(a.priority.weights.corroboration, b.priority.weights.corroboration);
  EXPECT_EQ(a.priority.weights.temporal_urgency, b.priority.weights.temporal_urgency);
  EXPECT_EQ(a.priority.weights.spatial_sensitivity, b.priority.weights.spatial_sensitivity);
  EXPECT_EQ(a.priority.boost_corroborated, b.priority.boost_corroborated);
  EXPECT_EQ(a.priority.boost_multi, b.priority.boost_multi);
  EXPECT_EQ(a.priority.severity_violent, b.priority.severity_violent);
  EXPECT_EQ(a.priority.severity_property, b.priority.severity_property);
  EXPECT_EQ(a.priority.severity_other, b.priority.severity_other);
  EXPECT_EQ(a.priority.default_confidence, b.priority.default_confidence);
  EXPECT_EQ(a.priority.urgency_time_constant.count(), b.priority.urgency_time_constant.count());
  EXPECT_EQ(a.priority.site_full_m, b.priority.site_full_m);
  EXPECT_EQ(a.priority.site_zero_m, b.priority.site_zero_m);
  EXPECT_EQ(a.priority.band_p0, b.priority.band_p0);
  EXPECT_EQ(a.priority.band_p1, b.priority.band_p1);
  EXPECT_EQ(a.priority.band_p2, b.priority.band_p2);
  EXPECT_EQ(a.alerts.sensor_types, b.alerts.sensor_types);
  EXPECT_EQ(a.alerts.correlation_types, b.alerts.correlation_types);
  EXPECT_EQ(a.correlation.radius_m, b.correlation.radius_m);
  EXPECT_EQ(a.correlation.window.count(), b.correlation.window.count());
  EXPECT_EQ(a.correlation.max_neighbours, b.correlation.max_neighbours);
  EXPECT_EQ(a.spike.enabled, b.spike.enabled);
  EXPECT_EQ(a.spike.method, b.spike.method);
  EXPECT_EQ(a.spike.alpha, b.spike.alpha);
  EXPECT_EQ(a.spike.warmup.count(), b.spike.warmup.count());
  EXPECT_EQ(a.spike.min_count, b.spike.min_count);
  EXPECT_EQ(a.spike.min_rate, b.spike.min_rate);
  EXPECT_EQ(a.ml.enabled, b.ml.enabled);
  EXPECT_EQ(a.ml.sample_size, b.ml.sample_size);
  EXPECT_EQ(a.ml.rebuild_every, b.ml.rebuild_every);
  EXPECT_EQ(a.ml.n_estimators, b.ml.n_estimators);
  EXPECT_EQ(a.ml.max_samples, b.ml.max_samples);
  EXPECT_EQ(a.ml.seed, b.ml.seed);
  EXPECT_EQ(a.ml.candidate_confidence, b.ml.candidate_confidence);
  EXPECT_EQ(a.ml.budget.count(), b.ml.budget.count());
  ASSERT_EQ(a.geofences.size(), b.geofences.size());
  for (size_t i = 0; i < a.geofences.size(); ++i) {
    EXPECT_EQ(a.geofences[i].name, b.geofences[i].name);
    EXPECT_EQ(a.geofences[i].polygons, b.geofences[i].polygons);
    EXPECT_EQ(a.geofences[i].sites, b.geofences[i].sites);
    EXPECT_EQ(a.geofences[i].radius_m, b.geofences[i].radius_m);
    EXPECT_EQ(a.geofences[i].types, b.geofences[i].types);
  }
  EXPECT_EQ(a.dedup.window.count(), b.dedup.window.count());
  EXPECT_EQ(a.dedup.max_event_ids, b.dedup.max_event_ids);
  EXPECT_EQ(a.bias.window.count(), b.bias.window.count());
  EXPECT_EQ(a.bias.min_ratio, b.bias.min_ratio);
  EXPECT_EQ(a.bias.max_ratio, b.bias.max_ratio);
  EXPECT_EQ(a.bias.min_alerts, b.bias.min_alerts);
}

/// The one-line message parse_config throws for `yaml`, or "" when it loads.
std::string error_of(const std::string& yaml, const std::string& base_dir = ".") {
  try {
    (void)parse_config(yaml, "demo.yaml", base_dir);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// A fresh directory per test under gtest's temp dir.
fs::path fresh_dir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = fs::path(::testing::TempDir()) /
                 (std::string("sentinel_config_") + info->test_suite_name() + "_" + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

const fs::path kSourceDir = SENTINEL_SOURCE_DIR;

// ------------------------------------------------------------------ defaults --

TEST(ConfigDefaults, EmptyInputsGiveDefaults) {
  const Config defaults;
  for (const char* text : {"", "{}", "# only a comment\n", "---\n", "windows:\ncity: {}\n"}) {
    SCOPED_TRACE(text);
    const Config c = parse_config(text, "demo.yaml");
    expect_same(c, defaults);
  }
}

TEST(ConfigDefaults, BaseDirIsRecorded) {
  EXPECT_EQ(parse_config("", "demo.yaml", "/etc/sentinel").base_dir, "/etc/sentinel");
}

TEST(ConfigDefaults, DefaultsMatchTheDesign) {
  const Config c;
  EXPECT_EQ(c.ingest.dedup_horizon, std::chrono::hours(24));
  EXPECT_EQ(c.windows.allowed_lateness, std::chrono::minutes(5));
  EXPECT_EQ(c.latency.warn_p95, std::chrono::seconds(4));
  EXPECT_EQ(c.latency.breaker_p95, std::chrono::seconds(8));
  EXPECT_EQ(c.checkpoint.interval, std::chrono::seconds(30));
}

// ------------------------------------------------------------------- values --

TEST(ConfigValues, EveryKindParses) {
  const Config c = parse_config(R"(
city:
  name: Chicago
  time_zone: America/Chicago
  district_name_property: community
  bounds: [41.6, -87.95, 42.05, -87.5]
ingest:
  sources: [cad, sensor]
  dedup_horizon: 2h
  max_line_bytes: 512KiB
  max_clock_skew: 0ms
cells: {fine_level: 15, coarse_level: 15}
pipeline: {shards: 4, batch_size: 256, queue_batches: 8}
windows:
  tumbling: false
  tumbling_size: 90s
  sliding: False
  sliding_size: 30m
  sliding_slide: 10m
checkpoint: {interval: 1s, keep: 7}
latency: {warn_p95: 100ms, breaker_p95: 200ms}
server:
  listen: "[::1]:0"
  max_body_bytes: 2048
log:
  level: debug
)",
                                "demo.yaml");
  EXPECT_EQ(c.city.name, "Chicago");
  EXPECT_EQ(c.city.time_zone, "America/Chicago");
  EXPECT_EQ(c.city.district_name_property, "community");
  EXPECT_EQ(c.city.bounds, (std::array<double, 4>{41.6, -87.95, 42.05, -87.5}));
  EXPECT_EQ(c.ingest.sources, (std::vector<std::string>{"cad", "sensor"}));
  EXPECT_EQ(c.ingest.dedup_horizon, std::chrono::hours(2));
  EXPECT_EQ(c.ingest.max_line_bytes, 512u * 1024);
  EXPECT_EQ(c.ingest.max_clock_skew, Millis(0));
  EXPECT_EQ(c.cells.fine_level, 15);
  EXPECT_EQ(c.cells.coarse_level, 15);
  EXPECT_EQ(c.pipeline.shards, 4);
  EXPECT_EQ(c.pipeline.batch_size, 256u);
  EXPECT_EQ(c.pipeline.queue_batches, 8u);
  EXPECT_FALSE(c.windows.tumbling);
  EXPECT_EQ(c.windows.tumbling_size, std::chrono::seconds(90));
  EXPECT_FALSE(c.windows.sliding);
  EXPECT_EQ(c.windows.sliding_size, std::chrono::minutes(30));
  EXPECT_EQ(c.windows.sliding_slide, std::chrono::minutes(10));
  EXPECT_TRUE(c.windows.session);  // untouched keys keep their default
  EXPECT_EQ(c.checkpoint.interval, std::chrono::seconds(1));
  EXPECT_EQ(c.checkpoint.keep, 7u);
  EXPECT_EQ(c.latency.warn_p95, Millis(100));
  EXPECT_EQ(c.latency.breaker_p95, Millis(200));
  EXPECT_EQ(c.server.listen, "[::1]:0");
  EXPECT_EQ(c.server.max_body_bytes, 2048u);
  EXPECT_EQ(c.log.level, "debug");
}

TEST(ConfigValues, SizeUnits) {
  struct Case {
    const char* text;
    uint64_t bytes;
  };
  for (const Case& k : {Case{"1MiB", 1u << 20}, Case{"16MiB", 16u << 20},
                        Case{"512KiB", 512u << 10}, Case{"1GiB", 1u << 30}, Case{"4096", 4096},
                        Case{"4096B", 4096}, Case{"10MB", 10'000'000}, Case{"2KB", 2000}}) {
    SCOPED_TRACE(k.text);
    const Config c =
        parse_config(std::string("server: {max_body_bytes: ") + k.text + "}", "demo.yaml");
    EXPECT_EQ(c.server.max_body_bytes, k.bytes);
  }
}

// ------------------------------------------------------------ error messages --

TEST(ConfigErrors, MessagesFromTheBrief) {
  EXPECT_EQ(error_of("windows:\n  tumbling_size: five\n"),
            "demo.yaml: windows.tumbling_size: expected a duration like 5m, got 'five'");
  EXPECT_EQ(error_of("cells: {fine_level: 31}"),
            "demo.yaml: cells.fine_level: 31 is out of range [0, 30]");
  EXPECT_EQ(error_of("windows: {bogus: 1}"),
            "demo.yaml: windows.bogus: unknown key (known under windows: allowed_lateness, "
            "tumbling, tumbling_size, sliding, sliding_size, sliding_slide, session, "
            "session_gap, global_size)");
}

TEST(ConfigErrors, EachTypeNamesKeyAndReason) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"city: {name: {a: 1}}", "demo.yaml: city.name: expected a string, got a mapping"},
      {"city: {name: }", "demo.yaml: city.name: expected a string, got nothing"},
      {"windows: {tumbling: yes}",
       "demo.yaml: windows.tumbling: expected true or false, got 'yes'"},
      {"windows: {tumbling: [true]}",
       "demo.yaml: windows.tumbling: expected true or false, got a list"},
      {"cells: {fine_level: 1.5}", "demo.yaml: cells.fine_level: expected an integer, got '1.5'"},
      {"pipeline: {shards: many}", "demo.yaml: pipeline.shards: expected an integer, got 'many'"},
      {"pipeline: {batch_size: 99999999999999999999}",
       "demo.yaml: pipeline.batch_size: expected an integer, got '99999999999999999999'"},
      {"ingest: {max_line_bytes: 1 MiB}",
       "demo.yaml: ingest.max_line_bytes: expected a size like 16MiB or 512KiB, or a byte count, "
       "got '1 MiB'"},
      {"ingest: {max_line_bytes: 1Mb}",
       "demo.yaml: ingest.max_line_bytes: expected a size like 16MiB or 512KiB, or a byte count, "
       "got '1Mb'"},
      {"ingest: {max_line_bytes: 99999999999GiB}",
       "demo.yaml: ingest.max_line_bytes: expected a size like 16MiB or 512KiB, or a byte count, "
       "got '99999999999GiB'"},
      {"watermark: {idle_timeout: 60}",
       "demo.yaml: watermark.idle_timeout: expected a duration like 5m, got '60'"},
      {"watermark: {idle_timeout: -1s}",
       "demo.yaml: watermark.idle_timeout: expected a duration like 5m, got '-1s'"},
      {"ingest: {sources: cad}",
       "demo.yaml: ingest.sources: expected a list of strings, got 'cad'"},
      {"ingest: {sources: [cad, {a: 1}]}",
       "demo.yaml: ingest.sources: item 2: expected a string, got a mapping"},
      {"ingest: {sources: []}", "demo.yaml: ingest.sources: needs at least 1 item(s)"},
      {"ingest: {sources: [cad, Bad Name]}",
       "demo.yaml: ingest.sources: item 2: 'Bad Name' is not a source name (lower-case letters, "
       "digits, _ and -)"},
      {"ingest: {sources: [cad, sensor, cad]}",
       "demo.yaml: ingest.sources: item 3: 'cad' is listed twice"},
      {"city: {bounds: [1, 2, 3]}",
       "demo.yaml: city.bounds: expected a list of 4 numbers [min_lat, min_lon, max_lat, max_lon], "
       "got 3 item(s)"},
      {"city: {bounds: 5}",
       "demo.yaml: city.bounds: expected a list of 4 numbers [min_lat, min_lon, max_lat, max_lon], "
       "got '5'"},
      {"city: {bounds: [1, x, 3, 4]}",
       "demo.yaml: city.bounds: min_lon: expected a number, got 'x'"},
      {"city: {bounds: [1, 2, .nan, 4]}",
       "demo.yaml: city.bounds: max_lat: expected a number, got '.nan'"},
      {"log: {level: verbose}",
       "demo.yaml: log.level: expected one of trace, debug, info, warn, error, got 'verbose'"},
      {"log: {level: [info]}",
       "demo.yaml: log.level: expected one of trace, debug, info, warn, error, got a list"},
      {"server: {listen: localhost}",
       "demo.yaml: server.listen: expected host:port like 127.0.0.1:8080, got 'localhost'"},
      {"server: {listen: 'localhost:http'}",
       "demo.yaml: server.listen: expected host:port like 127.0.0.1:8080, got 'localhost:http'"},
      {"server: {listen: '::1:80'}",
       "demo.yaml: server.listen: expected host:port like 127.0.0.1:8080, got '::1:80'"},
      {"city: {time_zone: ''}",
       "demo.yaml: city.time_zone: must not be empty; use an IANA zone such as UTC or "
       "America/Chicago"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.yaml);
    EXPECT_EQ(error_of(k.yaml), k.message);
  }
}

TEST(ConfigErrors, MessagesStayOneLine) {
  EXPECT_EQ(error_of("log: {level: \"a\\nb\\x01\"}"),
            "demo.yaml: log.level: expected one of trace, debug, info, warn, error, got "
            "'a\\nb\\x01'");
  EXPECT_EQ(error_of("log: {\"x\\ny\": 1}"),
            "demo.yaml: log.x\\ny: unknown key (known under log: level)");
  const std::string long_value(200, 'z');
  EXPECT_EQ(error_of("log: {level: " + long_value + "}"),
            "demo.yaml: log.level: expected one of trace, debug, info, warn, error, got '" +
                std::string(60, 'z') + "...'");
}

TEST(ConfigErrors, OutOfRange) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"cells: {coarse_level: -1}", "demo.yaml: cells.coarse_level: -1 is out of range [0, 30]"},
      {"pipeline: {batch_size: 0}",
       "demo.yaml: pipeline.batch_size: 0 is out of range [1, 1048576]"},
      {"pipeline: {shards: 1025}", "demo.yaml: pipeline.shards: 1025 is out of range [0, 1024]"},
      {"checkpoint: {keep: 4294967297}",
       "demo.yaml: checkpoint.keep: 4294967297 is out of range [1, 100]"},
      {"ingest: {max_line_bytes: 2GiB}",
       "demo.yaml: ingest.max_line_bytes: 2GiB is out of range [1KiB, 1GiB]"},
      {"server: {max_body_bytes: 1000}",
       "demo.yaml: server.max_body_bytes: 1000 is out of range [1KiB, 1GiB]"},
      {"windows: {tumbling_size: 0s}",
       "demo.yaml: windows.tumbling_size: 0s is out of range [1s, 7d]"},
      {"latency: {window: 11m}", "demo.yaml: latency.window: 11m is out of range [1s, 10m]"},
      {"city: {bounds: [-91, 0, 10, 10]}",
       "demo.yaml: city.bounds: min_lat -91 is out of range [-90, 90]"},
      {"city: {bounds: [0, 0, 10, 180.5]}",
       "demo.yaml: city.bounds: max_lon 180.5 is out of range [-180, 180]"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.yaml);
    EXPECT_EQ(error_of(k.yaml), k.message);
  }
  EXPECT_EQ(error_of("cells: {coarse_level: 0, fine_level: 30}"), "");
  EXPECT_EQ(error_of("ingest: {max_line_bytes: 1GiB}"), "");
}

TEST(ConfigErrors, UnknownKeysAtEveryLevel) {
  EXPECT_EQ(error_of("bogus: 1"),
            "demo.yaml: bogus: unknown key (known sections: city, ingest, cells, pipeline, "
            "watermark, windows, checkpoint, audit, thresholds, priority, alerts, correlation, spike, ml, "
            "geofences, dedup, bias, latency, server, queue, telemetry, detection, ensemble, kafka, intel, log)");
  // A leaf written at the top level instead of in its section.
  EXPECT_THAT(error_of("tumbling_size: 5m"),
              StartsWith("demo.yaml: tumbling_size: unknown key (known sections: "));
  for (const char* section : {"city", "ingest", "cells", "pipeline", "watermark", "windows",
                              "checkpoint", "latency", "server", "log"}) {
    SCOPED_TRACE(section);
    EXPECT_THAT(error_of(std::string(section) + ":\n  nope: 1\n"),
                StartsWith(std::string("demo.yaml: ") + section +
                           ".nope: unknown key (known under " + section + ": "));
  }
  // A key of another section.
  EXPECT_THAT(error_of("cells: {tumbling_size: 5m}"),
              StartsWith("demo.yaml: cells.tumbling_size: unknown key (known under cells: "
                         "fine_level, coarse_level)"));
}

TEST(ConfigErrors, WrongNesting) {
  EXPECT_EQ(error_of("windows: 5"), "demo.yaml: windows: expected a mapping of keys, got '5'");
  EXPECT_EQ(error_of("windows: [tumbling_size]"),
            "demo.yaml: windows: expected a mapping of keys, got a list");
  EXPECT_EQ(error_of("windows:\n  tumbling_size:\n    value: 5m\n"),
            "demo.yaml: windows.tumbling_size: expected a duration like 5m, got a mapping");
  EXPECT_EQ(error_of("cells: {fine_level: [14]}"),
            "demo.yaml: cells.fine_level: expected an integer, got a list");
  EXPECT_EQ(error_of("- city"), "demo.yaml: expected a mapping of sections, got a list");
  EXPECT_EQ(error_of("just text"), "demo.yaml: expected a mapping of sections, got 'just text'");
  EXPECT_EQ(error_of("? [a, b]\n: 1\n"), "demo.yaml: keys must be plain names");
  EXPECT_EQ(error_of("log:\n  : info\n"), "demo.yaml: log: keys must be plain names");
}

TEST(ConfigErrors, DuplicateKeysAndDocuments) {
  EXPECT_EQ(error_of("cells:\n  fine_level: 12\n  fine_level: 13\n"),
            "demo.yaml: cells.fine_level: duplicate key");
  EXPECT_EQ(error_of("cells: {}\ncells: {}\n"), "demo.yaml: cells: duplicate key");
  EXPECT_EQ(error_of("cells: {}\n---\nlog: {}\n"),
            "demo.yaml: expected one YAML document, found 2");
}

TEST(ConfigErrors, InvalidYamlGivesLineAndColumn) {
  EXPECT_THAT(error_of("cells:\n  fine_level: [14\n"), StartsWith("demo.yaml:"));
  EXPECT_THAT(error_of("cells:\n  fine_level: [14\n"), HasSubstr(": invalid YAML: "));
  // A tab used for indentation, on the third line.
  const std::string tab = error_of("cells:\n  fine_level: 14\n\tcoarse_level: 10\n");
  EXPECT_THAT(tab, StartsWith("demo.yaml:3:")) << tab;
  EXPECT_THAT(tab, HasSubstr("invalid YAML"));
  // yaml-cpp 0.7 loops forever on a stray "," at document level (yaml-cpp#1040).
  EXPECT_EQ(error_of(","), "demo.yaml:1:1: invalid YAML: unexpected ','");
  EXPECT_EQ(error_of("log: {}\n---\n,\n"), "demo.yaml:3:1: invalid YAML: unexpected ','");
  // yaml-cpp quotes the bad escape character itself; the message stays one line.
  EXPECT_EQ(error_of(std::string("log: {level: \"\\\x01\"}")),
            "demo.yaml:1:17: invalid YAML: unknown escape character: \\x01");
  const std::string bad_map = error_of("log: {level: info\nserver: {}\n");
  EXPECT_THAT(bad_map, ::testing::MatchesRegex("demo\\.yaml:[0-9]+:[0-9]+: invalid YAML: .+"))
      << bad_map;
}

// -------------------------------------------------------------- cross-field --

TEST(ConfigCrossField, CoarseLevelNotAboveFine) {
  // The key the file set is the one named.
  EXPECT_EQ(error_of("cells: {fine_level: 8}"),
            "demo.yaml: cells.fine_level: cells.coarse_level (10) must not exceed "
            "cells.fine_level (8)");
  EXPECT_EQ(error_of("cells: {coarse_level: 15}"),
            "demo.yaml: cells.coarse_level: cells.coarse_level (15) must not exceed "
            "cells.fine_level (14)");
  EXPECT_EQ(error_of("cells: {coarse_level: 14}"), "");
}

TEST(ConfigCrossField, SlidingSizeMultipleOfSlide) {
  EXPECT_EQ(error_of("windows: {sliding_slide: 7m}"),
            "demo.yaml: windows.sliding_slide: windows.sliding_size (1h) must be a multiple of "
            "windows.sliding_slide (7m)");
  EXPECT_EQ(error_of("windows: {sliding_size: 50m}"),
            "demo.yaml: windows.sliding_size: windows.sliding_size (50m) must be a multiple of "
            "windows.sliding_slide (15m)");
  EXPECT_EQ(error_of("windows: {sliding_size: 2h, sliding_slide: 20m}"), "");
  EXPECT_EQ(error_of("windows: {sliding_size: 10m, sliding_slide: 20m}"),
            "demo.yaml: windows.sliding_size: windows.sliding_size (10m) must be a multiple of "
            "windows.sliding_slide (20m)");
}

TEST(ConfigCrossField, WarnBelowBreaker) {
  EXPECT_EQ(error_of("latency: {warn_p95: 8s}"),
            "demo.yaml: latency.warn_p95: latency.warn_p95 (8s) must be below "
            "latency.breaker_p95 (8s)");
  EXPECT_EQ(error_of("latency: {breaker_p95: 3s}"),
            "demo.yaml: latency.breaker_p95: latency.warn_p95 (4s) must be below "
            "latency.breaker_p95 (3s)");
  EXPECT_EQ(error_of("latency: {warn_p95: 1s, breaker_p95: 2s}"), "");
}

TEST(ConfigCrossField, BoundsMinBelowMax) {
  EXPECT_EQ(error_of("city: {bounds: [50, 0, 40, 10]}"),
            "demo.yaml: city.bounds: min_lat 50 must be below max_lat 40");
  EXPECT_EQ(error_of("city: {bounds: [0, 10, 40, 10]}"),
            "demo.yaml: city.bounds: min_lon 10 must be below max_lon 10");
}

// ------------------------------------------------------------------- paths --

TEST(ConfigPaths, RelativePathsResolveAgainstTheConfigDirectory) {
  const fs::path dir = fresh_dir();
  fs::create_directories(dir / "data");
  write_file(dir / "data" / "districts.geojson", "{}");
  write_file(dir / "data" / "schools.geojson", "{}");
  write_file(dir / "hospitals.geojson", "{}");
  write_file(dir / "sentinel.yaml", R"(
city:
  districts: data/districts.geojson
  sensitive_sites: [data/schools.geojson, ./hospitals.geojson]
)");
  const Config c = load_config((dir / "sentinel.yaml").string());
  EXPECT_EQ(fs::path(c.base_dir), dir.lexically_normal());
  EXPECT_EQ(c.city.districts, (dir / "data" / "districts.geojson").lexically_normal().string());
  ASSERT_EQ(c.city.sensitive_sites.size(), 2u);
  EXPECT_EQ(c.city.sensitive_sites[0], (dir / "data" / "schools.geojson").string());
  EXPECT_EQ(c.city.sensitive_sites[1], (dir / "hospitals.geojson").string());

  // The same text from parse_config with an explicit base directory.
  const Config d = parse_config("city: {districts: data/districts.geojson}", "x.yaml",
                                (dir / "data" / "..").string());
  EXPECT_EQ(d.city.districts, (dir / "data" / "districts.geojson").lexically_normal().string());
}

TEST(ConfigPaths, AbsolutePathsAreKept) {
  const fs::path dir = fresh_dir();
  write_file(dir / "d.geojson", "{}");
  const Config c = parse_config("city: {districts: '" + (dir / "d.geojson").string() + "'}",
                                "demo.yaml", "/nonexistent");
  EXPECT_EQ(c.city.districts, (dir / "d.geojson").string());
}

TEST(ConfigPaths, MissingFilesNameKeyAndPath) {
  const fs::path dir = fresh_dir();
  fs::create_directories(dir / "sub");
  const std::string base = dir.string();
  EXPECT_EQ(error_of("city: {districts: nope.geojson}", base),
            "demo.yaml: city.districts: file not found: " + (dir / "nope.geojson").string());
  EXPECT_EQ(error_of("city: {districts: sub}", base),
            "demo.yaml: city.districts: not a regular file: " + (dir / "sub").string());
  write_file(dir / "a.geojson", "{}");
  EXPECT_EQ(
      error_of("city: {sensitive_sites: [a.geojson, b.geojson]}", base),
      "demo.yaml: city.sensitive_sites: item 2: file not found: " + (dir / "b.geojson").string());
  EXPECT_EQ(error_of("city: {sensitive_sites: [a.geojson, ./a.geojson]}", base),
            "demo.yaml: city.sensitive_sites: item 2: './a.geojson' is listed twice");
  EXPECT_EQ(error_of("city: {sensitive_sites: ['']}", base),
            "demo.yaml: city.sensitive_sites: item 1: expected a file path, got ''");
  EXPECT_EQ(error_of("city: {districts: ''}", base), "");
}

TEST(ConfigPaths, LoadConfigErrors) {
  const fs::path dir = fresh_dir();
  const std::string missing = (dir / "missing.yaml").string();
  try {
    (void)load_config(missing);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), StartsWith(missing + ": cannot read: "));
  }
  write_file(dir / "bad.yaml", "cells:\n  fine_level: 99\n");
  try {
    (void)load_config((dir / "bad.yaml").string());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir / "bad.yaml").string() + ": cells.fine_level: 99 is out of range [0, 30]");
  }
}

// ---------------------------------------------------------- example and docs --

/// The key paths listed in the generated reference ("| `windows.tumbling` |").
std::set<std::string> documented_keys() {
  std::set<std::string> keys;
  const std::string md = config_reference_markdown();
  std::istringstream lines(md);
  for (std::string line; std::getline(lines, line);) {
    const std::string_view start = "| `";
    if (line.compare(0, start.size(), start) != 0) continue;
    const size_t end = line.find('`', start.size());
    if (end != std::string::npos) keys.insert(line.substr(start.size(), end - start.size()));
  }
  return keys;
}

void collect_leaves(const YAML::Node& node, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& entry : node) {
    const std::string path = prefix + entry.first.Scalar();
    if (entry.second.IsMap()) {
      collect_leaves(entry.second, path + ".", out);
    } else {
      out.insert(path);
    }
  }
}

TEST(ConfigExample, LoadsAndEqualsDefaults) {
  const fs::path example = kSourceDir / "examples" / "sentinel.yaml";
  const Config c = load_config(example.string());
  expect_same(c, Config{});
  EXPECT_EQ(fs::path(c.base_dir), (kSourceDir / "examples").lexically_normal());
}

TEST(ConfigExample, ListsEveryKey) {
  std::set<std::string> in_example;
  collect_leaves(YAML::LoadFile((kSourceDir / "examples" / "sentinel.yaml").string()), "",
                 in_example);
  const std::set<std::string> documented = documented_keys();
  EXPECT_GT(documented.size(), 30u);
  EXPECT_EQ(in_example, documented);
}

constexpr std::string_view kBegin = "<!-- BEGIN GENERATED -->\n";
constexpr std::string_view kEnd = "<!-- END GENERATED -->";

TEST(ConfigDocs, UpToDate) {
  const fs::path doc_path = kSourceDir / "docs" / "CONFIG.md";
  const std::string doc = read_file(doc_path);
  const size_t begin = doc.find(kBegin);
  const size_t end = doc.find(kEnd);
  ASSERT_NE(begin, std::string::npos) << doc_path << " lacks the marker " << kBegin;
  ASSERT_NE(end, std::string::npos) << doc_path << " lacks the marker " << kEnd;
  ASSERT_LT(begin, end);
  const std::string current = doc.substr(begin + kBegin.size(), end - begin - kBegin.size());
  const std::string expected = config_reference_markdown();
  if (current == expected) return;

  const std::string regenerated = doc.substr(0, begin + kBegin.size()) + expected + doc.substr(end);
  if (const char* update = std::getenv("SENTINEL_UPDATE_DOCS");
      update && std::string(update) == "1") {
    write_file(doc_path, regenerated);
    std::cout << "rewrote " << doc_path << "\n";
    return;
  }
  const fs::path out = fs::absolute("CONFIG.md.generated");
  write_file(out, regenerated);
  ADD_FAILURE() << doc_path << " is out of date with the config schema (src/core/config.cpp).\n"
                << "The regenerated file is " << out << "; to update:\n"
                << "  cp " << out << " " << doc_path << "\n"
                << "or run: SENTINEL_UPDATE_DOCS=1 unit_core --gtest_filter=ConfigDocs.UpToDate";
}

TEST(ConfigDocs, ReferenceShowsDefaultsFromTheStruct) {
  const std::string md = config_reference_markdown();
  EXPECT_THAT(md, HasSubstr("| `windows.tumbling_size` | duration | `5m` | [1s, 7d] |"));
  EXPECT_THAT(md, HasSubstr("| `server.max_body_bytes` | size | `16MiB` | [1KiB, 1GiB] |"));
  EXPECT_THAT(md, HasSubstr("| `cells.fine_level` | integer | `14` | [0, 30] |"));
  EXPECT_THAT(md, HasSubstr("| `log.level` | enum | `info` | one of trace, debug, info, warn, "
                            "error |"));
  EXPECT_THAT(md, HasSubstr("| `city.time_zone` | string | `\"UTC\"` |"));
  EXPECT_THAT(md, HasSubstr("| `ingest.sources` | list of strings | `[cctv, sensor, cad, "
                            "platform, network, osint]` |"));
}


TEST(ConfigAlerts, ParsesNumbersNestedKeysAndGeofences) {
  const fs::path dir = fs::temp_directory_path() / "sentinel_config_geofences";
  fs::create_directories(dir);
  write_file(dir / "schools.geojson", R"({"type":"FeatureCollection","features":[]})");
  const Config c = parse_config(R"(
priority:
  weights: {threat_severity: 0.5, corroboration: 0.1}
  bands: {p0: 0.9, p1: 0.7, p2: 0.3}
thresholds: {ml_anomaly: 0.8}
geofences:
  - name: schools-200m
    sites: schools.geojson
    radius_m: 200
    types: [sensor., cad.call.weapon]
)",
                                "demo.yaml", dir.string());
  EXPECT_EQ(c.priority.weights.threat_severity, 0.5);
  EXPECT_EQ(c.priority.weights.corroboration, 0.1);
  EXPECT_EQ(c.priority.weights.model_confidence, 0.25);
  EXPECT_EQ(c.priority.band_p0, 0.9);
  EXPECT_EQ(c.thresholds.ml_anomaly, 0.8);
  ASSERT_EQ(c.geofences.size(), 1u);
  EXPECT_EQ(c.geofences[0].name, "schools-200m");
  EXPECT_EQ(fs::path(c.geofences[0].sites), (dir / "schools.geojson").lexically_normal());
  EXPECT_EQ(c.geofences[0].radius_m, 200);
  EXPECT_EQ(c.geofences[0].types, (std::vector<std::string>{"sensor.", "cad.call.weapon"}));
}

TEST(ConfigAlerts, NamesTheBadKey) {
  EXPECT_EQ(error_of("thresholds: {spike: 1.5}"), "demo.yaml: thresholds.spike: 1.5 is out of range [0, 1]");
  EXPECT_EQ(error_of("priority: {weights: {bogus: 1}}"),
            "demo.yaml: priority.weights.bogus: unknown key (known under priority.weights: threat_severity, "
            "model_confidence, corroboration, temporal_urgency, spatial_sensitivity)");
  EXPECT_EQ(error_of("priority: {bands: {p1: 0.9}}"),
            "demo.yaml: priority.bands.p1: priority.bands must decrease: p0 (0.85) > p1 (0.9) > p2 (0.4)");
  EXPECT_EQ(error_of("spike: {method: median}"),
            "demo.yaml: spike.method: expected one of poisson, ewma, got 'median'");
  EXPECT_EQ(error_of("geofences: {a: 1}"), "demo.yaml: geofences: expected a list of rules, got a mapping");
  EXPECT_EQ(error_of("geofences: [{name: x}]"),
            "demo.yaml: geofences: item 1 (x): give either polygons or sites (with radius_m)");
  EXPECT_EQ(error_of("geofences: [{name: x, radius: 5}]"),
            "demo.yaml: geofences: item 1: radius: unknown key (known: name, polygons, sites, radius_m, types)");
  EXPECT_EQ(error_of("geofences: [{name: x, sites: nowhere.geojson, radius_m: 5}]").rfind(
                "demo.yaml: geofences: item 1: sites: file not found: ", 0),
            0u);
  EXPECT_EQ(error_of("geofences: [{name: x, types: [Bad]}]"),
            "demo.yaml: geofences: item 1: types: item 1: 'Bad' is not an event type prefix (lower-case letters, "
            "digits, _, - and .)");
  EXPECT_EQ(error_of("alerts: {sensor_types: [sensor.gunshot, sensor.gunshot]}"),
            "demo.yaml: alerts.sensor_types: item 2: 'sensor.gunshot' is listed twice");
}

}  // namespace config_test
}  // namespace sentinel
