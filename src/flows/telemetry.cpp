#include "flows/telemetry.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <ostream>
#include <system_error>

#include <fmt/format.h>

#include "flows/csv_telemetry.h"
#include "flows/json_telemetry.h"

namespace sentinel::flows {
namespace {

namespace fs = std::filesystem;

bool is_csv_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".csv";
}

// The file part of an origin ("path:line" -> "path", "path[3]" -> "path").
std::string_view origin_file(const FlowRecord& flow, std::string_view fallback) {
  std::string_view o = flow.origin;
  if (o.empty()) return fallback;
  if (o.back() == ']') {
    const size_t open = o.rfind('[');
    if (open != std::string_view::npos) return o.substr(0, open);
  }
  const size_t colon = o.rfind(':');
  if (colon != std::string_view::npos && colon + 1 < o.size() &&
      std::all_of(o.begin() + static_cast<std::ptrdiff_t>(colon) + 1, o.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    return o.substr(0, colon);
  }
  return o;
}

}  // namespace

void append_csv_field(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

Result<std::vector<std::unique_ptr<FlowSource>>> open_telemetry(std::span<const std::string> paths,
                                                                const TelemetryConfig& config, IssueSink issues) {
  std::vector<std::unique_ptr<FlowSource>> sources;
  for (const std::string& path : paths) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return make_error(path, "no such file or directory");
    if (fs::is_directory(status)) {
      std::vector<std::string> csv_files;
      fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
      if (ec) return make_error(path, fmt::format("cannot list directory: {}", ec.message()));
      for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
        if (ec) return make_error(path, fmt::format("cannot list directory: {}", ec.message()));
        std::error_code type_ec;
        if (it->is_regular_file(type_ec) && is_csv_name(it->path())) csv_files.push_back(it->path().string());
      }
      std::sort(csv_files.begin(), csv_files.end());
      for (const std::string& file : csv_files) {
        CsvOptions options;
        options.issues = issues;
        options.default_label = folder_label(file, path);
        auto reader = CsvReader::open(file, std::move(options));
        if (!reader.ok()) {
          // Inside a directory a bad file is reported and skipped like a bad
          // JSON file; given by name it is an error.
          if (issues) issues(TelemetryIssue{file, reader.error().reason});
          continue;
        }
        sources.push_back(std::move(reader.value()));
      }
      auto json_files = list_json_telemetry(path, issues);
      if (!json_files.empty()) {
        sources.push_back(std::make_unique<JsonTelemetrySource>(path, std::move(json_files), config, issues));
      }
      continue;
    }
    if (is_csv_name(path)) {
      CsvOptions options;
      options.issues = issues;
      auto reader = CsvReader::open(path, std::move(options));
      if (!reader.ok()) return reader.error();
      sources.push_back(std::move(reader.value()));
    } else if (is_json_telemetry_name(fs::path(path).filename().string())) {
      sources.push_back(JsonTelemetrySource::open(path, config, issues));
    } else {
      return make_error(path, "not a flow telemetry file: expected .csv, .json, .jsonl or .ndjson, or a directory");
    }
  }
  return sources;
}

void append_feature_value(std::string& out, double value) {
  if (std::isnan(value)) return;
  if (std::isinf(value)) {
    out += value > 0 ? "inf" : "-inf";
    return;
  }
  char digits[32];
  const auto [ptr, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, static_cast<size_t>(ptr - digits));
}

Result<FeatureExportStats> write_features_csv(std::span<const std::unique_ptr<FlowSource>> sources,
                                              std::ostream& out, size_t batch_size) {
  FeatureExportStats stats;
  std::string text;
  for (std::string_view name : feature_names()) {
    append_csv_field(text, name);
    text += ',';
  }
  text += "label,layout,source\n";
  std::vector<FlowRecord> batch;
  batch_size = std::max<size_t>(batch_size, 1);
  for (const auto& source : sources) {
    while (true) {
      auto n = source->next_batch(batch, batch_size);
      if (!n.ok()) return make_error(source->name(), n.error().to_string());
      if (n.value() == 0) break;
      const std::string_view layout = source->layout();
      for (const FlowRecord& flow : batch) {
        for (size_t i = 0; i < kFeatureCount; ++i) {
          append_feature_value(text, flow.features[i]);
          text += ',';
        }
        append_csv_field(text, flow.label);
        text += ',';
        text += layout;
        text += ',';
        append_csv_field(text, origin_file(flow, source->name()));
        text += '\n';
        ++stats.per_label[flow.label];
        ++stats.per_layout[std::string(layout)];
      }
      stats.rows += n.value();
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      if (!out) return make_error("", "cannot write the feature table (output stream failed)");
      text.clear();
    }
    stats.rejected += source->stats().rejected;
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.flush();
  if (!out) return make_error("", "cannot write the feature table (output stream failed)");
  return stats;
}

}  // namespace sentinel::flows
