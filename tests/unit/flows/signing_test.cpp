// Signed detection messages without Kafka: the nonce layout, key id, the
// exact bytes signed, every rejection reason, the bounded replay cache and the
// publish token bucket.
#include "flows/signing.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "flows/kafka_publisher.h"

namespace sentinel::flows {
namespace signing_test {

SecretKey fresh_key() {
  ensure_sodium();
  std::array<uint8_t, kEd25519PublicKeyBytes> pk{};
  std::array<uint8_t, kEd25519SecretKeyBytes> sk{};
  crypto_sign_keypair(pk.data(), sk.data());
  return SecretKey(sk);
}

std::string_view as_view(const auto& bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// A message as the publisher lays out its headers; tests tamper with copies.
struct Message {
  std::string version{kSignatureVersion};
  std::string domain;
  std::string nonce;
  std::string signature;
  std::string key_id;
  std::string payload;

  SignatureHeaderValues headers() const {
    return SignatureHeaderValues{version, domain, nonce, signature, key_id};
  }
};

Message make_message(Signer& signer, Stream stream, std::string payload) {
  const SignedHeaders h = signer.sign(stream, payload);
  Message m;
  m.domain = std::string(stream_domain(stream));
  m.nonce = std::string(as_view(h.nonce));
  m.signature = std::string(as_view(h.signature));
  m.key_id = std::string(as_view(h.key_id));
  m.payload = std::move(payload);
  return m;
}

constexpr int64_t kNow = 1'760'000'000'000;  // a fixed wall clock for the tests

TEST(Nonce, BigEndianLayoutRoundTrips) {
  const NonceParts parts{0x0102030405060708, 0x090A0B0C, 0x0D0E0F10};
  const Nonce n = encode_nonce(parts);
  for (size_t i = 0; i < n.size(); ++i) EXPECT_EQ(n[i], i + 1) << "byte " << i;
  const auto back = decode_nonce(as_view(n));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, parts);
}

TEST(Nonce, MalformedIsRefused) {
  EXPECT_FALSE(decode_nonce(std::string(15, '\1')).has_value());
  EXPECT_FALSE(decode_nonce(std::string(17, '\1')).has_value());
  EXPECT_FALSE(decode_nonce(as_view(encode_nonce(NonceParts{0, 1, 1}))).has_value());   // no timestamp
  EXPECT_FALSE(decode_nonce(as_view(encode_nonce(NonceParts{-5, 1, 1}))).has_value());  // top bit set
}

TEST(Domains, OnePerStreamAndNamesRoundTrip) {
  EXPECT_EQ(stream_domain(Stream::kAnomalies), "sentinel.ai.anomalies.v1");
  EXPECT_EQ(stream_domain(Stream::kEvidence), "sentinel.ai.evidence.v1");
  EXPECT_EQ(stream_domain(Stream::kPolicy), "sentinel.ai.policy.v1");
  for (Stream s : kAllStreams) EXPECT_EQ(parse_stream(stream_name(s)), s);
  EXPECT_FALSE(parse_stream("ai.anomalies.v1").has_value());
}

TEST(KeyId, IsTheFirstEightBytesOfBlake2b256OfThePublicKey) {
  const SecretKey key = fresh_key();
  const PublicKey pub = key.public_key();
  std::array<uint8_t, 32> digest{};
  crypto_generichash(digest.data(), digest.size(), pub.bytes.data(), pub.bytes.size(), nullptr, 0);
  const KeyId id = key_id_of(pub);
  EXPECT_TRUE(std::equal(id.begin(), id.end(), digest.begin()));
  EXPECT_EQ(key_id_hex(id).size(), 16u);
}

TEST(InstanceId, DerivedFromHostAndPidDeterministically) {
  EXPECT_EQ(derive_instance_id("sensor-7", 4242), derive_instance_id("sensor-7", 4242));
  EXPECT_NE(derive_instance_id("sensor-7", 4242), derive_instance_id("sensor-7", 4243));
  EXPECT_NE(derive_instance_id("sensor-7", 4242), derive_instance_id("sensor-8", 4242));
  EXPECT_EQ(resolve_instance_id(77), 77u);
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(resolve_instance_id(0), derive_instance_id(host, ::getpid()));
}

TEST(Signature, CoversDomainZeroNonceAndPayloadExactly) {
  Signer signer(fresh_key(), 9, [] { return kNow; });
  const std::string payload = R"({"anomaly_id":"a-1","score":0.93})";
  const SignedHeaders h = signer.sign(Stream::kEvidence, payload);
  // Rebuild the signed bytes independently of signed_bytes(): the wire contract.
  std::string expected = "sentinel.ai.evidence.v1";
  expected.push_back('\0');
  expected.append(as_view(h.nonce));
  expected.append(payload);
  EXPECT_EQ(signed_bytes(Stream::kEvidence, h.nonce, payload), expected);
  const PublicKey pub = signer.public_key();
  EXPECT_EQ(crypto_sign_verify_detached(h.signature.data(), reinterpret_cast<const uint8_t*>(expected.data()),
                                        expected.size(), pub.bytes.data()),
            0);
  EXPECT_TRUE(verify_signature(pub, Stream::kEvidence, h.nonce, payload, h.signature));
  EXPECT_FALSE(verify_signature(pub, Stream::kAnomalies, h.nonce, payload, h.signature));
  const auto parts = decode_nonce(as_view(h.nonce));
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->timestamp_ms, kNow);
  EXPECT_EQ(parts->instance_id, 9u);
  EXPECT_EQ(parts->counter, 0u);
}

TEST(Signer, CounterIsUniqueAcrossThreads) {
  Signer signer(fresh_key(), 1, [] { return kNow; });
  constexpr int kThreads = 4, kEach = 200;
  std::vector<std::vector<uint32_t>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        seen[t].push_back(decode_nonce(as_view(signer.sign(Stream::kPolicy, "{}").nonce))->counter);
    });
  for (auto& th : threads) th.join();
  std::set<uint32_t> all;
  for (const auto& v : seen) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*all.rbegin(), static_cast<uint32_t>(kThreads * kEach - 1));
}

class VerifyTest : public ::testing::Test {
 protected:
  VerifyTest() : signer_(fresh_key(), 7, [this] { return signer_now_; }) {
    keys_.add(signer_.public_key());
  }
  Verifier make_verifier(ReplayOptions options = {}) {
    return Verifier(keys_, options, [this] { return verifier_now_; });
  }

  int64_t signer_now_ = kNow;
  int64_t verifier_now_ = kNow + 50;
  Signer signer_;
  TrustedKeys keys_;
};

TEST_F(VerifyTest, AcceptsEachStreamOnItsOwnDomain) {
  Verifier v = make_verifier();
  for (Stream s : kAllStreams) {
    const Message m = make_message(signer_, s, R"({"id":"x"})");
    const SignatureCheck c = v.verify(s, m.headers(), m.payload);
    EXPECT_FALSE(c.rejection.has_value()) << stream_name(s) << ": " << rejection_name(*c.rejection);
    EXPECT_EQ(c.nonce.instance_id, 7u);
  }
  EXPECT_EQ(v.stats().accepted, 3u);
  EXPECT_EQ(v.stats().rejected_total(), 0u);
}

TEST_F(VerifyTest, EachTamperingIsRejectedWithItsReason) {
  Verifier v = make_verifier();
  const Message good = make_message(signer_, Stream::kAnomalies, R"({"anomaly_id":"a-9","score":0.91})");
  struct Case {
    const char* what;
    Message m;
    Rejection expected;
  };
  std::vector<Case> cases;
  {
    Message m = good;
    m.payload[10] ^= 1;
    cases.push_back({"payload byte flipped", m, Rejection::kBadSignature});
  }
  {
    Message m = good;
    m.nonce[15] ^= 1;  // counter
    cases.push_back({"nonce counter changed", m, Rejection::kBadSignature});
  }
  {
    Message m = good;
    m.domain = std::string(stream_domain(Stream::kPolicy));
    cases.push_back({"domain header of another stream", m, Rejection::kWrongDomain});
  }
  {
    // Header rewritten to match: the signature was made over the evidence
    // domain, so it cannot verify under the anomalies domain.
    Message m = make_message(signer_, Stream::kEvidence, good.payload);
    m.domain = std::string(stream_domain(Stream::kAnomalies));
    cases.push_back({"signed for evidence, relabelled", m, Rejection::kBadSignature});
  }
  {
    Message m = good;
    m.key_id[0] ^= 0x55;
    cases.push_back({"unknown key id", m, Rejection::kUnknownKey});
  }
  {
    // Another key, claiming the trusted key's id.
    Signer other(fresh_key(), 7, [] { return kNow; });
    Message m = make_message(other, Stream::kAnomalies, good.payload);
    m.key_id = good.key_id;
    cases.push_back({"signed by an untrusted key", m, Rejection::kBadSignature});
  }
  {
    Signer other(fresh_key(), 7, [] { return kNow; });
    Message m = make_message(other, Stream::kAnomalies, good.payload);
    cases.push_back({"untrusted key with its own id", m, Rejection::kUnknownKey});
  }
  {
    Message m = good;
    m.nonce.pop_back();
    cases.push_back({"nonce of 15 bytes", m, Rejection::kMalformedNonce});
  }
  {
    Message m = good;
    m.signature.pop_back();
    cases.push_back({"signature of 63 bytes", m, Rejection::kMalformedHeader});
  }
  {
    Message m = good;
    m.version = "2";
    cases.push_back({"version 2", m, Rejection::kUnsupportedVersion});
  }
  for (const Case& c : cases) {
    const SignatureCheck r = v.verify(Stream::kAnomalies, c.m.headers(), c.m.payload);
    ASSERT_TRUE(r.rejection.has_value()) << c.what;
    EXPECT_EQ(*r.rejection, c.expected) << c.what << ": got " << rejection_name(*r.rejection);
  }
  // None of the refused messages reached the replay cache: the good one still passes.
  EXPECT_FALSE(v.verify(Stream::kAnomalies, good.headers(), good.payload).rejection.has_value());
  EXPECT_EQ(v.stats().accepted, 1u);
  EXPECT_EQ(v.stats().rejected_total(), cases.size());
  EXPECT_EQ(v.stats().rejected_for(Rejection::kBadSignature), 4u);
  EXPECT_EQ(v.replay_cache().entries(), 1u);
}

TEST_F(VerifyTest, EachMissingHeaderIsNamed) {
  Verifier v = make_verifier();
  const Message good = make_message(signer_, Stream::kPolicy, "{}");
  const std::array<std::string_view, 5> names{kHeaderVersion, kHeaderDomain, kHeaderNonce, kHeaderSignature,
                                              kHeaderKeyId};
  for (size_t i = 0; i < names.size(); ++i) {
    SignatureHeaderValues h = good.headers();
    std::array<std::optional<std::string_view>*, 5> fields{&h.version, &h.domain, &h.nonce, &h.signature, &h.key_id};
    fields[i]->reset();
    const SignatureCheck r = v.verify(Stream::kPolicy, h, good.payload);
    ASSERT_TRUE(r.rejection.has_value());
    EXPECT_EQ(*r.rejection, Rejection::kMissingHeader);
    EXPECT_EQ(r.missing, names[i]);
  }
}

TEST_F(VerifyTest, RepeatedNonceIsDroppedAsReplay) {
  Verifier v = make_verifier();
  const Message m = make_message(signer_, Stream::kAnomalies, R"({"anomaly_id":"a-1"})");
  EXPECT_FALSE(v.verify(Stream::kAnomalies, m.headers(), m.payload).rejection.has_value());
  const SignatureCheck again = v.verify(Stream::kAnomalies, m.headers(), m.payload);
  ASSERT_TRUE(again.rejection.has_value());
  EXPECT_EQ(*again.rejection, Rejection::kReplay);
  EXPECT_EQ(v.stats().rejected_for(Rejection::kReplay), 1u);
}

TEST_F(VerifyTest, StaleAndFutureNoncesAreRejected) {
  ReplayOptions options;
  options.horizon = std::chrono::minutes(10);
  options.max_future_skew = std::chrono::seconds(30);
  Verifier v = make_verifier(options);
  signer_now_ = kNow - 10 * 60'000 - 100;  // just past the horizon
  const Message old = make_message(signer_, Stream::kAnomalies, "{}");
  EXPECT_EQ(v.verify(Stream::kAnomalies, old.headers(), old.payload).rejection, Rejection::kStale);
  signer_now_ = kNow + 50 + 30'001;
  const Message ahead = make_message(signer_, Stream::kAnomalies, "{}");
  EXPECT_EQ(v.verify(Stream::kAnomalies, ahead.headers(), ahead.payload).rejection, Rejection::kFuture);
  signer_now_ = kNow + 50 + 29'000;  // within the skew
  const Message near = make_message(signer_, Stream::kAnomalies, "{}");
  EXPECT_FALSE(v.verify(Stream::kAnomalies, near.headers(), near.payload).rejection.has_value());
}

TEST(ReplayCache, OutOfOrderWithinTheWindowIsAcceptedOnce) {
  ReplayOptions options;
  options.window_per_instance = 100;
  ReplayCache cache(options);
  // Counters 0..99 arrive in reverse (as from several partitions).
  for (int c = 99; c >= 0; --c)
    EXPECT_FALSE(cache.check_and_insert({kNow + c, 1, static_cast<uint32_t>(c)}, kNow + 100).has_value()) << c;
  for (int c = 0; c < 100; ++c)
    EXPECT_EQ(cache.check_and_insert({kNow + c, 1, static_cast<uint32_t>(c)}, kNow + 100), Rejection::kReplay) << c;
  EXPECT_EQ(cache.entries(), 100u);
}

TEST(ReplayCache, WhatTheWindowForgetsBecomesStaleNeverAcceptedTwice) {
  ReplayOptions options;
  options.window_per_instance = 10;
  ReplayCache cache(options);
  for (uint32_t c = 0; c < 30; ++c) ASSERT_FALSE(cache.check_and_insert({kNow + c, 3, c}, kNow + 30).has_value());
  EXPECT_EQ(cache.entries(), 10u);
  // Evicted nonces (timestamps kNow..kNow+19) are refused as stale, not accepted again.
  for (uint32_t c = 0; c < 20; ++c)
    EXPECT_EQ(cache.check_and_insert({kNow + c, 3, c}, kNow + 30), Rejection::kStale) << c;
  // Remembered ones are replays; a new one is fine.
  EXPECT_EQ(cache.check_and_insert({kNow + 25, 3, 25}, kNow + 30), Rejection::kReplay);
  EXPECT_FALSE(cache.check_and_insert({kNow + 31, 3, 30}, kNow + 31).has_value());
  // Another instance is unaffected by instance 3's floor.
  EXPECT_FALSE(cache.check_and_insert({kNow + 5, 4, 0}, kNow + 31).has_value());
}

TEST(ReplayCache, ARestartedSignerWithTheSameInstanceIdIsAccepted) {
  ReplayCache cache;
  for (uint32_t c = 0; c < 50; ++c) ASSERT_FALSE(cache.check_and_insert({kNow, 5, c}, kNow).has_value());
  // After a restart the counter starts at 0 again, with a later timestamp.
  for (uint32_t c = 0; c < 50; ++c)
    EXPECT_FALSE(cache.check_and_insert({kNow + 1000, 5, c}, kNow + 1000).has_value()) << c;
  EXPECT_EQ(cache.check_and_insert({kNow, 5, 7}, kNow + 1000), Rejection::kReplay);
}

TEST(ReplayCache, InstanceTableIsBoundedAndForgettingIsSafe) {
  ReplayOptions options;
  options.max_instances = 4;
  ReplayCache cache(options);
  for (uint32_t id = 1; id <= 4; ++id)
    ASSERT_FALSE(cache.check_and_insert({kNow + id, id, 0}, kNow + 10).has_value());
  // A fifth instance pushes out the quietest (id 1, newest at kNow + 1).
  EXPECT_FALSE(cache.check_and_insert({kNow + 9, 5, 0}, kNow + 10).has_value());
  EXPECT_EQ(cache.instances(), 4u);
  EXPECT_EQ(cache.check_and_insert({kNow + 1, 1, 0}, kNow + 10), Rejection::kStale);
  // An even older newcomer is accepted without a slot, and its repeat refused.
  EXPECT_EQ(cache.check_and_insert({kNow + 2, 6, 0}, kNow + 10), std::nullopt);
  EXPECT_EQ(cache.instances(), 4u);
  EXPECT_EQ(cache.check_and_insert({kNow + 2, 6, 0}, kNow + 10), Rejection::kStale);
  // Instances that left the horizon are dropped without raising any floor.
  const int64_t later = kNow + 10 + std::chrono::milliseconds(options.horizon).count() + 100;
  EXPECT_FALSE(cache.check_and_insert({later, 9, 0}, later).has_value());
  EXPECT_EQ(cache.instances(), 1u);
}

TEST(ReplayCache, AClockSteppingBackDoesNotReopenTheHorizon) {
  ReplayOptions options;
  options.horizon = std::chrono::seconds(10);
  ReplayCache cache(options);
  ASSERT_FALSE(cache.check_and_insert({kNow, 1, 0}, kNow).has_value());
  EXPECT_EQ(cache.check_and_insert({kNow - 11'000, 1, 1}, kNow - 60'000), Rejection::kStale);
}

TEST(TrustedKeys, LoadedFromTheKeyFilesTheCliWrites) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("sentinel_signing_keys_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const KeyPairPaths paths = generate_keypair(dir.string());
  KafkaConfig config;
  config.signing_key = paths.secret_path;
  config.verify_key = paths.public_path;
  config.instance_id = 12;
  Signer signer = load_signer(config);
  EXPECT_EQ(signer.instance_id(), 12u);
  Verifier v(load_trusted_keys(config));
  const Message m = make_message(signer, Stream::kAnomalies, "{}");
  EXPECT_FALSE(v.verify(Stream::kAnomalies, m.headers(), m.payload).rejection.has_value());
  config.verify_key = (dir / "missing.pub").string();
  try {
    (void)load_trusted_keys(config);
    FAIL() << "missing key file accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pub"), std::string::npos) << e.what();
  }
  config.signing_key.clear();
  EXPECT_THROW((void)load_signer(config), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST(TokenBucket, BurstThenRate) {
  using Clock = TokenBucket::Clock;
  const Clock::time_point t0{};
  TokenBucket bucket(2.0, 3.0);
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0 + std::chrono::milliseconds(250)));  // half a token
  EXPECT_TRUE(bucket.try_take(t0 + std::chrono::milliseconds(500)));   // one token
  EXPECT_FALSE(bucket.try_take(t0 + std::chrono::milliseconds(500)));
  // Idle for long: refills to the burst, not beyond.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.try_take(t0 + std::chrono::seconds(100)));
  EXPECT_FALSE(bucket.try_take(t0 + std::chrono::seconds(100)));
  EXPECT_THROW(TokenBucket(0, 1), std::invalid_argument);
  EXPECT_THROW(TokenBucket(1, 0.5), std::invalid_argument);
}

}  // namespace signing_test
}  // namespace sentinel::flows
