// sentinel: the command line (DESIGN.md section 9). Every failure exits
// non-zero with one line that says what and where.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "alerts/audit_log.h"
#include "app/flows_commands.h"
#include "core/keys.h"
#include "core/config.h"
#include "intel/feed_json.h"
#include "pipeline/alerting.h"
#include "pipeline/replay.h"
#include "net/http_server.h"
#include "server/auth.h"
#include "server/live_service.h"

namespace {

using namespace sentinel;
namespace fs = std::filesystem;

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

Config load_or_default(const std::string& path) {
  if (path.empty()) return Config{};
  return load_config(path);
}

void setup_logging(const Config& config) {
  auto logger = spdlog::stderr_color_mt("sentinel");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(config.log.level));
}

std::string rate(double per_second) {
  if (per_second >= 1e6) return fmt::format("{:.2f}M", per_second / 1e6);
  if (per_second >= 1e3) return fmt::format("{:.1f}k", per_second / 1e3);
  return fmt::format("{:.0f}", per_second);
}

/// Prints one progress line a second: events/s, watermark, lag, rejects, windows.
class ProgressPrinter {
 public:
  void operator()(const Pipeline& p) {
    const auto& c = p.counters();
    const auto now = std::chrono::steady_clock::now();
    const uint64_t events = c.events.load();
    const double dt = std::chrono::duration<double>(now - last_).count();
    const double eps = dt > 0 ? static_cast<double>(events - last_events_) / dt : 0;
    last_ = now;
    last_events_ = events;
    const int64_t wm = c.watermark_ms.load();
    const AlertCounters& a = p.alert_counters();
    fmt::print(stderr,
               "[replay] {:>7} ev/s | events {} | watermark {} | lag {} | dead letters {} | late {} | dup {} | windows {} | "
               "alerts {} (updates {}, trend_watch {}, suppressed {}){}\n",
               rate(eps), events, wm == INT64_MIN ? std::string("-") : format_rfc3339(event_time_from_ms(wm)),
               p.backlog(), c.dead_letters.load(), c.late.load(), c.duplicates.load(), c.windows.load(), a.alerts.load(),
               a.updates.load(), a.trend_watch.load(), a.suppressed.load(),
               p.latest_highlight().empty() ? "" : " | " + p.latest_highlight());
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  uint64_t last_events_ = 0;
};

void print_summary(const ReplaySummary& s, const std::string& out_dir) {
  fmt::print(stderr,
             "[replay] done in {:.2f} s on {} shard(s): {} lines, {} events ({}/s), {} dead letters, {} late, "
             "{} duplicates, {} window results, {} alerts ({} updates, {} trend_watch, {} suppressed) in {}\n",
             s.seconds, s.shards, s.lines, s.events, rate(s.seconds > 0 ? static_cast<double>(s.events) / s.seconds : 0),
             s.dead_letters, s.late, s.duplicates, s.windows, s.alerts, s.updates, s.trend_watch, s.suppressed, out_dir);
}

int run_replay_command(const std::string& config_path, ReplayOptions opts, bool quiet) {
  const Config config = load_or_default(config_path);
  setup_logging(config);
  if (!quiet) opts.on_progress = ProgressPrinter{};
  const ReplaySummary s = run_replay(config, opts);
  if (!quiet) print_summary(s, opts.out_dir);
  return 0;
}

std::pair<std::string, uint16_t> net_listen_host(const std::string& listen) { return net::parse_listen_address(listen); }

/// The address a browser on this machine opens for `listen` ("0.0.0.0:8080" -> 127.0.0.1).
std::string page_url(const Config& config, const LiveService::Options& opts, uint16_t port) {
  auto [host, unused] = net_listen_host(opts.listen.empty() ? config.server.listen : opts.listen);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "[::1]";
  return fmt::format("http://{}:{}/", host, port);
}

int serve(const Config& config, LiveService::Options opts, const std::string& demo_token) {
  LiveService service(config, opts);
  service.start();
  const std::string url = page_url(config, opts, service.port());
  spdlog::info("listening on {} (command centre, /v1 API, POST /v1/events, /metrics, /healthz, /readyz); outputs in {}",
               url, opts.out_dir);
  if (!service.web_root()) spdlog::warn("the command-centre page is not built (web/dist): run `make web`");
  // Tokens go to the console, never to the log.
  const std::string& token = demo_token.empty() ? service.initial_token() : demo_token;
  if (!token.empty()) {
    fmt::print(stderr,
               "\n  Command centre: {}#token={}\n  (an admin token for this run only; API calls send "
               "'Authorization: Bearer {}')\n\n",
               url, token, token);
    if (config.intel.enabled) {
      fmt::print(stderr, "  Curation queue: {}curation.html#token={}\n  Incident map:   {}incidents.html#token={}\n\n",
                 url, token, url, token);
    }
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto last = std::chrono::steady_clock::now();
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::chrono::steady_clock::now() - last >= std::chrono::seconds(5)) {
      last = std::chrono::steady_clock::now();
      spdlog::info("{}", service.status_line());
    }
  }
  spdlog::info("stopping: flushing windows");
  service.stop();
  return 0;
}

int run_server_command(const std::string& config_path, LiveService::Options opts) {
  const Config config = load_or_default(config_path);
  setup_logging(config);
  return serve(config, std::move(opts), "");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sentinel: real-time intelligence engine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sentinel ") + SENTINEL_VERSION);

  // replay
  std::string config_path;
  ReplayOptions replay;
  bool quiet = false;
  auto* rp = app.add_subcommand("replay", "Offline, event-time, deterministic replay of JSON Lines files");
  rp->add_option("-c,--config", config_path, "YAML config (built-in defaults when absent)")->check(CLI::ExistingFile);
  rp->add_option("--input", replay.inputs, "JSON Lines input files, merged by event time")->required()->check(CLI::ExistingFile);
  rp->add_option("--out", replay.out_dir, "Output directory (windows.jsonl, dead-letter.jsonl, late.jsonl)")->required();
  rp->add_option("--checkpoint-dir", replay.checkpoint_dir, "Checkpoint here and resume from here after a crash");
  rp->add_option("--shards", replay.shards, "Number of shards (default: pipeline.shards)")->check(CLI::Range(1, 256));
  rp->add_option("--speed", replay.speed, "Pace by event time: N seconds of event time per second (0: as fast as possible)")
      ->check(CLI::NonNegativeNumber);
  rp->add_flag("--global", replay.global_summary, "Also write the 24 h global summary to DIR/global.jsonl");
  rp->add_flag("-q,--quiet", quiet, "No progress lines");

  // run
  std::string run_config;
  LiveService::Options live;
  auto* rn = app.add_subcommand("run", "The server: HTTP ingest, pipeline, metrics");
  rn->add_option("-c,--config", run_config, "YAML config")->check(CLI::ExistingFile);
  rn->add_option("--out", live.out_dir, "Output directory")->capture_default_str();
  rn->add_option("--checkpoint-dir", live.checkpoint_dir, "Checkpoint directory");
  rn->add_option("--listen", live.listen, "host:port (default: server.listen)");
  rn->add_option("--shards", live.shards, "Number of shards")->check(CLI::Range(1, 256));

  // demo
  std::string examples = SENTINEL_EXAMPLES_DIR;
  std::string demo_out = "build/demo-out";
  double demo_speed = 1800;
  bool demo_offline = false;
  std::string demo_listen;
  auto* dm = app.add_subcommand("demo", "Embedded demo: the command centre while the bundled Chicago data set is replayed");
  dm->add_option("--examples", examples, "The examples directory")->capture_default_str();
  dm->add_option("--out", demo_out, "Output directory")->capture_default_str();
  dm->add_option("--speed", demo_speed, "Seconds of event time per second (0 with --offline: as fast as possible)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  dm->add_option("--listen", demo_listen, "host:port of the command centre (default: server.listen, 127.0.0.1:8080)");
  dm->add_flag("--offline", demo_offline, "No server: replay to files only and exit");

  // tokens
  std::string tokens_file, token_name, token_role = "analyst";
  auto* tk = app.add_subcommand("tokens", "API token management");
  tk->require_subcommand(1);
  auto* tk_add = tk->add_subcommand("add", "Make a token, append its hash to the tokens file, print the token once");
  tk_add->add_option("--file", tokens_file, "Tokens file (server.tokens); created when missing")->required();
  tk_add->add_option("--name", token_name, "Name for logs and the audit, e.g. ops-desk-1")->required();
  tk_add->add_option("--role", token_role, "analyst, curator, ingest or admin")->capture_default_str()
      ->check(CLI::IsMember({"analyst", "curator", "ingest", "admin"}));
  auto* tk_list = tk->add_subcommand("list", "Names and roles in a tokens file");
  tk_list->add_option("--file", tokens_file, "Tokens file")->required()->check(CLI::ExistingFile);

  // keys / audit
  std::string keys_dir;
  auto* ks = app.add_subcommand("keys", "Key management");
  ks->require_subcommand(1);
  auto* ks_gen = ks->add_subcommand("generate", "Make an Ed25519 key pair for the audit log (audit.key, audit.pub)");
  ks_gen->add_option("--out", keys_dir, "Directory for the key files")->required();
  std::string audit_file, public_key_path;
  uint32_t audit_sign_every = 0;
  auto* au = app.add_subcommand("audit", "Audit log tools");
  au->require_subcommand(1);
  auto* au_verify = au->add_subcommand("verify", "Check an audit log's hash chain and signatures; exit 1 naming the first bad record");
  au_verify->add_option("file", audit_file, "audit.jsonl")->required()->check(CLI::ExistingFile);
  au_verify->add_option("--public-key", public_key_path, "audit.pub (default: audit.pub next to the log)");
  au_verify->add_option("--sign-every", audit_sign_every, "The writer's signing cadence; a missing signature where one is due is then an error");

  // config
  std::string check_path;
  auto* cf = app.add_subcommand("config", "Configuration tools");
  cf->require_subcommand(1);
  auto* cf_check = cf->add_subcommand("check", "Validate a config file");
  cf_check->add_option("file", check_path, "YAML config")->required();
  auto* cf_docs = cf->add_subcommand("docs", "Print the reference of every key (docs/CONFIG.md)");
  const app::FlowsCommands flows_cmd = app::add_flows_commands(app);
  auto* fd = app.add_subcommand("feeds", "RSS and Atom feeds");
  fd->require_subcommand(1);
  auto* fd_parse = fd->add_subcommand("parse", "Parse one feed file and print what was understood as JSON");
  std::string feed_file;
  fd_parse->add_option("FILE", feed_file, "RSS, RDF or Atom file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (rp->parsed()) return run_replay_command(config_path, replay, quiet);
    if (rn->parsed()) return run_server_command(run_config, live);
    if (dm->parsed()) {
      const fs::path ex(examples);
      const std::vector<std::string> inputs = {(ex / "data/generated/crimes.jsonl").string(),
                                               (ex / "data/generated/streams.jsonl").string()};
      for (const auto& in : inputs) {
        if (!fs::exists(in)) {
          throw std::runtime_error(in + ": missing demo data; `make demo` generates it with tools/citygen");
        }
      }
      if (demo_offline) {
        ReplayOptions opts;
        opts.inputs = inputs;
        opts.out_dir = demo_out;
        opts.speed = demo_speed;
        opts.global_summary = true;
        fmt::print(stderr, "[demo] replaying {} real Chicago incidents (2019 H1) plus synthetic CCTV, sensor and CAD "
                           "streams; outputs in {}\n", "126,218", demo_out);
        return run_replay_command((ex / "demo.yaml").string(), opts, false);
      }
      if (demo_speed <= 0) throw std::runtime_error("--speed: the live demo needs a positive speed");
      const Config config = load_config((ex / "demo.yaml").string());
      setup_logging(config);
      LiveService::Options opts;
      opts.out_dir = demo_out;
      opts.listen = demo_listen;
      opts.replay_inputs = inputs;
      opts.speed = demo_speed;
      const std::string token = TokenStore::generate();
      opts.extra_admin_tokens = {{"demo-admin", token}};
      // Synthetic local news (scripts/make_demo_news.py) for the curation and incident pages.
      if (const fs::path news = ex / "intel/demo_news.xml"; config.intel.enabled && fs::exists(news)) {
        opts.demo_feed_files = {news.string()};
      }
      fmt::print(stderr, "[demo] replaying 126,218 real Chicago incidents (2019 H1) plus synthetic CCTV, sensor and "
                         "CAD streams at {}x into the live command centre; outputs in {}\n", demo_speed, demo_out);
      return serve(config, std::move(opts), token);
    }
    if (tk_add->parsed()) {
      if (Status st = TokenStore::check_name(token_name); !st.ok()) throw std::runtime_error("--name: " + st.error().reason);
      if (fs::exists(tokens_file)) {
        const TokenStore existing = TokenStore::load(tokens_file);
        for (const Principal& p : existing.list()) {
          if (p.name == token_name) throw std::runtime_error(tokens_file + ": a token named '" + token_name + "' exists");
        }
      }
      const std::string token = TokenStore::generate();
      {
        std::ofstream out(tokens_file, std::ios::app);
        out << TokenStore::file_line(token_name, *parse_role(token_role), TokenStore::hash(token)) << '\n';
        if (!out) throw std::runtime_error(tokens_file + ": cannot write");
      }
      fs::permissions(tokens_file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
      fmt::print("{}\n", token);
      return 0;
    }
    if (tk_list->parsed()) {
      for (const Principal& p : TokenStore::load(tokens_file).list()) fmt::print("{}\t{}\n", p.name, role_name(p.role));
      return 0;
    }
    if (ks_gen->parsed()) {
      const KeyPairPaths paths = generate_keypair(keys_dir);
      fmt::print("wrote {} (secret, mode 0600) and {}\n", paths.secret_path, paths.public_path);
      return 0;
    }
    if (au_verify->parsed()) {
      const std::string pub = public_key_path.empty()
                                  ? (fs::path(audit_file).parent_path() / "audit.pub").string()
                                  : public_key_path;
      VerifyOptions vo;
      vo.sign_every = audit_sign_every;
      const VerifyResult r = verify_audit_log(audit_file, load_public_key(pub), vo);
      if (r.ok) {
        fmt::print("{}: intact ({} records)\n", audit_file, r.records);
        return 0;
      }
      std::cerr << "sentinel: " << audit_file << ": " << r.to_string() << "\n";
      return 1;
    }
    if (cf_check->parsed()) {
      load_config(check_path);
      fmt::print("{}: ok\n", check_path);
      return 0;
    }
    if (fd_parse->parsed()) return intel::print_feed_json(feed_file, std::cout, std::cerr);
    if (flows_cmd.predict->parsed()) return app::run_flows_predict(*flows_cmd.state);
    if (flows_cmd.features->parsed() || flows_cmd.detect->parsed()) {
      const Config config = load_or_default(flows_cmd.state->config);
      setup_logging(config);
      if (flows_cmd.features->parsed()) return app::run_flows_features(*flows_cmd.state, config);
      return app::run_flows_detect(*flows_cmd.state, config);
    }
    if (cf_docs->parsed()) {
      fmt::print("{}", config_reference_markdown());
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "sentinel: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
