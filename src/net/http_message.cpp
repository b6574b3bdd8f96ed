#include "net/http_message.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "net/net_log.h"

namespace sentinel::net {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view find_header(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

}  // namespace

std::string_view HttpRequest::header(std::string_view lower_name) const {
  return find_header(headers, lower_name);
}

std::string_view HttpResponse::header(std::string_view name) const {
  return find_header(headers, name);
}

HttpResponse make_json_error(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  // ordered_json keeps "error" first, as every error body of the API has it.
  nlohmann::ordered_json body;
  body["error"] = message;
  response.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return response;
}

std::string authority(std::string_view host, uint16_t port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::shared_ptr<spdlog::logger> net_log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("net")) return existing;
    auto created = spdlog::default_logger()->clone("net");
    try {
      spdlog::register_logger(created);
    } catch (const spdlog::spdlog_ex&) {
      // Another thread or the app registered "net" in between: use theirs.
      if (auto existing = spdlog::get("net")) return existing;
    }
    return created;
  }();
  return logger;
}

}  // namespace sentinel::net
