// `sentinel flows predict|features|detect`: registration on the CLI and the
// code each runs. Errors are exceptions with one line naming file and reason;
// main prints them and exits 1.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"

namespace sentinel::app {

struct FlowsCommands {
  struct State {
    std::string config;
    std::string model;
    std::string predict_input;
    std::vector<std::string> inputs;
    std::string out;
    int workers = 0;
  };
  std::shared_ptr<State> state;
  CLI::App* predict = nullptr;
  CLI::App* features = nullptr;
  CLI::App* detect = nullptr;
};

FlowsCommands add_flows_commands(CLI::App& app);
int run_flows_predict(const FlowsCommands::State& s);
int run_flows_features(const FlowsCommands::State& s, const Config& config);
int run_flows_detect(const FlowsCommands::State& s, const Config& config);

}  // namespace sentinel::app
