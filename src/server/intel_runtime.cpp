#include "server/intel_runtime.h"

#include <cctz/time_zone.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "intel/builtin_extractor.h"
#include "intel/intel_service.h"
#include "intel/llm_fallback.h"
#include "intel/llm_provider.h"
#include "intel/llm_two_stage.h"
#include "intel/page_enricher.h"
#include "intel/pg_store.h"
#include "intel/sqlite_store.h"
#include "server/intel_routes.h"

namespace sentinel {

IntelRuntime::IntelRuntime() = default;
IntelRuntime::IntelRuntime(IntelRuntime&&) noexcept = default;
IntelRuntime& IntelRuntime::operator=(IntelRuntime&&) noexcept = default;
IntelRuntime::~IntelRuntime() { stop(); }

void IntelRuntime::start() {
  if (stream) stream->start();
  if (service) service->start();
}

void IntelRuntime::stop() {
  if (service) service->stop();
  if (stream) stream->stop();
}

namespace {

std::string read_file(const std::string& path, std::string_view key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(key) + ": cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The city's UTC offset at an instant, from cctz (once per article: cold).
std::function<int(int64_t)> utc_offset_function(const std::string& zone_name) {
  cctz::time_zone zone;
  if (!cctz::load_time_zone(zone_name, &zone)) throw std::runtime_error("city.time_zone: unknown zone " + zone_name);
  return [zone](int64_t utc_ms) {
    const auto tp = std::chrono::system_clock::time_point(std::chrono::milliseconds(utc_ms));
    return static_cast<int>(zone.lookup(std::chrono::time_point_cast<std::chrono::seconds>(tp)).offset / 60);
  };
}

/// The page enricher as the service's page-text function.
intel::PageTextFunction make_page_text_function(intel::PageEnricherOptions options) {
  auto enricher = std::make_shared<const intel::PageEnricher>(std::move(options));
  return [enricher](const intel::StoredArticle& a) -> Result<std::string> {
    intel::Article article;
    article.url = a.url;
    article.canonical_url = a.canonical_url;
    article.title = a.title;
    article.text = a.text;
    auto page = enricher->enrich(article);
    if (!page.ok()) return page.error();
    return page.value() ? page.value()->text : a.text;
  };
}

intel::LlmProviderOptions llm_options(std::string kind, std::string base_url, std::string model,
                                      std::string api_key_env, const IntelConfig& ic, std::string_view key) {
  if (model.empty()) {
    throw std::runtime_error(fmt::format("intel.{}model: required when intel.extraction is {}", key, ic.extraction));
  }
  intel::LlmProviderOptions o;
  o.kind = std::move(kind);
  o.base_url = std::move(base_url);
  o.model = std::move(model);
  o.api_key_env = std::move(api_key_env);
  o.timeout = ic.llm_timeout;
  o.breaker.failure_threshold = ic.llm_breaker_failures;
  o.breaker.cool_down = ic.llm_breaker_cool_down;
  return o;
}

/// The provider `intel.extraction` names (docs/LLM.md): the built-in
/// extractor; an LLM chain ending in the built-in extractor (so a transient
/// outage degrades to offline extraction, not to a stalled queue); or the
/// two-stage extractor over the LLMs.
std::unique_ptr<intel::ExtractionProvider> make_extraction_provider(
    const IntelConfig& ic, std::shared_ptr<const intel::Gazetteer> gazetteer, std::function<int(int64_t)> utc_offset) {
  intel::BuiltinExtractorOptions xo;
  xo.organisation_files = ic.organisations;
  xo.home_regions = ic.home_regions;
  xo.utc_offset_minutes = utc_offset;
  auto builtin = std::make_unique<intel::BuiltinExtractor>(gazetteer, std::move(xo));
  if (ic.extraction == "builtin") return builtin;

  intel::LlmDependencies deps;
  deps.gazetteer = gazetteer;
  deps.utc_offset_minutes = utc_offset;
  std::shared_ptr<intel::LlmProvider> primary;
  std::shared_ptr<intel::LlmProvider> fallback;
  try {
    primary = intel::make_llm_provider(
        llm_options(ic.llm_kind, ic.llm_base_url, ic.llm_model, ic.llm_api_key_env, ic, "llm_"), deps);
    if (!ic.llm_fallback_kind.empty()) {
      fallback = intel::make_llm_provider(llm_options(ic.llm_fallback_kind, ic.llm_fallback_base_url,
                                                      ic.llm_fallback_model, ic.llm_fallback_api_key_env, ic,
                                                      "llm_fallback_"),
                                          deps);
    }
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("intel: ") + e.what());
  }
  if (ic.extraction == "llm") {
    std::vector<std::shared_ptr<intel::ExtractionProvider>> chain{primary};
    if (fallback) chain.push_back(fallback);
    chain.push_back(std::shared_ptr<intel::ExtractionProvider>(std::move(builtin)));
    return std::make_unique<intel::FallbackProvider>(std::move(chain), "llm_chain");
  }
  auto chain_of = [](std::shared_ptr<intel::LlmProvider> first, std::shared_ptr<intel::LlmProvider> second) {
    std::vector<std::shared_ptr<intel::ExtractionProvider>> chain{std::move(first)};
    if (second) chain.push_back(std::move(second));
    return std::make_shared<intel::FallbackProvider>(std::move(chain), "llm_chain");
  };
  const bool stage2_fallback_first = ic.stage2 == "fallback" && fallback;
  auto stage1 = chain_of(primary, fallback);
  auto stage2 = stage2_fallback_first ? chain_of(fallback, primary) : chain_of(primary, fallback);
  intel::TwoStageOptions to;
  to.domains = ic.two_stage_domains;
  try {
    return std::make_unique<intel::TwoStageExtractor>(stage1, stage2, std::move(to), deps);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("intel: ") + e.what());
  }
}

std::string worker_name() {
  char host[128] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace

IntelRuntime make_intel_runtime(const Config& config, const std::string& out_dir,
                                std::function<void(std::string_view)> on_platform_event) {
  const IntelConfig& ic = config.intel;
  IntelRuntime rt;
  if (ic.store == "postgres") {
    const char* conninfo = std::getenv(ic.postgres_env.c_str());
    if (conninfo == nullptr || *conninfo == '\0') {
      throw std::runtime_error("intel.store is postgres but the environment variable " + ic.postgres_env +
                               " (intel.postgres_env) is not set");
    }
    intel::PgStoreOptions o;
    o.conninfo = conninfo;
    rt.store = intel::open_pg_store(o);
  } else {
    intel::SqliteStoreOptions o;
    o.path = ic.database.empty() ? (std::filesystem::path(out_dir) / "intel.db").string() : ic.database;
    if (const auto parent = std::filesystem::path(o.path).parent_path(); !parent.empty()) {
      std::filesystem::create_directories(parent);
    }
    rt.store = intel::open_sqlite_store(o);
  }
  spdlog::info("intel: {} store open", rt.store->backend());

  auto gazetteer = std::make_shared<const intel::Gazetteer>(intel::Gazetteer::load(ic.gazetteer));
  const auto utc_offset = utc_offset_function(config.city.time_zone);
  rt.provider = make_extraction_provider(ic, gazetteer, utc_offset);
  spdlog::info("intel: extraction by {}", rt.provider->name());

  intel::TriageRules rules = intel::default_triage_rules();
  if (!ic.triage_rules.empty()) {
    auto parsed = intel::triage_rules_from_json(read_file(ic.triage_rules, "intel.triage_rules"));
    if (!parsed.ok()) throw std::runtime_error("intel.triage_rules: " + ic.triage_rules + ": " + parsed.error().to_string());
    rules = std::move(parsed.value());
  }

  intel::IntelServiceOptions so;
  so.worker_name = worker_name();
  so.enrich_min_chars = ic.enrich_min_chars;
  so.stale_check = ic.stale_check;
  // One attempt per job: retries belong to the job queue, whose backoff is
  // persisted and does not hold a worker thread asleep.
  so.fetch.max_attempts = 1;
  so.fetch.timeout = ic.fetch_timeout;
  so.fetch.max_bytes = ic.fetch_max_bytes;
  auto& queues = so.jobs.queues;
  const uint32_t concurrency[] = {ic.fetch_concurrency, ic.enrich_concurrency, ic.extract_concurrency};
  const Millis bases[] = {ic.fetch_retry_base, ic.enrich_retry_base, ic.extract_retry_base};
  for (size_t i = 0; i < intel::kJobKinds; ++i) {
    queues[i].concurrency = concurrency[i];
    queues[i].transient.base = bases[i];
    queues[i].transient.max_attempts = ic.max_attempts;
  }

  intel::PageTextFunction page_text;
  if (ic.enrich_min_chars > 0) {
    intel::PageEnricherOptions po;
    po.min_chars = ic.enrich_min_chars;
    po.fetch.max_attempts = 1;
    po.fetch.timeout = ic.page_timeout;
    po.fetch.max_bytes = ic.page_max_bytes;
    page_text = make_page_text_function(std::move(po));
  }

  intel::IntelCallbacks cb;
  cb.on_platform_event = std::move(on_platform_event);
  auto stream_slot = std::make_shared<IntelJobStream*>(nullptr);
  cb.on_job_event = [stream_slot](const intel::JobEvent& e) {
    if (*stream_slot) (*stream_slot)->on_job_event(e);
  };
  rt.service = std::make_unique<intel::IntelService>(*rt.store, *rt.provider, std::move(rules), std::move(so),
                                                     std::move(cb), std::move(page_text));
  rt.stream = std::make_unique<IntelJobStream>(*rt.service);
  *stream_slot = rt.stream.get();

  for (const std::string& url : ic.feeds) {
    auto added = rt.service->add_feed({url, "", ic.feed_schedule});
    if (!added.ok() && added.error().field != intel::kStoreConflict) {
      throw std::runtime_error("intel.feeds: " + url + ": " + added.error().to_string());
    }
  }
  return rt;
}

}  // namespace sentinel
