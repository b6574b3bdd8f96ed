#include "server/auth.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/keys.h"

namespace sentinel {

namespace {
constexpr std::string_view kTokenPrefix = "snt_";
constexpr std::string_view kHashPrefix = "blake2b256:";

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::string_view role_name(Role r) {
  switch (r) {
    case Role::kAnalyst: return "analyst";
    case Role::kCurator: return "curator";
    case Role::kIngest: return "ingest";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

std::optional<Role> parse_role(std::string_view s) {
  for (Role r : {Role::kAnalyst, Role::kCurator, Role::kIngest, Role::kAdmin}) {
    if (role_name(r) == s) return r;
  }
  return std::nullopt;
}

bool role_allows(Role role, Permission permission) {
  switch (permission) {
    case Permission::kRead:
    case Permission::kOperate:
      return role == Role::kAnalyst || role == Role::kCurator || role == Role::kAdmin;
    case Permission::kIngest:
      return role == Role::kIngest || role == Role::kAdmin;
    case Permission::kAdmin:
      return role == Role::kAdmin;
    case Permission::kCurate:
      return role == Role::kCurator || role == Role::kAdmin;
  }
  return false;
}

TokenStore::TokenStore(TokenStore&& other) noexcept {
  std::lock_guard lock(other.mutex_);
  by_hash_ = std::move(other.by_hash_);
  hash_by_name_ = std::move(other.hash_by_name_);
}

TokenStore& TokenStore::operator=(TokenStore&& other) noexcept {
  if (this != &other) {
    std::scoped_lock lock(mutex_, other.mutex_);
    by_hash_ = std::move(other.by_hash_);
    hash_by_name_ = std::move(other.hash_by_name_);
  }
  return *this;
}

std::string TokenStore::generate() {
  ensure_sodium();
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  std::string b64(sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(b64.data(), b64.size(), raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  b64.resize(std::strlen(b64.c_str()));
  sodium_memzero(raw, sizeof raw);
  return std::string(kTokenPrefix) + b64;
}

std::string TokenStore::hash(std::string_view token) {
  ensure_sodium();
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()), token.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return std::string(kHashPrefix) + hex;
}

std::string TokenStore::file_line(std::string_view name, Role role, std::string_view token_hash) {
  nlohmann::ordered_json j;
  j["name"] = name;
  j["role"] = role_name(role);
  j["hash"] = token_hash;
  return j.dump();
}

Status TokenStore::check_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return make_error("name", "must be 1 to 64 characters");
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return make_error("name", "may hold only letters, digits, '.', '_' and '-'");
    }
  }
  return Ok{};
}

Status TokenStore::add(std::string name, Role role, std::string token_hash) {
  if (Status st = check_name(name); !st.ok()) return st;
  if (!token_hash.starts_with(kHashPrefix) || token_hash.size() != kHashPrefix.size() + 64 ||
      !is_hex(std::string_view(token_hash).substr(kHashPrefix.size()))) {
    return make_error("hash", "expected blake2b256: followed by 64 lowercase hex digits");
  }
  std::lock_guard lock(mutex_);
  if (hash_by_name_.contains(name)) return make_error("name", "a token named '" + name + "' exists");
  if (by_hash_.contains(token_hash)) return make_error("hash", "this token is already registered");
  hash_by_name_.emplace(name, token_hash);
  by_hash_.emplace(std::move(token_hash), Principal{std::move(name), role});
  return Ok{};
}

TokenStore TokenStore::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the tokens file");
  TokenStore store;
  std::string line;
  for (uint64_t n = 1; std::getline(in, line); ++n) {
    const std::string_view text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const std::string where = path + ":" + std::to_string(n) + ": ";
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw std::runtime_error(where + "not a JSON object");
    for (const char* key : {"name", "role", "hash"}) {
      if (!j.contains(key) || !j[key].is_string()) throw std::runtime_error(where + "missing string '" + key + "'");
    }
    for (const auto& [key, value] : j.items()) {
      if (key != "name" && key != "role" && key != "hash") throw std::runtime_error(where + "unknown key '" + key + "'");
    }
    const auto role = parse_role(j["role"].get<std::string>());
    if (!role) throw std::runtime_error(where + "role: expected analyst, curator, ingest or admin");
    if (Status st = store.add(j["name"].get<std::string>(), *role, j["hash"].get<std::string>()); !st.ok()) {
      throw std::runtime_error(where + st.error().to_string());
    }
  }
  return store;
}

std::optional<Principal> TokenStore::find(std::string_view token) const {
  if (!token.starts_with(kTokenPrefix) || token.size() > 256) return std::nullopt;
  const std::string h = hash(token);
  std::lock_guard lock(mutex_);
  auto it = by_hash_.find(h);
  if (it == by_hash_.end()) return std::nullopt;
  return it->second;
}

size_t TokenStore::size() const {
  std::lock_guard lock(mutex_);
  return by_hash_.size();
}

std::vector<Principal> TokenStore::list() const {
  std::vector<Principal> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [h, p] : by_hash_) out.push_back(p);
  }
  std::sort(out.begin(), out.end(), [](const Principal& a, const Principal& b) { return a.name < b.name; });
  return out;
}

std::string_view presented_token(std::string_view authorization, std::string_view websocket_protocols) {
  authorization = trim(authorization);
  if (authorization.size() > 7) {
    std::string scheme(authorization.substr(0, 7));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    if (scheme == "bearer ") return trim(authorization.substr(7));
  }
  // Sec-WebSocket-Protocol: a comma-separated list.
  while (!websocket_protocols.empty()) {
    const size_t comma = websocket_protocols.find(',');
    const std::string_view item = trim(websocket_protocols.substr(0, comma));
    if (item.starts_with("bearer.")) return item.substr(7);
    if (comma == std::string_view::npos) break;
    websocket_protocols.remove_prefix(comma + 1);
  }
  return {};
}

RateLimiter::RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {
  if (!(rate > 0) || !(burst >= 1)) throw std::invalid_argument("rate limiter: rate must be > 0 and burst >= 1");
}

void RateLimiter::refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  if (now > b.at) {
    b.level = std::min(burst_, b.level + rate_ * std::chrono::duration<double>(now - b.at).count());
    b.at = now;
  }
}

bool RateLimiter::admit(const std::string& name, std::chrono::steady_clock::time_point now,
                        std::chrono::milliseconds* retry_after) {
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(name, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) refill(b, now);
  if (b.level > 0) return true;
  if (retry_after) {
    *retry_after = std::chrono::milliseconds(static_cast<int64_t>(std::ceil((1 - b.level) / rate_ * 1000)));
  }
  return false;
}

void RateLimiter::charge(const std::string& name, double units, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(name, Bucket{burst_, now});
  if (!fresh) refill(it->second, now);
  it->second.level -= units;
}

}  // namespace sentinel
