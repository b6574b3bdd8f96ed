#include "flows/json_telemetry.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

namespace sentinel::flows {
namespace {

namespace fs = std::filesystem;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

}  // namespace

std::string folder_label(const std::string& file, const std::string& root) {
  const std::string stop = fs::path(root).lexically_normal().string();
  for (fs::path dir = fs::path(file).parent_path(); !dir.empty(); dir = dir.parent_path()) {
    const std::string label(label_for_folder(dir.filename().string()));
    if (!label.empty()) return label;
    const std::string here = dir.lexically_normal().string();
    if (here == stop || here + "/" == stop || dir == dir.parent_path()) break;
  }
  return "";
}

std::string_view label_for_folder(std::string_view folder) {
  if (iequals(folder, "benign")) return "BENIGN";
  if (iequals(folder, "ddos")) return "DDoS";
  return "";
}

bool is_json_telemetry_name(std::string_view filename) {
  return ends_with_ci(filename, ".json") || ends_with_ci(filename, ".jsonl") || ends_with_ci(filename, ".ndjson");
}

std::vector<JsonTelemetryFile> list_json_telemetry(const std::string& root, const IssueSink& issues) {
  std::vector<JsonTelemetryFile> files;
  std::error_code ec;
  const fs::path root_path(root);
  if (!fs::is_directory(root_path, ec)) {
    files.push_back(JsonTelemetryFile{root, folder_label(root, root_path.parent_path().string())});
    return files;
  }
  fs::recursive_directory_iterator it(root_path, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    if (issues) issues(TelemetryIssue{root, fmt::format("cannot list directory: {}", ec.message())});
    return files;
  }
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      if (issues) issues(TelemetryIssue{root, fmt::format("cannot list directory: {}", ec.message())});
      break;
    }
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec) || !is_json_telemetry_name(it->path().filename().string())) continue;
    files.push_back(JsonTelemetryFile{it->path().string(), folder_label(it->path().string(), root)});
  }
  std::sort(files.begin(), files.end(),
            [](const JsonTelemetryFile& a, const JsonTelemetryFile& b) { return a.path < b.path; });
  return files;
}

JsonTelemetrySource::JsonTelemetrySource(std::string name, std::vector<JsonTelemetryFile> files,
                                         const TelemetryConfig& config, IssueSink issues)
    : name_(std::move(name)),
      files_(std::move(files)),
      max_file_bytes_(config.max_file_bytes),
      issues_(std::move(issues)) {}

JsonTelemetrySource::~JsonTelemetrySource() = default;

std::unique_ptr<JsonTelemetrySource> JsonTelemetrySource::open(const std::string& root,
                                                               const TelemetryConfig& config, IssueSink issues) {
  auto files = list_json_telemetry(root, issues);
  return std::make_unique<JsonTelemetrySource>(root, std::move(files), config, std::move(issues));
}

void JsonTelemetrySource::report(std::string origin, std::string reason) {
  ++stats_.rejected;
  if (issues_) issues_(TelemetryIssue{std::move(origin), std::move(reason)});
}

bool JsonTelemetrySource::open_next_file() {
  while (next_file_ < files_.size()) {
    const JsonTelemetryFile& file = files_[next_file_++];
    std::error_code ec;
    const uintmax_t size = fs::file_size(file.path, ec);
    if (ec) {
      report(file.path, fmt::format("cannot read: {}", ec.message()));
      continue;
    }
    if (size > max_file_bytes_) {
      report(file.path, fmt::format("file of {} bytes is over the telemetry file limit of {} bytes "
                                    "(telemetry.max_file_bytes); refused, nothing read from it",
                                    size, max_file_bytes_));
      continue;
    }
    std::ifstream in(file.path, std::ios::binary);
    text_.assign(static_cast<size_t>(size), '\0');
    if (!in || !in.read(text_.data(), static_cast<std::streamsize>(size))) {
      report(file.path, "cannot read the file");
      continue;
    }
    ++stats_.files;
    file_ = &file;
    index_ = count_ = offset_ = 0;
    line_ = 1;
    const size_t first = text_.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) continue;  // empty: no records
    mode_ = Mode::document;
    const std::string_view name = file.path;
    if (ends_with_ci(name, ".jsonl") || ends_with_ci(name, ".ndjson")) {
      mode_ = Mode::lines;
    } else if (text_[first] == '{') {
      // JSON lines when the first line alone is a whole object and more follows.
      const size_t nl = text_.find('\n', first);
      if (nl != std::string::npos && !is_blank(std::string_view(text_).substr(nl)) &&
          decoder_.load(std::string_view(text_).substr(first, nl - first)).ok()) {
        mode_ = Mode::lines;
      }
    }
    if (mode_ == Mode::document) {
      auto count = decoder_.load(text_);
      if (!count.ok()) {
        report(file.path, count.error().to_string());
        continue;
      }
      count_ = count.value();
      single_object_ = text_[first] == '{';
    }
    return true;
  }
  file_ = nullptr;
  return false;
}

bool JsonTelemetrySource::next_record(FlowRecord& flow, bool& ok) {
  ok = false;
  if (mode_ == Mode::document) {
    if (index_ >= count_) return false;
    const size_t index = index_++;
    std::string origin = single_object_ ? file_->path : fmt::format("{}[{}]", file_->path, index);
    auto status = decoder_.record(index, flow);
    if (!status.ok()) {
      report(std::move(origin), status.error().to_string());
      return true;
    }
    flow.origin = std::move(origin);
  } else {
    const std::string_view text(text_);
    std::string_view line;
    uint64_t line_number = 0;
    while (true) {
      if (offset_ >= text.size()) return false;
      const size_t nl = text.find('\n', offset_);
      const size_t end = nl == std::string_view::npos ? text.size() : nl;
      line = text.substr(offset_, end - offset_);
      offset_ = end + 1;
      line_number = line_++;
      if (!is_blank(line)) break;
    }
    std::string origin = fmt::format("{}:{}", file_->path, line_number);
    auto status = decoder_.decode(line, flow);
    if (!status.ok()) {
      report(std::move(origin), status.error().to_string());
      return true;
    }
    flow.origin = std::move(origin);
  }
  if (flow.label.empty()) flow.label = file_->default_label;
  ok = true;
  return true;
}

Result<size_t> JsonTelemetrySource::next_batch(std::vector<FlowRecord>& out, size_t max) {
  if (out.size() < max) out.resize(max);
  size_t n = 0;
  while (n < max) {
    if (file_ == nullptr && !open_next_file()) break;
    bool ok = false;
    if (!next_record(out[n], ok)) {
      file_ = nullptr;
      continue;
    }
    if (ok) ++n;
  }
  out.resize(n);
  stats_.records += n;
  return n;
}

}  // namespace sentinel::flows
