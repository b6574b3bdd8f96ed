#include "flows/detector.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "flows/evidence.h"
#include "flows/math_engine.h"
#include "flows/ml_engine.h"
#include "flows/rules.h"

namespace sentinel::flows {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::array<std::string_view, kEngineCount> kEngineNames = {"rules", "math", "ml"};

size_t slot_of(EngineId id) { return static_cast<size_t>(id); }

}  // namespace

std::string_view engine_id_name(EngineId id) { return kEngineNames[slot_of(id)]; }

std::unique_ptr<DetectionEngine> build_ml_engine(const Config& config) {
  if (config.detection.model.empty()) return nullptr;
  return MlEngine::from_config(config.detection);
}

EngineSet build_engines(const Config& config) {
  EngineSet set;
  if (!config.detection.rules.empty()) set.rules = RulesEngine::load(config.detection.rules);
  if (!config.detection.model.empty()) {
    set.ml = build_ml_engine(config);
    const std::string norm_path = Normaliser::path_for_model(config.detection.model);
    if (std::filesystem::exists(norm_path)) {
      Result<Normaliser> norm = Normaliser::load(norm_path);
      if (!norm.ok()) throw ConfigError("detection.model: " + norm.error().to_string());
      set.normaliser = std::move(norm.value());
    }
  }
  set.math = std::make_unique<MathEngine>(MathEngine::options_from(config.detection),
                                          set.normaliser ? &*set.normaliser : nullptr);
  return set;
}

Detector::Detector(EngineSet engines, const EnsembleConfig& ensemble, std::chrono::milliseconds engine_budget)
    : normaliser_(std::move(engines.normaliser)), voter_(ensemble), budget_(engine_budget) {
  engines_[slot_of(EngineId::kRules)] = std::move(engines.rules);
  engines_[slot_of(EngineId::kMath)] = std::move(engines.math);
  engines_[slot_of(EngineId::kMl)] = std::move(engines.ml);
}

Detector::~Detector() = default;

bool Detector::has_engine(EngineId id) const { return engines_[slot_of(id)] != nullptr; }

std::span<const EngineVerdict> Detector::verdicts(EngineId id) const { return verdicts_[slot_of(id)]; }

double Detector::threshold() const { return voter_.threshold(); }

void Detector::run_engine(size_t slot, std::span<const FlowRecord> flows) {
  DetectionEngine& engine = *engines_[slot];
  std::vector<EngineVerdict>& out = own_verdicts_[slot];
  out.assign(flows.size(), EngineVerdict{});
  const auto start = Clock::now();
  std::string failure;
  bool over_budget = false;
  // An engine is third-party logic as far as the loop is concerned: one
  // that throws loses its batch, never the service. Caught per batch, not
  // per flow.
  try {
    const Status st = engine.evaluate(flows, out, start + budget_);
    if (!st.ok()) {
      failure = st.error().to_string();
      over_budget = Clock::now() >= start + budget_;
    }
  } catch (const std::exception& e) {
    failure = std::string("threw: ") + e.what();
  }
  const auto elapsed = Clock::now() - start;
  EngineStats& es = stats_.engines[slot];
  es.time.record(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed));
  if (!failure.empty()) {
    verdicts_[slot] = {};
    outcome_[slot] = over_budget ? EngineOutcome::kOverBudget : EngineOutcome::kFailed;
    ++(over_budget ? es.over_budget : es.failed);
    // Logged for the first few and then every 1000th, so a persistently
    // failing engine cannot flood the log. Origins are file:line, not data.
    const uint64_t n = ++skipped_logged_[slot];
    if (n <= 5 || n % 1000 == 0) {
      spdlog::warn("flows: engine {} skipped for a batch of {} flow(s) from {} ({}): {}", kEngineNames[slot],
                   flows.size(), flows.empty() ? std::string("-") : flows.front().origin,
                   over_budget ? fmt::format("past detection.engine_budget {} ms", budget_.count()) : "failed",
                   failure);
    }
    return;
  }
  verdicts_[slot] = out;
  outcome_[slot] = EngineOutcome::kDecided;
  ++es.batches;
}

std::vector<EngineColumn> Detector::columns() const {
  std::vector<EngineColumn> cols;
  cols.reserve(kEngineCount);
  for (size_t i = 0; i < kEngineCount; ++i) {
    if (engines_[i] == nullptr && outcome_[i] == EngineOutcome::kAbsent) continue;
    cols.push_back(voter_.column(kEngineNames[i], verdicts_[i]));
  }
  return cols;
}

void Detector::judge(std::span<const FlowRecord> flows, std::span<const PrecomputedVerdicts> precomputed) {
  std::array<bool, kEngineCount> given{};
  for (const PrecomputedVerdicts& p : precomputed) {
    const size_t slot = slot_of(p.engine);
    given[slot] = true;
    outcome_[slot] = p.outcome;
    verdicts_[slot] = p.outcome == EngineOutcome::kDecided ? p.verdicts : std::span<const EngineVerdict>{};
    EngineStats& es = stats_.engines[slot];
    es.time.record(p.elapsed);
    if (p.outcome == EngineOutcome::kDecided) ++es.batches;
    if (p.outcome == EngineOutcome::kOverBudget) ++es.over_budget;
    if (p.outcome == EngineOutcome::kFailed) ++es.failed;
  }
  for (size_t i = 0; i < kEngineCount; ++i) {
    if (given[i]) continue;
    if (engines_[i] == nullptr) {
      outcome_[i] = EngineOutcome::kAbsent;
      verdicts_[i] = {};
      continue;
    }
    run_engine(i, flows);
  }

  const auto vote_start = Clock::now();
  decisions_.resize(flows.size());
  const std::vector<EngineColumn> cols = columns();
  const Status st = voter_.vote(cols, decisions_);
  if (!st.ok()) {
    // Column sizes are ours to keep right: a mismatch is a wiring bug.
    throw std::logic_error("flows: ensemble vote: " + st.error().to_string());
  }
  stats_.vote_time.record(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - vote_start));

  ++stats_.batches;
  stats_.flows += flows.size();
  for (size_t i = 0; i < kEngineCount; ++i) {
    for (const EngineVerdict& v : verdicts_[i]) {
      stats_.engines[i].flows += v.decided ? 1 : 0;
      stats_.engines[i].attack_votes += v.decided && v.attack ? 1 : 0;
    }
  }
  for (const EnsembleDecision& d : decisions_) {
    stats_.undecided += d.decided ? 0 : 1;
    stats_.anomalies += d.anomaly ? 1 : 0;
  }
}

std::vector<std::string_view> Detector::contributing(const EnsembleDecision& decision) const {
  return engine_names(decision.contributing, columns());
}

nlohmann::json Detector::evidence(const FlowRecord& flow, size_t index) {
  const auto start = Clock::now();
  std::vector<EvidenceEngine> engines;
  for (size_t i = 0; i < kEngineCount; ++i) {
    if (engines_[i] == nullptr && outcome_[i] == EngineOutcome::kAbsent) continue;
    engines.push_back(EvidenceEngine{engines_[i].get(), voter_.column(kEngineNames[i], verdicts_[i])});
  }
  nlohmann::json j = build_evidence(flow, index, decisions_[index], voter_.threshold(), engines, normaliser());
  stats_.evidence_time.record(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start));
  return j;
}

nlohmann::json Detector::policy() const {
  nlohmann::json j = nlohmann::json::object();
  nlohmann::json engines = nlohmann::json::array();
  for (size_t i = 0; i < kEngineCount; ++i) {
    nlohmann::json e = {{"engine", kEngineNames[i]},
                        {"present", engines_[i] != nullptr},
                        {"weight", voter_.weight(kEngineNames[i])}};
    if (const auto* rules = dynamic_cast<const RulesEngine*>(engines_[i].get())) {
      nlohmann::json ids = nlohmann::json::array();
      for (const RuleInfo& r : rules->rules()) ids.push_back({{"id", r.id}, {"title", r.title}, {"level", level_name(r.level)}});
      e["rules"] = std::move(ids);
    }
    if (const auto* ml = dynamic_cast<const MlEngine*>(engines_[i].get())) {
      e["objective"] = ml->model().objective();
      e["trees"] = ml->model().num_trees();
      e["threshold"] = ml->threshold();
    }
    engines.push_back(std::move(e));
  }
  j["engines"] = std::move(engines);
  j["threshold"] = voter_.threshold();
  j["engine_budget_ms"] = budget_.count();
  j["normaliser"] = normaliser_.has_value();
  return j;
}

}  // namespace sentinel::flows
