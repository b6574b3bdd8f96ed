#include "alerts/audit_log.h"

#include <sodium.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/json_writer.h"

namespace sentinel {

namespace {

constexpr size_t kHashBytes = 32;
constexpr size_t kSigBytes = crypto_sign_ed25519_BYTES;
static_assert(kHashBytes <= crypto_generichash_BYTES_MAX &&
              kHashBytes >= crypto_generichash_BYTES_MIN);
// Domain separation: a signature over an audit head can never be replayed as
// a signature over some other 32-byte message made with the same key.
constexpr std::string_view kSigContext = "sentinel.audit.v1\n";
constexpr uint32_t kStateVersion = 1;

using Hash = std::array<uint8_t, kHashBytes>;

// Hand-written instead of sodium_bin2hex: that one is constant-time, which
// hashes and signatures (public values) do not need, and it is a per-record
// cost here.
void append_hex(std::string& out, const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const size_t at = out.size();
  out.resize(at + 2 * n);
  char* d = out.data() + at;
  for (size_t i = 0; i < n; ++i) {
    d[2 * i] = kDigits[bytes[i] >> 4];
    d[2 * i + 1] = kDigits[bytes[i] & 0xF];
  }
}

Hash hash_canonical(std::string_view canonical) {
  Hash h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(canonical.data()),
                     canonical.size(), nullptr, 0);
  return h;
}

std::array<uint8_t, kSigContext.size() + kHashBytes> sig_message(const Hash& h) {
  std::array<uint8_t, kSigContext.size() + kHashBytes> msg{};
  std::memcpy(msg.data(), kSigContext.data(), kSigContext.size());
  std::memcpy(msg.data() + kSigContext.size(), h.data(), h.size());
  return msg;
}

bool is_lower_hex(std::string_view s, size_t bytes) {
  if (s.size() != 2 * bytes) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

template <size_t N>
std::array<uint8_t, N> from_hex(std::string_view s) {
  std::array<uint8_t, N> out{};
  sodium_hex2bin(out.data(), N, s.data(), s.size(), nullptr, nullptr, nullptr);
  return out;
}

}  // namespace

std::string_view to_string(AuditDecision d) {
  switch (d) {
    case AuditDecision::kAlert:
      return "alert";
    case AuditDecision::kUpdate:
      return "update";
    case AuditDecision::kSuppressed:
      return "suppressed";
    case AuditDecision::kTrendWatch:
      return "trend_watch";
    case AuditDecision::kDuplicate:
      return "duplicate";
    case AuditDecision::kLate:
      return "late";
    case AuditDecision::kDeadLetter:
      return "dead_letter";
    case AuditDecision::kBiasReview:
      return "bias_review";
    case AuditDecision::kAck:
      return "ack";
    case AuditDecision::kFeedback:
      return "feedback";
    case AuditDecision::kAccessDenied:
      return "access_denied";
    case AuditDecision::kTokenCreated:
      return "token_created";
    case AuditDecision::kCuration:
      return "curation";
    case AuditDecision::kSettingsChange:
      return "settings_change";
  }
  return "unknown";
}

std::optional<AuditDecision> parse_audit_decision(std::string_view s) {
  for (const AuditDecision d :
       {AuditDecision::kAlert, AuditDecision::kUpdate, AuditDecision::kSuppressed,
        AuditDecision::kTrendWatch, AuditDecision::kDuplicate, AuditDecision::kLate,
        AuditDecision::kDeadLetter, AuditDecision::kBiasReview, AuditDecision::kAck,
        AuditDecision::kFeedback, AuditDecision::kAccessDenied, AuditDecision::kTokenCreated,
        AuditDecision::kCuration, AuditDecision::kSettingsChange}) {
    if (to_string(d) == s) return d;
  }
  return std::nullopt;
}

AuditWriter::AuditWriter(FileSink& sink, SecretKey key, AuditOptions options)
    : sink_(sink), key_(std::move(key)), options_(options) {
  if (options_.sign_every == 0) throw std::invalid_argument("audit: sign_every must be at least 1");
  ensure_sodium();
  public_key_ = key_.public_key();
}

AuditWriter::~AuditWriter() = default;

Status AuditWriter::append(EventTime ts, AuditDecision decision, std::string_view ref,
                           std::string_view reasons_json) {
  if (reasons_json.empty()) reasons_json = "{}";
  if (reasons_json.front() != '{' || reasons_json.back() != '}') {
    return make_error("reasons", "must be one JSON object");
  }
  // A raw newline would split the record across two JSON Lines.
  // (Two memchr scans: find_first_of calls memchr once per character.)
  if (std::memchr(reasons_json.data(), '\n', reasons_json.size()) != nullptr ||
      std::memchr(reasons_json.data(), '\r', reasons_json.size()) != nullptr) {
    return make_error("reasons", "must be on one line (no raw newline)");
  }
  const uint64_t seq = seq_ + 1;
  line_.clear();
  line_ += R"({"seq":)";
  char num[24];
  const auto conv = std::to_chars(num, num + sizeof num, seq);
  line_.append(num, conv.ptr);
  line_ += R"(,"ts":")";
  append_rfc3339(line_, ts);
  line_ += R"(","decision":")";
  line_ += to_string(decision);
  line_ += R"(","ref":)";
  JsonWriter::append_string(line_, ref);
  line_ += R"(,"reasons":)";
  line_ += reasons_json;
  line_ += R"(,"prev":")";
  line_ += head_hex_;  // the previous record's "hash" text, rendered once
  line_ += "\"}";
  const Hash h = hash_canonical(line_);
  line_.pop_back();  // reopen the object for the hash (and sig) members
  line_ += R"(,"hash":")";
  const size_t hash_at = line_.size();
  append_hex(line_, h.data(), h.size());
  line_ += '"';

  // The previous record is now known not to be the last: it keeps a sig only
  // when its seq asked for one, which emit_pending already gave it.
  if (!pending_.empty()) emit_pending(/*sign=*/false);
  seq_ = seq;
  head_ = h;
  head_hex_.assign(line_, hash_at, 2 * h.size());
  pending_.swap(line_);
  if (seq_ % options_.sign_every == 0) emit_pending(/*sign=*/true);
  return Ok{};
}

void AuditWriter::emit_pending(bool sign) {
  if (sign) {
    const auto msg = sig_message(head_);
    std::array<uint8_t, kSigBytes> sig{};
    crypto_sign_ed25519_detached(sig.data(), nullptr, msg.data(), msg.size(), key_.bytes().data());
    pending_ += R"(,"sig":")";
    append_hex(pending_, sig.data(), sig.size());
    pending_ += '"';
    ++signatures_;
  }
  pending_ += '}';
  sink_.write_line(pending_);
  pending_.clear();
}

void AuditWriter::flush() {
  if (!pending_.empty()) emit_pending(/*sign=*/true);
  sink_.flush();
}

void AuditWriter::save(ByteWriter& out) const {
  out.u32(kStateVersion);
  out.u64(seq_);
  out.raw(head_.data(), head_.size());
  out.raw(public_key_.bytes.data(), public_key_.bytes.size());
  out.str(pending_);
}

Status AuditWriter::load(ByteReader& in) {
  const uint32_t version = in.u32();
  if (in.fail()) return make_error("audit state", "truncated");
  if (version != kStateVersion) {
    return make_error("audit state", "unknown version " + std::to_string(version));
  }
  const uint64_t seq = in.u64();
  Hash head{};
  in.raw(head.data(), head.size());
  PublicKey pk;
  in.raw(pk.bytes.data(), pk.bytes.size());
  const std::string_view pending = in.str();
  if (in.fail()) return make_error("audit state", "truncated");
  if (pk != public_key_) {
    return make_error("audit state", "the checkpoint's audit log was signed with key " + pk.hex() +
                                         ", not the configured key " + public_key_.hex());
  }
  // The held-back record is the newest one: present only after a first record,
  // and missing only when it was written with its sig.
  if (!pending.empty() && (seq == 0 || pending.substr(0, 7) != R"({"seq":)")) {
    return make_error("audit state", "malformed held-back record");
  }
  seq_ = seq;
  head_ = head;
  head_hex_.clear();
  append_hex(head_hex_, head_.data(), head_.size());
  pending_.assign(pending);
  return Ok{};
}

std::string VerifyResult::to_string() const {
  if (ok) return "ok: " + std::to_string(records) + " records";
  std::string out;
  if (first_bad_line != 0) {
    out = "line " + std::to_string(first_bad_line);
    if (first_bad_seq != 0) out += " (seq " + std::to_string(first_bad_seq) + ")";
    out += ": ";
  }
  return out + reason;
}

VerifyResult verify_audit_log(const std::string& path, const PublicKey& key,
                              VerifyOptions options) {
  ensure_sodium();
  VerifyResult result;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.reason = path + ": cannot open: " + std::strerror(errno);
    return result;
  }
  auto fail = [&](uint64_t line, uint64_t seq, std::string reason) {
    result.ok = false;
    result.first_bad_line = line;
    result.first_bad_seq = seq;
    result.reason = std::move(reason);
    return result;
  };

  Hash head{};
  uint64_t last_signed = 0;  // seq of the newest record whose sig verified
  uint64_t line_no = 0;
  std::string line;
  std::string canonical;
  while (std::getline(in, line)) {
    ++line_no;
    const uint64_t expect = result.records + 1;
    if (in.eof()) return fail(line_no, expect, "last line is truncated (no newline at its end)");
    const auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object())
      return fail(line_no, expect, "not a JSON object (edited or truncated)");
    // Shape: exactly the members the writer makes, with the right types.
    auto str_member = [&](const char* k) -> const std::string* {
      const auto it = doc.find(k);
      return it != doc.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
    };
    const auto seq_it = doc.find("seq");
    if (seq_it == doc.end() || !seq_it->is_number_unsigned())
      return fail(line_no, expect, "missing or malformed \"seq\"");
    const uint64_t seq = seq_it->get<uint64_t>();
    const std::string* ts = str_member("ts");
    if (ts == nullptr || !parse_rfc3339(*ts))
      return fail(line_no, expect, "missing or malformed \"ts\"");
    const std::string* decision = str_member("decision");
    if (decision == nullptr || !parse_audit_decision(*decision)) {
      return fail(line_no, expect, "missing or unknown \"decision\"");
    }
    if (str_member("ref") == nullptr) return fail(line_no, expect, "missing or malformed \"ref\"");
    const auto reasons_it = doc.find("reasons");
    if (reasons_it == doc.end() || !reasons_it->is_object())
      return fail(line_no, expect, "missing or malformed \"reasons\"");
    const std::string* prev = str_member("prev");
    if (prev == nullptr || !is_lower_hex(*prev, kHashBytes))
      return fail(line_no, expect, "missing or malformed \"prev\"");
    const std::string* hash = str_member("hash");
    if (hash == nullptr || !is_lower_hex(*hash, kHashBytes))
      return fail(line_no, expect, "missing or malformed \"hash\"");
    const std::string* sig = str_member("sig");
    if (doc.contains("sig") && (sig == nullptr || !is_lower_hex(*sig, kSigBytes))) {
      return fail(line_no, expect, "malformed \"sig\"");
    }
    if (doc.size() != (sig != nullptr ? 8u : 7u))
      return fail(line_no, expect, "unexpected extra members");

    // Chain: seq continuity, then the link to the previous record.
    if (seq < expect) {
      return fail(line_no, expect,
                  "seq " + std::to_string(seq) + " where " + std::to_string(expect) +
                      " was expected: a record was inserted or records were reordered");
    }
    if (seq > expect) {
      return fail(line_no, expect,
                  "seq " + std::to_string(seq) + " where " + std::to_string(expect) +
                      " was expected: record(s) removed or reordered");
    }
    if (from_hex<kHashBytes>(*prev) != head) {
      return fail(
          line_no, seq,
          "\"prev\" does not match the previous record's hash: a record was removed, inserted or "
          "reordered");
    }
    // Content: the canonical form is the line minus its trailing hash/sig members.
    std::string tail = R"(,"hash":")" + *hash + '"';
    if (sig != nullptr) tail += R"(,"sig":")" + *sig + '"';
    tail += '}';
    if (line.size() < tail.size() ||
        line.compare(line.size() - tail.size(), tail.size(), tail) != 0) {
      return fail(line_no, seq,
                  "not in canonical form (edited: \"hash\"/\"sig\" are not the last members)");
    }
    canonical.assign(line, 0, line.size() - tail.size());
    canonical += '}';
    const Hash h = hash_canonical(canonical);
    if (from_hex<kHashBytes>(*hash) != h) {
      return fail(line_no, seq, "hash does not match the record's content: the record was changed");
    }
    if (sig != nullptr) {
      const auto msg = sig_message(h);
      const auto sig_bytes = from_hex<kSigBytes>(*sig);
      if (crypto_sign_ed25519_verify_detached(sig_bytes.data(), msg.data(), msg.size(),
                                              key.bytes.data()) != 0) {
        const uint64_t first = last_signed + 1;
        // In a passing prefix line number == seq, so `first` is also a line.
        std::string what = first == seq ? "the record was changed and rehashed"
                                        : "records seq " + std::to_string(first) + ".." +
                                              std::to_string(seq) + " were changed and rehashed";
        result.records = last_signed;
        return fail(first, first,
                    "signature on seq " + std::to_string(seq) + " does not verify with key " +
                        key.hex() + ": " + what + ", or the log was signed with another key");
      }
      last_signed = seq;
    } else if (options.sign_every != 0 && seq % options.sign_every == 0) {
      return fail(line_no, seq,
                  "no signature where one is due (every " + std::to_string(options.sign_every) +
                      " records): the record was inserted or its sig removed");
    }
    head = h;
    result.records = seq;
  }
  if (in.bad()) return fail(line_no + 1, result.records + 1, path + ": read error");
  if (result.records != last_signed) {
    const uint64_t last = result.records;
    result.records = last_signed;
    return fail(
        last_signed + 1, last_signed + 1,
        "records seq " + std::to_string(last_signed + 1) + ".." + std::to_string(last) +
            " are not covered by any signature: the log was truncated or its writer did not flush");
  }
  result.ok = true;
  return result;
}

}  // namespace sentinel
