// Audit log cost per decision record (DESIGN.md section 5, issue 3): the
// pipeline must write one record per decision at 500k decisions/s, and
// per-record Ed25519 signing may not keep up, hence sign_every.
//
//   build/release/bench/audit_bench [--benchmark_filter=...] [--benchmark_repetitions=5]
//
// BM_AuditAppend/<sign_every>: AuditWriter::append into a FileSink on local
// disk (the file is restarted every kRestartEvery records, outside the timing,
// so the benchmark does not fill the disk); items/s is records/s.
// BM_Ed25519Sign and BM_Blake2b256 are the two primitives it is made of;
// BM_Verify/<sign_every> is `sentinel audit verify` on a 20,000-record log.
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "alerts/audit_log.h"
#include "core/keys.h"
#include "core/json_writer.h"

namespace sentinel {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kRestartEvery = 1 << 16;

// One key pair for the whole process, in a scratch directory removed at exit.
struct BenchKeys {
  BenchKeys() {
    dir = (fs::temp_directory_path() / ("sentinel-audit-bench-" + std::to_string(::getpid())))
              .string();
    fs::remove_all(dir);
    const KeyPairPaths p = generate_keypair(dir + "/keys");
    secret_path = p.secret_path;
    public_key = load_public_key(p.public_path);
  }
  ~BenchKeys() { fs::remove_all(dir); }
  std::string dir;
  std::string secret_path;
  PublicKey public_key;
};

BenchKeys& keys() {
  static BenchKeys k;
  return k;
}

// A typical alert decision's reasons (score terms), as the pipeline writes them.
std::string sample_reasons() {
  std::string r;
  JsonWriter j(r);
  j.begin_object()
      .member("type", "correlation")
      .member("priority", "P1")
      .member("score", 0.78)
      .key("terms")
      .begin_object()
      .member("threat_severity", 1.0)
      .member("model_confidence", 0.83)
      .member("corroboration", 0.5)
      .member("temporal_urgency", 0.97)
      .member("spatial_sensitivity", 0.0)
      .member("boost", 0.15)
      .end_object()
      .end_object();
  return r;
}

void BM_AuditAppend(benchmark::State& state) {
  const auto sign_every = static_cast<uint32_t>(state.range(0));
  const std::string path = keys().dir + "/append.jsonl";
  const std::string reasons = sample_reasons();
  auto sink = std::make_unique<FileSink>(path, 0);
  auto writer = std::make_unique<AuditWriter>(*sink, load_secret_key(keys().secret_path),
                                              AuditOptions{sign_every});
  uint64_t n = 0;
  std::string ref = "a-0000000000";
  for (auto _ : state) {
    ref.replace(2, std::string::npos, std::to_string(n));
    const Status s = writer->append(event_time_from_ms(1'772'400'000'000 + static_cast<int64_t>(n)),
                                    AuditDecision::kAlert, ref, reasons);
    benchmark::DoNotOptimize(s);
    if (++n % kRestartEvery == 0) {
      state.PauseTiming();
      ByteWriter saved;
      writer->save(saved);
      sink->flush();
      writer.reset();
      sink = std::make_unique<FileSink>(path, 0);
      writer = std::make_unique<AuditWriter>(*sink, load_secret_key(keys().secret_path),
                                             AuditOptions{sign_every});
      ByteReader in(saved.buffer());
      if (!writer->load(in).ok()) state.SkipWithError("reload failed");
      state.ResumeTiming();
    }
  }
  writer->flush();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AuditAppend)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_Ed25519Sign(benchmark::State& state) {
  const SecretKey sk = load_secret_key(keys().secret_path);
  unsigned char msg[50] = {};
  unsigned char sig[crypto_sign_ed25519_BYTES];
  for (auto _ : state) {
    crypto_sign_ed25519_detached(sig, nullptr, msg, sizeof msg, sk.bytes().data());
    benchmark::DoNotOptimize(sig);
    ++msg[0];
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Sign)->Unit(benchmark::kMicrosecond);

void BM_Blake2b256(benchmark::State& state) {
  // About the length of one canonical record.
  std::string line(static_cast<size_t>(state.range(0)), 'x');
  unsigned char h[32];
  for (auto _ : state) {
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(line.data()),
                       line.size(), nullptr, 0);
    benchmark::DoNotOptimize(h);
    ++line[0];
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Blake2b256)->Arg(320)->Unit(benchmark::kMicrosecond);

void BM_Verify(benchmark::State& state) {
  const auto sign_every = static_cast<uint32_t>(state.range(0));
  const std::string path = keys().dir + "/verify-" + std::to_string(sign_every) + ".jsonl";
  constexpr uint64_t kRecords = 20'000;
  {
    FileSink sink(path, 0);
    AuditWriter w(sink, load_secret_key(keys().secret_path), AuditOptions{sign_every});
    const std::string reasons = sample_reasons();
    for (uint64_t i = 0; i < kRecords; ++i) {
      if (!w.append(event_time_from_ms(static_cast<int64_t>(i)), AuditDecision::kAlert,
                    "a-" + std::to_string(i), reasons)
               .ok()) {
        state.SkipWithError("append failed");
        return;
      }
    }
    w.flush();
  }
  for (auto _ : state) {
    const VerifyResult r = verify_audit_log(path, keys().public_key);
    if (!r.ok) state.SkipWithError(r.to_string().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kRecords));
}
BENCHMARK(BM_Verify)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sentinel

BENCHMARK_MAIN();
