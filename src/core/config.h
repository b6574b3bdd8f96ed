// Sentinel's configuration: one YAML file, validated at start-up.
//
// The default of every key is the member initialiser below, and nowhere
// else: the loader starts from a default-constructed Config, the reference
// in docs/CONFIG.md is generated from the same schema table (config.cpp), and
// a test checks the two agree. Unknown keys, wrong types and out-of-range
// values are errors (ConfigError) that name the key path.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/time.h"

namespace sentinel {

/// Thrown by the loader; what() is one line: "<file>: <key.path>: <reason>".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CityConfig {
  std::string name = "";
  std::string time_zone = "UTC";            ///< IANA zone for local hour/weekday
  std::string districts = "";               ///< GeoJSON of district polygons ("" = none)
  std::string district_name_property = "";  ///< property naming a district ("" = name/community)
  std::vector<std::string> sensitive_sites; ///< GeoJSON files of points (schools, hospitals, ...)
  /// Accepted area [min_lat, min_lon, max_lat, max_lon]; events outside are dead letters.
  /// The default accepts the whole globe.
  std::array<double, 4> bounds = {-90.0, -180.0, 90.0, 180.0};
};

struct IngestConfig {
  std::vector<std::string> sources = {"cctv", "sensor", "cad", "platform", "network", "osint"};
  Millis dedup_horizon = Millis(24 * 3600 * 1000);  ///< event time (source, id) is remembered
  uint64_t max_line_bytes = 1 << 20;                ///< longer lines are dead letters
  Millis max_clock_skew = Millis(24 * 3600 * 1000); ///< live mode: future event time allowed
};

struct CellsConfig {
  int fine_level = 14;    ///< S2 level of the fine cell (~500 m)
  int coarse_level = 10;  ///< S2 level of the partitioning cell (~10 km)
};

struct PipelineConfig {
  int shards = 0;                   ///< 0 = one per hardware core
  uint32_t batch_size = 1024;       ///< events per batch handed to a shard
  uint32_t queue_batches = 64;      ///< bounded queue length per shard, in batches
};

struct WatermarkConfig {
  Millis max_out_of_orderness = Millis(30'000);
  Millis idle_timeout = Millis(60'000);  ///< processing time without events before a source stops holding the watermark
};

struct WindowsConfig {
  Millis allowed_lateness = Millis(5 * 60'000);
  bool tumbling = true;
  Millis tumbling_size = Millis(5 * 60'000);
  bool sliding = true;
  Millis sliding_size = Millis(60 * 60'000);
  Millis sliding_slide = Millis(15 * 60'000);
  bool session = true;
  Millis session_gap = Millis(30 * 60'000);
  Millis global_size = Millis(24 * 3600'000);  ///< span of the on-request global summary
};

struct CheckpointConfig {
  Millis interval = Millis(30'000);  ///< processing time between checkpoints
  uint32_t keep = 3;                 ///< good checkpoints kept on disk
};

struct AuditConfig {
  std::string key = "";     ///< Ed25519 secret key file ("" = no audit log)
  uint32_t sign_every = 64; ///< sign the chain head every N records (1 = every record)
};

/// Gates per alert type (DESIGN.md section 4): the minimum confidence of each.
struct ThresholdsConfig {
  double ml_anomaly = 0.70;              ///< below: suppressed, audit only
  double correlation_per_source = 0.60;  ///< a source below it does not corroborate
  double correlation_combined = 0.70;    ///< 1 - prod(1 - c_i) over corroborating sources
  double spike = 0.65;                   ///< below: trend_watch instead of alert
};

struct PriorityWeightsConfig {
  double threat_severity = 0.35;
  double model_confidence = 0.25;
  double corroboration = 0.20;
  double temporal_urgency = 0.10;
  double spatial_sensitivity = 0.10;
};

/// The priority score of DESIGN.md section 4: weights, boosts, term inputs, bands.
struct PriorityConfig {
  PriorityWeightsConfig weights;
  double boost_corroborated = 0.15;  ///< 2 distinct sources
  double boost_multi = 0.25;         ///< 3 or more distinct sources
  double severity_violent = 1.0;
  double severity_property = 0.6;
  double severity_other = 0.3;
  double default_confidence = 0.5;   ///< model_confidence of an alert without a confidence
  Millis urgency_time_constant = Millis(15 * 60'000);  ///< temporal_urgency = exp(-age / this)
  double site_full_m = 200;   ///< spatial_sensitivity 1 within this distance of a sensitive site
  double site_zero_m = 1000;  ///< ... falling linearly to 0 at this distance
  double band_p0 = 0.85;      ///< score >= band_p0: P0
  double band_p1 = 0.65;
  double band_p2 = 0.40;      ///< below band_p2: P3
};

/// Which event types make which alert candidates (type prefixes: "sensor."
/// matches every sensor type, "cctv.crowd" that type and its subtypes).
struct AlertsConfig {
  std::vector<std::string> sensor_types = {"sensor.gunshot", "sensor.panic"};  ///< always alert
  std::vector<std::string> correlation_types = {"cad.call.", "cctv.crowd", "sensor."};
  /// Events a model outside the shards already scored (the flow detection
  /// service's anomalies): ml_anomaly candidates gated by thresholds.ml_anomaly.
  std::vector<std::string> model_types = {"network.anomaly"};
};

struct CorrelationConfig {
  double radius_m = 500;                   ///< another source within this distance corroborates
  Millis window = Millis(15 * 60'000);     ///< ... and within this much event time
  uint32_t max_neighbours = 32;            ///< most recent corroborating events an alert takes
};

struct SpikeConfig {
  bool enabled = true;
  std::string method = "poisson";          ///< "poisson" (tail probability) or "ewma" (z-score)
  double alpha = 0.05;                     ///< EWMA weight of each tumbling window (empty ones too)
  Millis warmup = Millis(2 * 3600'000);    ///< event time a key is watched before it may report
  uint32_t min_count = 3;                  ///< smaller counts are never spikes
  double min_rate = 0.1;                   ///< floor of the baseline rate per window
};

/// Online isolation forest over tumbling-window feature vectors.
struct AnomalyConfig {
  bool enabled = true;
  uint32_t sample_size = 2048;     ///< most recent vectors the trees are built from
  uint32_t rebuild_every = 1024;   ///< new vectors between rebuilds (and before the first)
  uint32_t n_estimators = 100;
  uint32_t max_samples = 256;
  uint32_t seed = 42;
  double candidate_confidence = 0.5;  ///< above: an anomaly, gated by thresholds.ml_anomaly
  Millis budget = Millis(50);         ///< model time per epoch; past it windows pass unscored
};

/// A geofence rule: an area (polygons, or a radius around sites) x event types.
struct GeofenceRuleConfig {
  std::string name;
  std::string polygons;            ///< GeoJSON file of (Multi)Polygons, or ""
  std::string sites;               ///< GeoJSON file of Points for a radius rule, or ""
  double radius_m = 0;             ///< radius around each site (sites rules)
  std::vector<std::string> types;  ///< event type prefixes; empty = every type
};

struct DedupConfig {
  Millis window = Millis(15 * 60'000);  ///< an alert last updated within this absorbs a match
  uint32_t max_event_ids = 100;         ///< event ids kept per alert (count goes on)
};

struct BiasConfig {
  Millis window = Millis(24 * 3600'000);
  double min_ratio = 0.8;   ///< four-fifths rule
  double max_ratio = 1.25;
  uint32_t min_alerts = 20; ///< ML-derived alerts in the window before any district is judged
};

struct LatencyConfig {
  Millis budget = Millis(5000);       ///< end-to-end p95 budget
  Millis warn_p95 = Millis(4000);     ///< log + metric past this
  Millis breaker_p95 = Millis(8000);  ///< bypass costly enrichment past this
  Millis window = Millis(10'000);     ///< span of the rolling p95 the breaker watches
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  uint64_t max_body_bytes = 16u << 20;  ///< larger request bodies get 413
  int threads = 1;
  Millis retry_after = Millis(1000);    ///< Retry-After sent with 429/503
  std::string tokens = "";              ///< API tokens file (hashed); "" = a one-time admin token at start
  std::string web_root = "";            ///< built command-centre page; "" = web/dist beside the program or source
  uint64_t ws_max_queued_bytes = 4u << 20;   ///< a WebSocket client further behind than this is cut off
  uint64_t ws_max_message_bytes = 64u << 10; ///< largest message a WebSocket client may send
  Millis ws_ping_interval = Millis(15'000);  ///< keep-alive ping; no pong within two intervals closes
  double ingest_rate = 5000;            ///< events per second per token (token bucket refill)
  double ingest_burst = 50'000;         ///< token bucket size, in events
  uint32_t page_max = 1000;             ///< largest page /v1/alerts returns
};

/// The alert queue (DESIGN.md section 5) behind the API and the WebSocket stream.
struct QueueConfig {
  std::string backend = "memory";        ///< memory | redis
  std::string redis = "127.0.0.1:6379";  ///< host:port of the shared Redis (backend redis)
  std::string redis_prefix = "sentinel"; ///< prefix of every Redis key and channel
  Millis redis_retry = Millis(1000);     ///< wait between reconnect attempts
  uint64_t max_alerts = 1'000'000;       ///< alerts kept; past it the oldest closed ones go first
  uint64_t resume_changes = 100'000;     ///< changes kept for WebSocket resume by sequence number
  Millis ack_p0 = Millis(60'000);        ///< acknowledgement SLA per priority (0 = none)
  Millis ack_p1 = Millis(5 * 60'000);
  Millis ack_p2 = Millis(30 * 60'000);
  Millis ack_p3 = Millis(0);
};

/// Flow telemetry in (DESIGN.md section 6).
struct TelemetryConfig {
  uint32_t batch_size = 1000;                      ///< flows handed to the engines at once
  uint64_t max_file_bytes = 10u << 20;             ///< larger telemetry files are refused
  std::string kafka_topic = "flows.telemetry.v1";  ///< streaming input (with kafka.brokers)
  std::string watch_dir = "";  ///< batch mode: directory whose new flow files each iteration reads ("" = none)
};

/// The detection loop and its three engines (DESIGN.md section 6).
struct DetectionConfig {
  Millis interval = Millis(5'000);                  ///< batch mode: one iteration per interval
  Millis timeout = Millis(30'000);                  ///< limit of one iteration
  uint64_t max_flows_per_iteration = 100'000;       ///< batch mode cap (streaming has none)
  Millis engine_budget = Millis(2'000);             ///< per engine per batch; past it skipped
  std::string rules = "";      ///< Sigma-style YAML rule file or directory ("" = no rules engine)
  std::string model = "";      ///< XGBoost JSON or LightGBM text model ("" = no ML engine)
  double ml_threshold = 0.5;   ///< model attack probability at which ML votes attack
  double math_z = 4.0;         ///< robust z-score past which the math engine votes attack
  uint32_t math_warmup = 1000; ///< flows seen before the math engine votes
  double publish_rate = 1000;  ///< anomalies published per second (token bucket)
  double publish_burst = 5000;
};

/// The ensemble vote over the engines.
struct EnsembleConfig {
  double weight_rules = 0.35;
  double weight_math = 0.15;
  double weight_ml = 0.50;
  double threshold = 0.4;  ///< weighted score (over the engines that decided) at which a flow is an anomaly
};

/// Kafka for flow telemetry in and signed detection messages out.
struct KafkaConfig {
  std::string brokers = "";                      ///< bootstrap list; "" = no Kafka
  std::string topic_anomalies = "ai.anomalies.v1";
  std::string topic_evidence = "ai.evidence.v1";
  std::string topic_policy = "ai.policy.v1";
  std::string group_id = "sentinel-flows";
  std::string signing_key = "";                  ///< Ed25519 secret key file signing each message
  std::string verify_key = "";                   ///< Ed25519 public key file consumers verify with
  uint32_t instance_id = 0;                      ///< nonce instance id (0 = derived from host and pid)
};

/// Incident curation from open sources (DESIGN.md section 7): feeds, page
/// enrichment, extraction, article dedup, triage and the curation queue.
struct IntelConfig {
  bool enabled = false;                   ///< run the feed and curation service inside `sentinel run`
  std::string store = "sqlite";           ///< sqlite, postgres
  std::string database = "";              ///< SQLite file ("" = OUT_DIR/intel.db)
  std::string postgres_env = "SENTINEL_PG_CONNINFO";  ///< env var holding the libpq conninfo
  std::vector<std::string> feeds;         ///< feed URLs added at start when missing
  Millis feed_schedule = Millis(3'600'000);
  Millis fetch_timeout = Millis(30'000);
  uint64_t fetch_max_bytes = 10u << 20;
  uint32_t enrich_min_chars = 500;        ///< shorter article texts get the page's main text
  Millis page_timeout = Millis(20'000);
  uint64_t page_max_bytes = 5u << 20;
  std::vector<std::string> gazetteer;     ///< place tables of the built-in extractor
  std::vector<std::string> home_regions;  ///< top-level places incidents are kept for ([] = any)
  std::vector<std::string> organisations; ///< perpetrator-organisation lexicons
  std::string triage_rules = "";          ///< JSON triage rules at first start ("" = built-in defaults)
  uint32_t fetch_concurrency = 4;
  uint32_t enrich_concurrency = 4;
  uint32_t extract_concurrency = 2;
  Millis fetch_retry_base = Millis(60'000);
  Millis enrich_retry_base = Millis(30'000);
  Millis extract_retry_base = Millis(10'000);
  uint32_t max_attempts = 5;              ///< transient failures of one job before it is dead
  Millis stale_check = Millis(30'000);    ///< how often expired job leases are recovered
  std::string extraction = "builtin";     ///< builtin, llm, two_stage
  std::string llm_kind = "anthropic";     ///< anthropic, openai (OpenAI-compatible: Ollama, vLLM)
  std::string llm_base_url = "";          ///< "" = the kind's default
  std::string llm_model = "";
  std::string llm_api_key_env = "";       ///< env var holding the key ("" = none)
  std::string llm_fallback_kind = "";     ///< "", anthropic, openai: a second provider
  std::string llm_fallback_base_url = "";
  std::string llm_fallback_model = "";
  std::string llm_fallback_api_key_env = "";
  Millis llm_timeout = Millis(60'000);
  uint32_t llm_breaker_failures = 5;
  Millis llm_breaker_cool_down = Millis(60'000);
  std::string stage2 = "primary";         ///< two_stage: which provider answers stage 2 first
  std::vector<std::string> two_stage_domains{"political_violence", "crime", "enforcement"};
};

struct LogConfig {
  std::string level = "info";  ///< trace, debug, info, warn, error
};

struct Config {
  CityConfig city;
  IngestConfig ingest;
  CellsConfig cells;
  PipelineConfig pipeline;
  WatermarkConfig watermark;
  WindowsConfig windows;
  CheckpointConfig checkpoint;
  AuditConfig audit;
  ThresholdsConfig thresholds;
  PriorityConfig priority;
  AlertsConfig alerts;
  CorrelationConfig correlation;
  SpikeConfig spike;
  AnomalyConfig ml;
  std::vector<GeofenceRuleConfig> geofences;
  DedupConfig dedup;
  BiasConfig bias;
  LatencyConfig latency;
  ServerConfig server;
  QueueConfig queue;
  TelemetryConfig telemetry;
  DetectionConfig detection;
  EnsembleConfig ensemble;
  KafkaConfig kafka;
  IntelConfig intel;
  LogConfig log;

  /// Directory of the config file, against which relative paths resolve.
  std::string base_dir = ".";
};

/// Loads and validates a YAML file. Relative paths in it resolve against its
/// directory (and are stored resolved). Throws ConfigError.
Config load_config(const std::string& path);
/// Same, from text (`origin` names it in errors).
Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::string& base_dir = ".");
/// Every key's path and its value in `config`, as the reference shows
/// values ("5m", "16MiB", "[a, b]"), in schema order. Holds no secrets: keys
/// and tokens are configured as file paths.
std::vector<std::pair<std::string, std::string>> config_values(const Config& config);
/// The reference documentation (Markdown) of every key: path, type, default,
/// range and meaning, generated from the schema.
std::string config_reference_markdown();

}  // namespace sentinel
