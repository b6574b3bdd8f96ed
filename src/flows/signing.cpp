#include "flows/signing.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace sentinel::flows {

namespace {

constexpr std::array<std::string_view, kStreamCount> kStreamNames{"anomalies", "evidence", "policy"};
// Versioned with the scheme: a v2 layout would sign under new domains, so a v1
// signature can never be read as v2.
constexpr std::array<std::string_view, kStreamCount> kStreamDomains{
    "sentinel.ai.anomalies.v1", "sentinel.ai.evidence.v1", "sentinel.ai.policy.v1"};
constexpr std::array<std::string_view, kRejectionCount> kRejectionNames{
    "missing_header", "malformed_header", "unsupported_version", "wrong_domain", "unknown_key",
    "malformed_nonce", "bad_signature",   "stale",               "future",       "replay"};

void put_be(uint8_t* out, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(value >> (8 * (bytes - 1 - i)));
}

uint64_t get_be(const uint8_t* in, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value = (value << 8) | in[i];
  return value;
}

// The replay cache drops instances whose newest nonce left the horizon; doing
// that scan on every insert would cost O(instances) per message.
constexpr uint64_t kPruneEvery = 4096;

}  // namespace

std::string_view stream_name(Stream stream) { return kStreamNames[static_cast<size_t>(stream)]; }
std::string_view stream_domain(Stream stream) { return kStreamDomains[static_cast<size_t>(stream)]; }

std::optional<Stream> parse_stream(std::string_view name) {
  for (Stream s : kAllStreams)
    if (stream_name(s) == name) return s;
  return std::nullopt;
}

std::string_view rejection_name(Rejection rejection) { return kRejectionNames[static_cast<size_t>(rejection)]; }

Nonce encode_nonce(const NonceParts& parts) {
  Nonce nonce{};
  put_be(nonce.data(), static_cast<uint64_t>(parts.timestamp_ms), 8);
  put_be(nonce.data() + 8, parts.instance_id, 4);
  put_be(nonce.data() + 12, parts.counter, 4);
  return nonce;
}

std::optional<NonceParts> decode_nonce(std::string_view bytes) {
  if (bytes.size() != kNonceBytes) return std::nullopt;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  NonceParts parts;
  parts.timestamp_ms = static_cast<int64_t>(get_be(p, 8));
  parts.instance_id = static_cast<uint32_t>(get_be(p + 8, 4));
  parts.counter = static_cast<uint32_t>(get_be(p + 12, 4));
  if (parts.timestamp_ms <= 0) return std::nullopt;
  return parts;
}

KeyId key_id_of(const PublicKey& key) {
  ensure_sodium();
  std::array<uint8_t, crypto_generichash_BYTES> digest{};
  crypto_generichash(digest.data(), digest.size(), key.bytes.data(), key.bytes.size(), nullptr, 0);
  KeyId id{};
  std::copy_n(digest.begin(), id.size(), id.begin());
  return id;
}

std::string key_id_hex(const KeyId& id) {
  std::string out(2 * id.size() + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), id.data(), id.size());
  out.pop_back();
  return out;
}

uint32_t derive_instance_id(std::string_view hostname, int64_t pid) {
  ensure_sodium();
  std::string input(hostname);
  input += ':';
  input += std::to_string(pid);
  std::array<uint8_t, crypto_generichash_BYTES> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const uint8_t*>(input.data()), input.size(),
                     nullptr, 0);
  return static_cast<uint32_t>(get_be(digest.data(), 4));
}

uint32_t resolve_instance_id(uint32_t configured) {
  if (configured != 0) return configured;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return derive_instance_id(host, static_cast<int64_t>(::getpid()));
}

std::string signed_bytes(Stream stream, const Nonce& nonce, std::string_view payload) {
  const std::string_view domain = stream_domain(stream);
  std::string out;
  out.reserve(domain.size() + 1 + nonce.size() + payload.size());
  out.append(domain);
  out.push_back('\0');
  out.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  out.append(payload);
  return out;
}

Signature sign_message(const SecretKey& key, Stream stream, const Nonce& nonce, std::string_view payload) {
  ensure_sodium();
  const std::string message = signed_bytes(stream, nonce, payload);
  Signature signature{};
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const uint8_t*>(message.data()), message.size(),
                       key.bytes().data());
  return signature;
}

bool verify_signature(const PublicKey& key, Stream stream, const Nonce& nonce, std::string_view payload,
                      const Signature& signature) {
  ensure_sodium();
  const std::string message = signed_bytes(stream, nonce, payload);
  return crypto_sign_verify_detached(signature.data(), reinterpret_cast<const uint8_t*>(message.data()),
                                     message.size(), key.bytes.data()) == 0;
}

int64_t wall_clock_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Signer::Signer(SecretKey key, uint32_t instance_id, WallClock clock)
    : key_(std::move(key)),
      public_key_(key_.public_key()),
      key_id_(key_id_of(public_key_)),
      instance_id_(instance_id),
      clock_(clock ? std::move(clock) : WallClock(wall_clock_now_ms)) {}

SignedHeaders Signer::sign(Stream stream, std::string_view payload) {
  SignedHeaders out;
  out.stream = stream;
  // Relaxed is enough: uniqueness needs only that no two calls get the same
  // value, which fetch_add guarantees whatever the ordering.
  const uint32_t counter = counter_.fetch_add(1, std::memory_order_relaxed);
  out.nonce = encode_nonce(NonceParts{clock_(), instance_id_, counter});
  out.signature = sign_message(key_, stream, out.nonce, payload);
  out.key_id = key_id_;
  return out;
}

Signer load_signer(const KafkaConfig& config) {
  if (config.signing_key.empty()) throw std::runtime_error("kafka.signing_key: no signing key file configured");
  return Signer(load_secret_key(config.signing_key), resolve_instance_id(config.instance_id));
}

void TrustedKeys::add(const PublicKey& key) { keys_[key_id_of(key)] = key; }

const PublicKey* TrustedKeys::find(std::string_view key_id_bytes) const {
  if (key_id_bytes.size() != kKeyIdBytes) return nullptr;
  KeyId id{};
  std::memcpy(id.data(), key_id_bytes.data(), id.size());
  auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : &it->second;
}

TrustedKeys load_trusted_keys(const KafkaConfig& config) {
  if (config.verify_key.empty()) throw std::runtime_error("kafka.verify_key: no verification key file configured");
  TrustedKeys keys;
  keys.add(load_public_key(config.verify_key));
  return keys;
}

SignatureCheck check_signature(const TrustedKeys& keys, Stream expected, const SignatureHeaderValues& headers,
                               std::string_view payload) {
  SignatureCheck check;
  auto reject = [&check](Rejection r, std::string_view header = {}) {
    check.rejection = r;
    check.missing = header;
    return check;
  };
  if (!headers.version) return reject(Rejection::kMissingHeader, kHeaderVersion);
  if (!headers.domain) return reject(Rejection::kMissingHeader, kHeaderDomain);
  if (!headers.nonce) return reject(Rejection::kMissingHeader, kHeaderNonce);
  if (!headers.signature) return reject(Rejection::kMissingHeader, kHeaderSignature);
  if (!headers.key_id) return reject(Rejection::kMissingHeader, kHeaderKeyId);
  if (*headers.version != kSignatureVersion) return reject(Rejection::kUnsupportedVersion, kHeaderVersion);
  if (*headers.domain != stream_domain(expected)) return reject(Rejection::kWrongDomain, kHeaderDomain);
  if (headers.key_id->size() != kKeyIdBytes) return reject(Rejection::kMalformedHeader, kHeaderKeyId);
  if (headers.signature->size() != kSignatureBytes) return reject(Rejection::kMalformedHeader, kHeaderSignature);
  const PublicKey* key = keys.find(*headers.key_id);
  if (key == nullptr) return reject(Rejection::kUnknownKey, kHeaderKeyId);
  const std::optional<NonceParts> nonce = decode_nonce(*headers.nonce);
  if (!nonce) return reject(Rejection::kMalformedNonce, kHeaderNonce);
  check.nonce = *nonce;
  Nonce nonce_bytes{};
  std::memcpy(nonce_bytes.data(), headers.nonce->data(), nonce_bytes.size());
  Signature signature{};
  std::memcpy(signature.data(), headers.signature->data(), signature.size());
  // The domain signed is the one the reader expects, not the header's text:
  // the header only lets a mismatch be named; it is never trusted.
  if (!verify_signature(*key, expected, nonce_bytes, payload, signature))
    return reject(Rejection::kBadSignature, kHeaderSignature);
  return check;
}

ReplayCache::ReplayCache(ReplayOptions options) : options_(options) {
  if (options_.window_per_instance == 0 || options_.max_instances == 0 || options_.horizon.count() <= 0)
    throw std::invalid_argument("replay cache: window, instances and horizon must be positive");
}

size_t ReplayCache::entries() const {
  size_t n = 0;
  for (const auto& [id, inst] : instances_) n += inst.seen.size();
  return n;
}

void ReplayCache::prune_instances(int64_t horizon_floor) {
  // An instance whose newest nonce is past the horizon holds nothing that
  // could still be accepted: forgetting it needs no floor.
  std::erase_if(instances_, [horizon_floor](const auto& kv) { return kv.second.newest_ms < horizon_floor; });
}

std::optional<Rejection> ReplayCache::check_and_insert(const NonceParts& nonce, int64_t now_ms) {
  clock_ms_ = std::max(clock_ms_, now_ms);
  const int64_t horizon_floor = clock_ms_ - options_.horizon.count();
  const int64_t ts = nonce.timestamp_ms;
  if (ts < horizon_floor || ts <= global_floor_ms_) return Rejection::kStale;
  if (ts > clock_ms_ + options_.max_future_skew.count()) return Rejection::kFuture;

  auto it = instances_.find(nonce.instance_id);
  if (it != instances_.end() && ts <= it->second.floor_ms) return Rejection::kStale;
  const std::pair<int64_t, uint32_t> entry{ts, nonce.counter};
  if (it != instances_.end() && it->second.seen.contains(entry)) return Rejection::kReplay;

  if (++inserts_since_prune_ >= kPruneEvery) {
    inserts_since_prune_ = 0;
    prune_instances(horizon_floor);
    it = instances_.find(nonce.instance_id);
  }
  if (it == instances_.end()) {
    if (instances_.size() >= options_.max_instances) prune_instances(horizon_floor);
    if (instances_.size() >= options_.max_instances) {
      // Forget the instance that went quiet longest. Everything it could still
      // have replayed is at or below its newest timestamp, so that becomes the
      // floor for everyone: conservative, never unsafe.
      auto victim = std::min_element(instances_.begin(), instances_.end(), [](const auto& a, const auto& b) {
        return a.second.newest_ms < b.second.newest_ms;
      });
      if (victim->second.newest_ms >= ts) {
        // The newcomer is the oldest of all: accept it without a slot; the
        // floor refuses its repeat.
        global_floor_ms_ = std::max(global_floor_ms_, ts);
        return std::nullopt;
      }
      global_floor_ms_ = std::max(global_floor_ms_, victim->second.newest_ms);
      instances_.erase(victim);
    }
    it = instances_.emplace(nonce.instance_id, Instance{}).first;
  }
  Instance& inst = it->second;
  inst.seen.insert(entry);
  inst.newest_ms = std::max(inst.newest_ms, ts);
  while (!inst.seen.empty() && inst.seen.begin()->first < horizon_floor) inst.seen.erase(inst.seen.begin());
  while (inst.seen.size() > options_.window_per_instance) {
    inst.floor_ms = std::max(inst.floor_ms, inst.seen.begin()->first);
    inst.seen.erase(inst.seen.begin());
  }
  return std::nullopt;
}

uint64_t VerifyStats::rejected_total() const {
  uint64_t n = 0;
  for (uint64_t c : rejected) n += c;
  return n;
}

Verifier::Verifier(TrustedKeys keys, ReplayOptions options, WallClock clock)
    : keys_(std::move(keys)), replay_(options), clock_(clock ? std::move(clock) : WallClock(wall_clock_now_ms)) {}

SignatureCheck Verifier::verify(Stream expected, const SignatureHeaderValues& headers, std::string_view payload) {
  SignatureCheck check = check_signature(keys_, expected, headers, payload);
  if (!check.rejection) check.rejection = replay_.check_and_insert(check.nonce, clock_());
  if (check.rejection)
    ++stats_.rejected[static_cast<size_t>(*check.rejection)];
  else
    ++stats_.accepted;
  return check;
}

}  // namespace sentinel::flows
