// API authentication and authorisation (DESIGN.md section 8): bearer tokens
// with a role, stored hashed, and a per-token ingest rate limit.
//
// Tokens. A token is "snt_" followed by 43 base64url characters (32 random
// bytes from libsodium): guessing one is hopeless, so a plain keyed-less
// BLAKE2b-256 of it is a safe stored form (as for other high-entropy API
// keys; a slow password hash buys nothing here and costs every request).
// The tokens file holds one JSON object per line:
//   {"name":"ops-desk-1","role":"analyst","hash":"blake2b256:<64 hex>"}
// Names identify the token in logs and the audit (never a person's name from
// the data). Lookup is by hash, so comparing never leaks token bytes.
//
// Roles and what they may do:
//   analyst  read alerts, stats and the map; acknowledge; give feedback
//   curator  what an analyst may (incident curation comes with issue 6)
//   ingest   POST /v1/events only (sensor gateways, feeders)
//   admin    everything, including creating tokens
//
// Threading: TokenStore is safe from any thread (adding takes a lock);
// RateLimiter too.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace sentinel {

enum class Role : uint8_t { kAnalyst, kCurator, kIngest, kAdmin };
std::string_view role_name(Role r);
std::optional<Role> parse_role(std::string_view s);

/// What a route needs.
/// kCurate: decide curation items and change incidents (curator, admin).
enum class Permission : uint8_t { kRead, kOperate, kIngest, kAdmin, kCurate };
bool role_allows(Role role, Permission permission);

struct Principal {
  std::string name;
  Role role = Role::kAnalyst;
};

class TokenStore {
 public:
  TokenStore() = default;
  /// Moves the tokens (not while another thread uses `other`).
  TokenStore(TokenStore&& other) noexcept;
  TokenStore& operator=(TokenStore&& other) noexcept;
  /// Loads a tokens file; throws std::runtime_error naming the file, line and
  /// reason (malformed line, unknown role, bad hash, duplicate name).
  static TokenStore load(const std::string& path);

  /// A fresh random token.
  static std::string generate();
  /// "blake2b256:" + hex of BLAKE2b-256(token).
  static std::string hash(std::string_view token);
  /// One tokens-file line (no newline) for `name`, `role` and a token's hash.
  static std::string file_line(std::string_view name, Role role, std::string_view token_hash);
  /// Validates a token name: 1-64 characters of [A-Za-z0-9._-].
  static Status check_name(std::string_view name);

  /// Adds a token (by hash). Error when the name is taken or invalid.
  Status add(std::string name, Role role, std::string token_hash);
  /// The principal a presented token belongs to.
  std::optional<Principal> find(std::string_view token) const;
  size_t size() const;
  /// (name, role) of every token, sorted by name.
  std::vector<Principal> list() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Principal> by_hash_;
  std::unordered_map<std::string, std::string> hash_by_name_;
};

/// The token a request presents: "Authorization: Bearer <token>", or, for
/// WebSocket upgrades from browsers (which cannot set headers), the
/// subprotocol "bearer.<token>" in Sec-WebSocket-Protocol. "" when none.
std::string_view presented_token(std::string_view authorization, std::string_view websocket_protocols);

/// Token buckets per principal name: `rate` units per second, at most `burst`.
/// take() admits a request when the bucket is not in debt; charge() then
/// takes what the request turned out to cost (the events it carried), so a
/// large body may put the bucket in debt and later requests wait it out.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst);
  /// True when `name` may go ahead now; else false and the wait until it may.
  bool admit(const std::string& name, std::chrono::steady_clock::time_point now,
             std::chrono::milliseconds* retry_after = nullptr);
  void charge(const std::string& name, double units, std::chrono::steady_clock::time_point now);

 private:
  struct Bucket {
    double level = 0;
    std::chrono::steady_clock::time_point at{};
  };
  void refill(Bucket& b, std::chrono::steady_clock::time_point now) const;
  double rate_, burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace sentinel
