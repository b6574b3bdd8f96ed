// Throughput of the CloudEvents decoder against simdjson On Demand doing the
// least any decoder must do with the same lines.
//
// Input: 200,000 generated events shaped like DESIGN.md section 2's example
// (all attributes, a `data` object of 4 fields, ~300 bytes a line), one per
// line in a single buffer padded with kJsonPadding bytes at its end.
//
//   Baseline_OnDemandPerLine   per line: ondemand::parser::iterate over the
//       line, get_object, and for every top-level field: its unescaped key,
//       and its value read by type (get_string for strings, get_double for
//       numbers, raw_json() of the `data` object, which skips it without
//       checking its contents). No validation, no interning, no hashing, no
//       time parsing: the cost of merely parsing with the same parser.
//   Baseline_OnDemandIterateMany  the same reads, over the whole buffer as
//       one iterate_many() document stream (1 MB batches).
//   Decoder_DecodePerLine      EventDecoder::decode on each line (every rule
//       of cloudevents.h, type interning, event key, time parsing, and a full
//       validation walk of `data`).
//   Decoder_DecodeBodyNdjson   EventDecoder::decode_body on the whole buffer
//       as one NDJSON body (adds line splitting and the std::function calls).
//
// Run: parse_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// and read the medians: items_per_second = events/s, bytes_per_second = input rate.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/cloudevents.h"
#include "core/time.h"

namespace {

namespace od = simdjson::ondemand;

constexpr size_t kEvents = 200'000;

struct Corpus {
  std::vector<char> buffer;  // lines joined by '\n', then kJsonPadding bytes
  std::vector<std::string_view> lines;
  size_t bytes = 0;  // without the padding
};

Corpus generate() {
  struct Kind {
    const char* source;
    const char* type;
    const char* severity;
  };
  static constexpr Kind kKinds[] = {
      {"cad", "cad.call.weapon", "violent"},
      {"cad", "cad.call.burglary", "property"},
      {"sensor", "sensor.gunshot", "violent"},
      {"sensor", "sensor.panic", "violent"},
      {"cctv", "cctv.crowd", "other"},
      {"platform", "platform.fir.theft", "property"},
      {"platform", "platform.fir.assault", "violent"},
      {"network", "network.ml_anomaly", "other"},
  };
  static constexpr const char* kNarratives[] = {
      "caller reports shots fired near the alley behind the store",
      "two males seen leaving the building with a bag",
      "crowd gathering at the intersection, growing",
      "panic button pressed at the front desk",
  };
  std::mt19937_64 rng(20260301);  // fixed seed: the same corpus every run
  std::uniform_real_distribution<double> lat(41.65, 42.02), lon(-87.93, -87.53), conf(0.3, 1.0);
  std::uniform_int_distribution<size_t> kind(0, std::size(kKinds) - 1),
      narrative(0, std::size(kNarratives) - 1);
  std::uniform_int_distribution<int> unit(100, 9999);

  Corpus c;
  std::string text;
  text.reserve(kEvents * 320);
  std::vector<size_t> starts;
  const int64_t t0 = 1772403245000;  // 2026-03-01T22:14:05Z
  char line[1024];
  for (size_t i = 0; i < kEvents; ++i) {
    const Kind& k = kKinds[kind(rng)];
    std::string time;
    sentinel::append_rfc3339(time, sentinel::event_time_from_ms(t0 + static_cast<int64_t>(i) * 37));
    const int n = std::snprintf(
        line, sizeof line,
        R"({"specversion":"1.0","id":"%s-%09zu","source":"%s","type":"%s","time":"%s",)"
        R"("lat":%.6f,"lon":%.6f,"severity":"%s","confidence":%.2f,)"
        R"("data":{"call_id":"C-2026-%07zu","unit":"%dA","beat":"%04d","narrative":"%s"}})",
        k.source, i, k.source, k.type, time.c_str(), lat(rng), lon(rng), k.severity, conf(rng), i,
        unit(rng), unit(rng), kNarratives[narrative(rng)]);
    starts.push_back(text.size());
    text.append(line, static_cast<size_t>(n));
    text.push_back('\n');
  }
  c.bytes = text.size();
  c.buffer.assign(text.begin(), text.end());
  c.buffer.resize(c.bytes + sentinel::kJsonPadding, ' ');
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t end = (i + 1 < starts.size() ? starts[i + 1] : c.bytes) - 1;  // drop '\n'
    c.lines.emplace_back(c.buffer.data() + starts[i], end - starts[i]);
  }
  return c;
}

/// The lines of a real file instead of the generated corpus, so the replay
/// benchmark (bench/replay_throughput.sh) can compare against parsing the
/// very file it replays.
Corpus load(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(path) + ": cannot open");
  Corpus c;
  c.buffer.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  c.bytes = c.buffer.size();
  c.buffer.resize(c.bytes + sentinel::kJsonPadding, ' ');
  size_t start = 0;
  for (size_t i = 0; i < c.bytes; ++i) {
    if (c.buffer[i] == '\n') {
      if (i > start) c.lines.emplace_back(c.buffer.data() + start, i - start);
      start = i + 1;
    }
  }
  if (start < c.bytes) c.lines.emplace_back(c.buffer.data() + start, c.bytes - start);
  return c;
}

const Corpus& corpus() {
  static const Corpus c = std::getenv("SENTINEL_PARSE_FILE") ? load(std::getenv("SENTINEL_PARSE_FILE")) : generate();
  return c;
}

// The baseline's reads of one object; the sums keep the compiler from eliding them.
bool touch_all(od::object& obj, double& sum, size_t& chars) {
  for (auto fr : obj) {
    // value_unsafe() after the error check, as the decoder does: moving the
    // field out of its simdjson_result costs a store-forwarding stall.
    if (fr.error()) return false;
    od::field& f = fr.value_unsafe();
    std::string_view key;
    if (f.unescaped_key().get(key)) return false;
    od::value& v = f.value();
    od::json_type t;
    if (v.type().get(t)) return false;
    if (t == od::json_type::string) {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      chars += s.size();
    } else if (t == od::json_type::number) {
      double d;
      if (v.get_double().get(d)) return false;
      sum += d;
    } else if (t == od::json_type::object) {
      od::object data;
      std::string_view raw;
      if (v.get_object().get(data) || data.raw_json().get(raw)) return false;
      chars += raw.size();
    }
  }
  return true;
}

void set_rates(benchmark::State& state, const Corpus& c) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.lines.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bytes));
}

void Baseline_OnDemandPerLine(benchmark::State& state) {
  const Corpus& c = corpus();
  od::parser parser;
  for (auto _ : state) {
    double sum = 0;
    size_t chars = 0, bad = 0;
    for (std::string_view line : c.lines) {
      od::document doc;
      od::object obj;
      if (parser
              .iterate(simdjson::padded_string_view(line.data(), line.size(),
                                                    line.size() + sentinel::kJsonPadding))
              .get(doc) ||
          doc.get_object().get(obj) || !touch_all(obj, sum, chars)) {
        ++bad;
      }
    }
    // A real file may hold malformed lines (the replay benchmark's does, on purpose).
    if (bad != 0 && !std::getenv("SENTINEL_PARSE_FILE")) state.SkipWithError("baseline failed to parse a line");
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(chars);
  }
  set_rates(state, c);
}
BENCHMARK(Baseline_OnDemandPerLine)->Unit(benchmark::kMillisecond);

void Baseline_OnDemandIterateMany(benchmark::State& state) {
  const Corpus& c = corpus();
  od::parser parser;
  for (auto _ : state) {
    double sum = 0;
    size_t chars = 0, bad = 0, docs = 0;
    od::document_stream stream;
    if (parser.iterate_many(c.buffer.data(), c.bytes, 1 << 20).get(stream)) {
      state.SkipWithError("iterate_many failed");
      break;
    }
    for (auto dr : stream) {
      od::document_reference doc;
      od::object obj;
      if (std::move(dr).get(doc) || doc.get_object().get(obj) || !touch_all(obj, sum, chars)) ++bad;
      ++docs;
    }
    if (bad != 0 || docs != c.lines.size()) state.SkipWithError("baseline failed to parse a line");
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(chars);
  }
  set_rates(state, c);
}
BENCHMARK(Baseline_OnDemandIterateMany)->Unit(benchmark::kMillisecond);

void Decoder_DecodePerLine(benchmark::State& state) {
  const Corpus& c = corpus();
  sentinel::Interner sources, types;
  sentinel::EventDecoder decoder(sentinel::DecoderOptions{}, sources, types);
  sentinel::Event ev;
  for (auto _ : state) {
    size_t bad = 0;
    uint64_t keys = 0;
    for (std::string_view line : c.lines) {
      if (!decoder.decode(line, ev).ok()) ++bad;
      keys ^= ev.key.lo;
    }
    if (bad != 0 && !std::getenv("SENTINEL_PARSE_FILE")) state.SkipWithError("decoder rejected a line");
    benchmark::DoNotOptimize(keys);
  }
  set_rates(state, c);
}
BENCHMARK(Decoder_DecodePerLine)->Unit(benchmark::kMillisecond);

void Decoder_DecodeBodyNdjson(benchmark::State& state) {
  const Corpus& c = corpus();
  sentinel::Interner sources, types;
  sentinel::EventDecoder decoder(sentinel::DecoderOptions{}, sources, types);
  const std::string_view body(c.buffer.data(), c.bytes);
  for (auto _ : state) {
    size_t good = 0, bad = 0;
    decoder.decode_body(
        body, [&](sentinel::Event&) { ++good; },
        [&](uint64_t, uint64_t, const sentinel::Error&) { ++bad; });
    if (bad != 0 || good != c.lines.size()) state.SkipWithError("decoder rejected a line");
  }
  set_rates(state, c);
}
BENCHMARK(Decoder_DecodeBodyNdjson)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
