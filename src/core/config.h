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
  LatencyConfig latency;
  ServerConfig server;
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
/// The reference documentation (Markdown) of every key: path, type, default,
/// range and meaning, generated from the schema.
std::string config_reference_markdown();

}  // namespace sentinel
