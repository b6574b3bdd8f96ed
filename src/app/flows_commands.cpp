// `sentinel flows ...` (DESIGN.md section 9): network-flow detection from the
// command line. Each subcommand is a thin shell over src/flows.
#include "app/flows_commands.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "flows/detect_run.h"
#include "flows/predict_csv.h"
#include "flows/telemetry.h"

namespace sentinel::app {

namespace fs = std::filesystem;

namespace {

/// Writes to `path` through a temporary beside it, renamed on success, so a
/// failed run never leaves a half-written output that looks complete.
template <typename Write>
void write_atomically(const std::string& path, Write&& write) {
  const std::string tmp = path + ".partial";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path + ": cannot write");
    try {
      write(out);
    } catch (...) {
      out.close();
      fs::remove(tmp);
      throw;
    }
    out.flush();
    if (!out) {
      fs::remove(tmp);
      throw std::runtime_error(path + ": write failed");
    }
  }
  fs::rename(tmp, path);
}

}  // namespace

FlowsCommands add_flows_commands(CLI::App& app) {
  FlowsCommands c;
  auto* flows = app.add_subcommand("flows", "Network-flow detection (CICFlowMeter CSV, JSON telemetry, Kafka)");
  flows->require_subcommand(1);
  c.state = std::make_shared<FlowsCommands::State>();
  auto& s = *c.state;

  c.predict = flows->add_subcommand(
      "predict", "Evaluate a LightGBM text or XGBoost JSON model over a CSV file: raw score(s) and output(s) per row");
  c.predict->add_option("--model", s.model, "Model file (LightGBM text model or XGBoost JSON)")->required();
  c.predict->add_option("--input", s.predict_input, "CSV with a header naming the model's features")->required();
  c.predict->add_option("--out", s.out, "Output CSV")->required();

  c.features = flows->add_subcommand(
      "features", "Write the 79-feature table (plus label, layout, source) of flow files, for training");
  c.features->add_option("--input", s.inputs, "CSV files, JSON telemetry files or directories")->required();
  c.features->add_option("--out", s.out, "Output CSV")->required();
  c.features->add_option("-c,--config", s.config, "Config file (telemetry.max_file_bytes)");

  c.detect = flows->add_subcommand("detect", "Detect attacks in flow files: per-flow verdicts, anomalies, evidence");
  c.detect->add_option("-c,--config", s.config, "Config file (detection, ensemble, telemetry, kafka)");
  c.detect->add_option("--input", s.inputs, "CSV files, JSON telemetry files or directories")->required();
  c.detect->add_option("--out", s.out, "Output directory")->required();
  c.detect->add_option("--workers", s.workers, "Parse/model threads (0 = one per core)");
  return c;
}

int run_flows_predict(const FlowsCommands::State& s) {
  const flows::TreeModel model = flows::TreeModel::load(s.model);
  write_atomically(s.out, [&](std::ostream& out) { flows::predict_csv(model, s.predict_input, out); });
  return 0;
}

int run_flows_features(const FlowsCommands::State& s, const Config& config) {
  uint64_t issues = 0;
  auto sources = flows::open_telemetry(s.inputs, config.telemetry, [&](const flows::TelemetryIssue& issue) {
    ++issues;
    std::cerr << "sentinel: " << issue.origin << ": " << issue.reason << "\n";
  });
  if (!sources.ok()) throw std::runtime_error(sources.error().to_string());
  flows::FeatureExportStats stats;
  write_atomically(s.out, [&](std::ostream& out) {
    auto r = flows::write_features_csv(sources.value(), out);
    if (!r.ok()) throw std::runtime_error(r.error().to_string());
    stats = r.value();
  });
  std::cerr << fmt::format("wrote {} flows to {} ({} skipped", stats.rows, s.out, stats.rejected);
  for (const auto& [layout, n] : stats.per_layout) std::cerr << fmt::format("; {} {}", layout, n);
  std::cerr << ")\n";
  return 0;
}

int run_flows_detect(const FlowsCommands::State& s, const Config& config) {
  flows::DetectRunOptions opts;
  opts.inputs = s.inputs;
  opts.out_dir = s.out;
  opts.workers = s.workers;
  opts.on_progress = [](uint64_t flows, uint64_t anomalies) {
    std::cerr << fmt::format("[flows] {} flows, {} anomalies\n", flows, anomalies);
  };
  const flows::DetectRunSummary r = flows::run_flow_detection(config, opts);
  std::cerr << fmt::format("[flows] done in {:.2f} s: {} flows ({:.0f}/s), {} anomalies, {} skipped rows (dead-letter.jsonl)",
                           r.seconds, r.flows, r.seconds > 0 ? static_cast<double>(r.flows) / r.seconds : 0.0,
                           r.anomalies, r.rejected);
  const uint64_t labelled = r.true_positive + r.false_positive + r.true_negative + r.false_negative;
  if (labelled > 0) {
    const double tp = static_cast<double>(r.true_positive);
    const double p = tp + r.false_positive > 0 ? tp / (tp + static_cast<double>(r.false_positive)) : 0;
    const double rc = tp + r.false_negative > 0 ? tp / (tp + static_cast<double>(r.false_negative)) : 0;
    std::cerr << fmt::format("; against the labels: precision {:.4f}, recall {:.4f}", p, rc);
  }
  if (!config.kafka.brokers.empty()) {
    std::cerr << fmt::format("; published {} message(s), {} held back", r.published, r.publish_held_back);
  }
  std::cerr << fmt::format("; outputs in {}\n", s.out);
  return 0;
}

}  // namespace sentinel::app
