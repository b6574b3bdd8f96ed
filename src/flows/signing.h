// Signed detection messages (DESIGN.md section 6; wire format in docs/KAFKA.md).
//
// Every message the flow service publishes (anomalies, evidence, policy) is
// signed with Ed25519 over
//     domain || 0x00 || nonce || payload
// where `domain` names the logical stream ("sentinel.ai.anomalies.v1", ...),
// so a message signed for one stream never verifies as another, and `nonce` is
// 16 bytes [8 B timestamp ms][4 B instance id][4 B counter], all big-endian,
// which makes every message unique and lets consumers drop repeats.
//
// This header is Kafka-free: pure functions for the nonce, key id and the
// signature, a Signer (thread-safe) and a Verifier with its bounded replay
// cache (one thread). kafka_publisher.h / kafka_consumer.h carry the result
// as Kafka headers.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/keys.h"

namespace sentinel::flows {

/// The logical streams the flow service signs. The topic names are
/// configurable (KafkaConfig); the signing domain belongs to the stream, so
/// renaming a topic never changes what a signature means.
enum class Stream : uint8_t { kAnomalies = 0, kEvidence = 1, kPolicy = 2 };
inline constexpr size_t kStreamCount = 3;
inline constexpr std::array<Stream, kStreamCount> kAllStreams{Stream::kAnomalies, Stream::kEvidence,
                                                             Stream::kPolicy};

/// "anomalies", "evidence", "policy".
std::string_view stream_name(Stream stream);
/// The signing domain: "sentinel.ai.anomalies.v1", "sentinel.ai.evidence.v1",
/// "sentinel.ai.policy.v1".
std::string_view stream_domain(Stream stream);
/// Inverse of stream_name().
std::optional<Stream> parse_stream(std::string_view name);

inline constexpr size_t kNonceBytes = 16;
inline constexpr size_t kSignatureBytes = 64;
inline constexpr size_t kKeyIdBytes = 8;
/// The only signature scheme version so far; carried as header "sig-v" = "1".
inline constexpr std::string_view kSignatureVersion = "1";

/// Kafka header names (docs/KAFKA.md).
inline constexpr std::string_view kHeaderVersion = "sig-v";
inline constexpr std::string_view kHeaderDomain = "sig-domain";
inline constexpr std::string_view kHeaderNonce = "nonce";
inline constexpr std::string_view kHeaderSignature = "sig";
inline constexpr std::string_view kHeaderKeyId = "key-id";

using Nonce = std::array<uint8_t, kNonceBytes>;
using Signature = std::array<uint8_t, kSignatureBytes>;
/// First 8 bytes of BLAKE2b-256 (libsodium crypto_generichash, unkeyed) of the
/// 32-byte public key: lets a consumer pick the key without trying each.
using KeyId = std::array<uint8_t, kKeyIdBytes>;

/// The three fields of a nonce.
struct NonceParts {
  int64_t timestamp_ms = 0;  ///< signer's wall clock, Unix ms
  uint32_t instance_id = 0;  ///< which signer (KafkaConfig::instance_id or derived)
  uint32_t counter = 0;      ///< per signer, incremented per message
  bool operator==(const NonceParts&) const = default;
};

/// Big-endian layout [8 B timestamp ms][4 B instance id][4 B counter].
Nonce encode_nonce(const NonceParts& parts);
/// nullopt when `bytes` is not 16 bytes or the timestamp is not positive.
std::optional<NonceParts> decode_nonce(std::string_view bytes);

KeyId key_id_of(const PublicKey& key);
/// 16 lowercase hex characters, for logs.
std::string key_id_hex(const KeyId& id);

/// First 4 bytes (big-endian) of BLAKE2b-256 over "<hostname>:<pid>".
uint32_t derive_instance_id(std::string_view hostname, int64_t pid);
/// `configured` when not 0, else derive_instance_id(gethostname(), getpid()).
uint32_t resolve_instance_id(uint32_t configured);

/// The exact bytes that are signed: domain || 0x00 || nonce || payload.
std::string signed_bytes(Stream stream, const Nonce& nonce, std::string_view payload);
/// Ed25519 (crypto_sign_detached) over signed_bytes().
Signature sign_message(const SecretKey& key, Stream stream, const Nonce& nonce, std::string_view payload);
/// True when `signature` is `key`'s over signed_bytes().
bool verify_signature(const PublicKey& key, Stream stream, const Nonce& nonce, std::string_view payload,
                      const Signature& signature);

/// What goes into the Kafka headers of one message.
struct SignedHeaders {
  Stream stream = Stream::kAnomalies;
  Nonce nonce{};
  Signature signature{};
  KeyId key_id{};
};

/// Signs messages for one instance. Thread-safe: the counter is atomic and
/// the key is read-only, so one Signer is shared by every publishing thread.
/// Keep one Signer per instance id in a process: two signers with the same
/// instance id could produce the same nonce in the same millisecond.
class Signer {
 public:
  /// Wall clock in Unix ms; injectable for tests.
  using WallClock = std::function<int64_t()>;

  Signer(SecretKey key, uint32_t instance_id, WallClock clock = {});

  SignedHeaders sign(Stream stream, std::string_view payload);

  uint32_t instance_id() const { return instance_id_; }
  const KeyId& key_id() const { return key_id_; }
  const PublicKey& public_key() const { return public_key_; }

 private:
  SecretKey key_;
  PublicKey public_key_;
  KeyId key_id_{};
  uint32_t instance_id_;
  WallClock clock_;
  std::atomic<uint32_t> counter_{0};
};

/// Start-up: a Signer from KafkaConfig::signing_key and instance_id. Throws
/// std::runtime_error naming the key file (core/keys.h rules) or the key.
Signer load_signer(const KafkaConfig& config);

/// Why a message was refused. Names are stable (metrics and logs use them).
enum class Rejection : uint8_t {
  kMissingHeader = 0,   ///< one of sig-v, sig-domain, nonce, sig, key-id absent
  kMalformedHeader,     ///< sig not 64 bytes or key-id not 8 bytes
  kUnsupportedVersion,  ///< sig-v is not "1"
  kWrongDomain,         ///< sig-domain is not the domain of the stream being read
  kUnknownKey,          ///< key-id names no trusted key
  kMalformedNonce,      ///< nonce not 16 bytes or its timestamp not positive
  kBadSignature,        ///< the signature does not verify (payload, nonce or domain changed, or wrong key)
  kStale,               ///< nonce older than the replay horizon, or than what the bounded cache still remembers
  kFuture,              ///< nonce timestamp further ahead of the verifier's clock than the allowed skew
  kReplay,              ///< nonce already accepted
};
inline constexpr size_t kRejectionCount = 10;

/// "missing_header", "malformed_header", "unsupported_version", "wrong_domain",
/// "unknown_key", "malformed_nonce", "bad_signature", "stale", "future", "replay".
std::string_view rejection_name(Rejection rejection);

/// The signature headers of one message as found (views into the message);
/// nullopt = header absent.
struct SignatureHeaderValues {
  std::optional<std::string_view> version;
  std::optional<std::string_view> domain;
  std::optional<std::string_view> nonce;
  std::optional<std::string_view> signature;
  std::optional<std::string_view> key_id;
};

/// The public keys a verifier trusts, by key id.
class TrustedKeys {
 public:
  void add(const PublicKey& key);
  const PublicKey* find(std::string_view key_id_bytes) const;
  size_t size() const { return keys_.size(); }

 private:
  std::map<KeyId, PublicKey> keys_;
};

/// Start-up: the key in KafkaConfig::verify_key. Throws std::runtime_error
/// naming the file.
TrustedKeys load_trusted_keys(const KafkaConfig& config);

/// The stateless checks, in order: headers present, version, domain, key id,
/// nonce form, signature. Returns the decoded nonce, or the first rejection.
struct SignatureCheck {
  std::optional<Rejection> rejection;  ///< nullopt = signature valid
  NonceParts nonce;                    ///< decoded when the nonce was well formed
  std::string_view missing;            ///< the header name for kMissingHeader / kMalformedHeader
};
SignatureCheck check_signature(const TrustedKeys& keys, Stream expected, const SignatureHeaderValues& headers,
                               std::string_view payload);

/// Limits of the replay cache.
struct ReplayOptions {
  /// Nonces older than this (against the verifier's clock) are rejected as
  /// stale: the cache need not remember them, so its memory is bounded in time.
  std::chrono::milliseconds horizon = std::chrono::hours(24);
  /// Signer clocks may run this far ahead of the verifier's.
  std::chrono::milliseconds max_future_skew = std::chrono::minutes(5);
  /// Nonces remembered per instance id. Messages of one instance may arrive
  /// this far out of order (across topics and partitions) and still be accepted.
  size_t window_per_instance = 32768;
  /// Instance ids remembered at once (each restart with a derived id is a new one).
  size_t max_instances = 64;
};

/// Remembers accepted nonces and refuses repeats. Bounded: per instance id the
/// last `window_per_instance` nonces within the horizon. Whatever it has to
/// forget early raises a floor below which nonces are rejected as stale, so a
/// forgotten nonce can never be accepted twice (the price: a message that
/// arrives later than the window allows is refused as stale, and counted).
/// Not thread-safe: one consumer thread owns it.
class ReplayCache {
 public:
  explicit ReplayCache(ReplayOptions options = {});

  /// kStale, kFuture or kReplay, or nullopt after recording the nonce as seen.
  /// `now_ms` is the verifier's wall clock; the cache uses the largest value it
  /// was given, so a clock stepping back never reopens the horizon.
  std::optional<Rejection> check_and_insert(const NonceParts& nonce, int64_t now_ms);

  size_t instances() const { return instances_.size(); }
  size_t entries() const;

 private:
  struct Instance {
    std::set<std::pair<int64_t, uint32_t>> seen;  ///< (timestamp ms, counter), oldest first
    int64_t floor_ms = INT64_MIN;                 ///< timestamps <= this were evicted early: stale
    int64_t newest_ms = INT64_MIN;
  };
  void prune_instances(int64_t horizon_floor);

  ReplayOptions options_;
  std::unordered_map<uint32_t, Instance> instances_;
  int64_t clock_ms_ = INT64_MIN;
  int64_t global_floor_ms_ = INT64_MIN;  ///< raised when a whole instance is forgotten early
  uint64_t inserts_since_prune_ = 0;
};

/// Counts of a verifier's decisions.
struct VerifyStats {
  uint64_t accepted = 0;
  std::array<uint64_t, kRejectionCount> rejected{};
  uint64_t rejected_total() const;
  uint64_t rejected_for(Rejection r) const { return rejected[static_cast<size_t>(r)]; }
};

/// Signature check + replay cache + counts. Not thread-safe (one consumer).
class Verifier {
 public:
  using WallClock = std::function<int64_t()>;

  Verifier(TrustedKeys keys, ReplayOptions options = {}, WallClock clock = {});

  /// The verdict on one message read from `expected`'s topic. A message is
  /// recorded in the replay cache only when everything else passed, so forged
  /// messages cannot fill it.
  SignatureCheck verify(Stream expected, const SignatureHeaderValues& headers, std::string_view payload);

  const VerifyStats& stats() const { return stats_; }
  const ReplayCache& replay_cache() const { return replay_; }

 private:
  TrustedKeys keys_;
  ReplayCache replay_;
  WallClock clock_;
  VerifyStats stats_;
};

/// Unix ms from the system clock (the default WallClock).
int64_t wall_clock_now_ms();

}  // namespace sentinel::flows
