#include "pipeline/pipeline.h"

#include <absl/container/flat_hash_map.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "alerts/audit_log.h"
#include "core/keys.h"
#include "alerts/score.h"
#include "core/cloudevents.h"
#include "core/interner.h"
#include "core/json_writer.h"
#include "core/metrics.h"
#include "detect/enrichment.h"
#include "detect/geofence.h"
#include "pipeline/alerting.h"
#include "stream/bytes.h"
#include "stream/checkpoint_store.h"
#include "stream/dedup.h"
#include "stream/engine.h"
#include "stream/file_sink.h"
#include "stream/watermark.h"

namespace sentinel {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kCheckpointVersion = 2;
constexpr size_t kRawBytesInDeadLetter = 512;
/// Expired dedup keys are swept at most every quarter horizon of event time
/// (6 h for the default 24 h): each sweep scans the whole set, so keys live
/// between one and 1.25 horizons, and the sweep costs little per event.
constexpr int64_t kDedupSweepsPerHorizon = 4;

/// splitmix64's finaliser: spreads neighbouring cell ids over the shards.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

/// Parent of an S2 cell id at `level`. S2 encodes a cell's level in the
/// position of its lowest set bit, so the parent is a mask away; this keeps
/// S2's headers out of the pipeline, which only needs it to re-partition
/// restored window state.
uint64_t parent_cell(uint64_t id, int level) {
  const uint64_t lsb = 1ull << (2 * (30 - level));
  return (id & (~lsb + 1)) | lsb;
}

/// The enrichment stage on a shard: one call per batch, cheap-only while the
/// latency circuit breaker is open.
class EnrichStage final : public BatchStage {
 public:
  EnrichStage(const Enricher& enricher, const std::atomic<bool>& breaker, std::atomic<uint64_t>& degraded)
      : enricher_(enricher), breaker_(breaker), degraded_(degraded) {}
  std::string_view name() const override { return "enrich"; }
  void process(std::span<Event> events) override {
    const bool cheap = breaker_.load(std::memory_order_relaxed);
    enricher_.enrich_batch(events, cheap);
    if (cheap) degraded_.fetch_add(events.size(), std::memory_order_relaxed);
  }

 private:
  const Enricher& enricher_;
  const std::atomic<bool>& breaker_;
  std::atomic<uint64_t>& degraded_;
};

int resolve_shards(int requested) {
  if (requested > 0) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

}  // namespace

/// Per-shard latency bookkeeping: stage histograms for /metrics and the
/// circuit breaker's guard over end-to-end latency. Written only by the
/// shard's thread (the guard is not thread-safe); `breaker` is read by the
/// shard's enrichment stage and by /metrics.
struct ShardLatency {
  std::vector<LatencyHistogram*> stages;  // enrich, windows (end to end)
  std::unique_ptr<LatencyGuard> guard;
  std::atomic<bool> breaker{false};
  std::atomic<bool> warning{false};
  std::atomic<int64_t> p95_ns{0};
};

struct Pipeline::Impl {
  Config config;
  PipelineOptions options;
  PipelineCounters counters;
  Interner sources, types;
  std::unique_ptr<Enricher> enricher;
  std::unique_ptr<EventDecoder> decoder;
  WatermarkTracker watermarks;
  DedupSet dedup;
  std::unique_ptr<ShardedEngine> engine;
  std::unique_ptr<CheckpointStore> store;
  /// Makes the sinks' write() calls on its own thread; declared before the
  /// sinks so that it outlives them (their destructors flush through it).
  std::unique_ptr<SinkWriter> sink_writer = std::make_unique<SinkWriter>();
  std::unique_ptr<FileSink> windows_out, dead_out, late_out, audit_out, alerts_out;
  // The audit log is written by the merger thread only, in epoch order: the
  // ingest thread's decisions (dead letters, late events, duplicates) of an
  // epoch first, in input order, then the alert decisions of that epoch.
  std::unique_ptr<AuditWriter> audit;
  std::optional<SecretKey> audit_key;  // loaded at start-up; moved into the writer
  std::string audit_reasons;           // ingest thread scratch

  std::unique_ptr<detect::GeofenceIndex> geofences;
  std::unique_ptr<AlertRules> alert_rules;
  std::unique_ptr<AlertStage> alerts;  // merger thread
  AlertCounters alert_counters;
  LatencyHistogram* event_to_alert = nullptr;

  /// Opens DIR/audit.jsonl cut to `length` and the writer that continues its chain.
  void open_audit(uint64_t length) {
    audit_out = std::make_unique<FileSink>((fs::path(options.out_dir) / "audit.jsonl").string(), length,
                                           sink_writer.get());
    AuditOptions ao;
    ao.sign_every = config.audit.sign_every;
    audit = std::make_unique<AuditWriter>(*audit_out, std::move(*audit_key), ao);
  }

  /// An audit record decided on the ingest thread, waiting for its epoch.
  struct PendingAudit {
    EventTime ts;
    AuditDecision decision;
    std::string ref, reasons;
  };
  /// What the ingest thread hands the merger for one epoch.
  struct EpochIngest {
    std::vector<PendingAudit> audit;
    EventTime now = kMinEventTime;  ///< the time alert scores are taken at
    std::string snapshot;           ///< ingest state, when the epoch checkpoints
  };
  std::vector<PendingAudit> pending_audit;  // ingest thread: the open epoch's records
  std::function<std::vector<ResumePoint>()> positions;
  // The texts the open block of each input points into: all of them stay
  // held by every batch until the input moves to its next block (a block's
  // lines may point into several texts; keeping only the newest let events
  // of a batch opened after a marker point into freed text).
  std::map<size_t, std::vector<std::shared_ptr<const std::string>>> held;

  uint64_t epoch = 0;
  uint64_t accepted_since_clock = 0;
  ProcTime clock;
  uint64_t lines_in_batch = 0;
  int64_t last_dedup_expiry_ms = to_ms(kMinEventTime);
  std::chrono::steady_clock::time_point last_checkpoint = std::chrono::steady_clock::now();
  bool finished = false;
  bool drained = false;

  // Per-epoch ingest results waiting for the epoch's window results (ingest
  // thread writes, merger thread reads).
  std::mutex epochs_mutex;
  std::map<uint64_t, EpochIngest> epoch_ingest;

  MetricsRegistry registry;
  std::vector<std::unique_ptr<ShardLatency>> latency;

  /// The last time rendered, as text: a shard's records of an epoch are
  /// sorted by end, and most of them share their start and end with the
  /// record before.
  struct TimeText {
    EventTime time = kMinEventTime;
    std::string text = format_rfc3339(kMinEventTime);
    std::string_view get(EventTime t) {
      if (t != time) {
        time = t;
        text.clear();
        append_rfc3339(text, t);
      }
      return text;
    }
  };
  /// One shard's rendering caches (used only on that shard's thread).
  struct WindowRenderer {
    static constexpr size_t kMaxCachedKeys = 1 << 20;
    absl::flat_hash_map<WindowKey, std::string> key_text;
    TimeText start_text, end_text;
  };
  /// One shard's window results of one epoch, in output order, rendered as
  /// windows.jsonl lines on the shard's thread (the merger only merges them).
  struct RenderedWindows final : StageOutput {
    std::string text;           ///< the lines, each with its newline
    std::vector<uint32_t> ends; ///< where each record's line ends in `text`
  };
  /// One shard's rendering state: caches used only on the shard's thread,
  /// and the buffers the merger hands back once written (a fresh megabyte
  /// per epoch would cost a page fault per 4 KiB). A shard runs up to
  /// pipeline.queue_batches epochs ahead of the merger, so that many are kept.
  struct ShardRendering {
    WindowRenderer cache;
    std::mutex spare_mutex;
    std::vector<std::unique_ptr<RenderedWindows>> spare;  // guarded by spare_mutex
  };
  std::vector<std::unique_ptr<ShardRendering>> renderers;  // by shard
  std::vector<WindowRecord> ml_records;  // merger thread: the merged epoch's tumbling results

  mutable std::mutex highlight_mutex;
  std::string highlight;
  std::string scratch;

  Impl(const Config& c, PipelineOptions o)
      : config(c),
        options(std::move(o)),
        watermarks(c.watermark.max_out_of_orderness, c.windows.allowed_lateness,
                   c.watermark.idle_timeout),
        dedup(c.ingest.dedup_horizon) {}

  int route(uint64_t coarse) const {
    return static_cast<int>(mix(coarse) % static_cast<uint64_t>(engine->shard_count()));
  }

  std::string input_name(size_t input) const {
    return input < options.inputs.size() ? options.inputs[input] : "?";
  }

  // ---- latency and the circuit breaker (shard threads) ---------------------
  void observe(int shard, size_t stage, ProcTime now, std::span<const Event> events) {
    ShardLatency& l = *latency[static_cast<size_t>(shard)];
    LatencyHistogram& h = *l.stages[std::min(stage, l.stages.size() - 1)];
    const bool end_to_end = stage + 1 == l.stages.size();
    for (const Event& e : events) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - e.ingest_time);
      h.record(ns);
      if (end_to_end) l.guard->record(ns, now);
    }
    if (!end_to_end) return;
    const auto transition = l.guard->evaluate(now);
    l.p95_ns.store(l.guard->last_p95().count(), std::memory_order_relaxed);
    const double p95_s = static_cast<double>(l.guard->last_p95().count()) / 1e9;
    switch (transition) {
      case LatencyGuard::Transition::kNone: break;
      case LatencyGuard::Transition::kWarningRaised:
        l.warning = true;
        spdlog::warn("shard {}: end-to-end p95 {:.2f} s is over latency.warn_p95 ({}) of the {} budget", shard,
                     p95_s, format_duration(config.latency.warn_p95), format_duration(config.latency.budget));
        break;
      case LatencyGuard::Transition::kWarningCleared:
        l.warning = false;
        spdlog::info("shard {}: end-to-end p95 {:.2f} s is back under latency.warn_p95", shard, p95_s);
        break;
      case LatencyGuard::Transition::kBreakerOpened:
        l.warning = true;
        l.breaker = true;
        spdlog::warn("shard {}: end-to-end p95 {:.2f} s is over latency.breaker_p95 ({}): bypassing district and "
                     "sensitive-site lookups; events are marked degraded", shard, p95_s,
                     format_duration(config.latency.breaker_p95));
        break;
      case LatencyGuard::Transition::kBreakerClosed:
        l.warning = false;
        l.breaker = false;
        spdlog::info("shard {}: end-to-end p95 {:.2f} s recovered: full enrichment again", shard, p95_s);
        break;
    }
  }

  // ---- audit (ingest thread) -----------------------------------------------
  /// Event time stamped on an audit record that has no event time of its
  /// own (a dead letter): the input's watermark, or the epoch before any.
  EventTime audit_time(size_t input) const {
    const EventTime wm = input < watermarks.source_count() ? watermarks.source_watermark(input) : kMinEventTime;
    return wm == kMinEventTime ? event_time_from_ms(0) : wm;
  }

  /// Queues an ingest-side decision (with audit_reasons) for the open epoch.
  void audit_record(EventTime ts, AuditDecision decision, std::string_view ref) {
    if (!audit_key && !audit) return;
    pending_audit.push_back(PendingAudit{ts, decision, std::string(ref), audit_reasons});
  }

  /// Merger thread: appends one record to the chain.
  void append_audit(EventTime ts, AuditDecision decision, std::string_view ref, std::string_view reasons) {
    if (!audit) return;
    const Status st = audit->append(ts, decision, ref, reasons);
    if (!st.ok()) {
      spdlog::error("audit: cannot record {} {}: {}", to_string(decision), ref, st.error().to_string());
      return;
    }
    if (options.on_alert_audit && ref.starts_with("a-")) {
      options.on_alert_audit(AuditEntry{audit->records(), ts, decision, ref, reasons});
    }
  }

  // ---- outputs -----------------------------------------------------------
  void write_dead_letter(size_t input, uint64_t line, uint64_t offset, std::string_view reason,
                         std::string_view raw) {
    scratch.clear();
    JsonWriter w(scratch);
    w.begin_object()
        .member("input", input_name(input))
        .member("line", line)
        .member("offset", offset)
        .member("reason", reason)
        .member("raw", raw.substr(0, kRawBytesInDeadLetter))
        .end_object();
    dead_out->write_line(scratch);
    counters.dead_letters.fetch_add(1, std::memory_order_relaxed);
    if (audit) {
      audit_reasons.clear();
      JsonWriter r(audit_reasons);
      r.begin_object().member("input", input_name(input)).member("line", line).member("offset", offset);
      r.member("reason", reason).end_object();
      audit_record(audit_time(input), AuditDecision::kDeadLetter, input_name(input) + ":" + std::to_string(line));
    }
  }

  void write_late(size_t input, const Event& e, std::string_view raw) {
    const EventTime wm = watermarks.source_watermark(input);
    scratch.clear();
    JsonWriter w(scratch);
    w.begin_object()
        .member("input", input_name(input))
        .member("line", e.where.line)
        .member("offset", e.where.byte_offset)
        .member("id", e.id)
        .member("source", sources.name(e.source))
        .member("type", types.name(e.type))
        .member("time", format_rfc3339(e.time))
        .member("source_watermark", format_rfc3339(wm))
        .member("reason", "older than the source watermark minus windows.allowed_lateness (" +
                              format_duration(config.windows.allowed_lateness) + ") by " +
                              format_duration(Millis(to_ms(wm) - config.windows.allowed_lateness.count() - to_ms(e.time))))
;
    if (!raw.empty()) w.key("event").raw(raw);
    w.end_object();
    late_out->write_line(scratch);
    counters.late.fetch_add(1, std::memory_order_relaxed);
    if (audit) {
      audit_reasons.clear();
      JsonWriter r(audit_reasons);
      r.begin_object().member("source", sources.name(e.source)).member("type", types.name(e.type));
      r.member("source_watermark", format_rfc3339(wm));
      r.member("allowed_lateness", format_duration(config.windows.allowed_lateness)).end_object();
      audit_record(e.time, AuditDecision::kLate, e.id);
    }
  }

  void render_window(const WindowRecord& r, std::string& out) const {
    JsonWriter w(out);
    const std::string_view category = types.name(r.key.category);
    w.begin_object().member("kind", window_kind_name(r.kind));
    w.member("start", format_rfc3339(r.start)).member("end", format_rfc3339(r.end));
    if (r.kind == WindowKind::kGlobal) {
      const auto& names = enricher->district_names();
      const std::string district =
          r.district >= 0 && static_cast<size_t>(r.district) < names.size() ? names[static_cast<size_t>(r.district)] : "";
      w.member("key", district + "/" + std::string(category));
      w.member("district", district);
    } else {
      const std::string cell = Enricher::cell_token(r.key.cell);
      w.member("key", cell + "/" + std::string(category));
      w.member("cell", cell);
    }
    w.member("category", category).member("count", r.count).member("revision", r.revision);
    if (r.retracted) w.member("retracted", true);
    w.end_object();
  }

  /// The shards' fast path for cell windows: the same bytes as
  /// render_window() plus the line's newline, with each key's "key", "cell"
  /// and "category" members rendered once and reused, and the line written
  /// in one piece (std::string::append per fragment was most of the cost).
  /// Cell tokens are hex and type names are [a-z0-9_.-] (the decoder
  /// enforces it), so nothing needs escaping.
  void render_cell_window_line(WindowRenderer& cache, const WindowRecord& r, std::string& out) const {
    if (cache.key_text.size() > WindowRenderer::kMaxCachedKeys) cache.key_text.clear();
    auto [it, created] = cache.key_text.try_emplace(r.key);
    if (created) {
      const std::string cell = Enricher::cell_token(r.key.cell);
      const std::string_view category = types.name(r.key.category);
      it->second = fmt::format(R"("key":"{0}/{1}","cell":"{0}","category":"{1}")", cell, category);
    }
    static constexpr std::string_view kKind = R"({"kind":")";
    static constexpr std::string_view kStart = R"(","start":")";
    static constexpr std::string_view kEnd = R"(","end":")";
    static constexpr std::string_view kKey = "\",";
    static constexpr std::string_view kCount = R"(,"count":)";
    static constexpr std::string_view kRevision = R"(,"revision":)";
    static constexpr std::string_view kRetracted = R"(,"retracted":true)";
    const std::string_view kind = window_kind_name(r.kind);
    const std::string_view start = cache.start_text.get(r.start);
    const std::string_view end = cache.end_text.get(r.end);
    const std::string_view key = it->second;
    const fmt::format_int count(r.count);
    const fmt::format_int revision(r.revision);
    const size_t size = kKind.size() + kind.size() + kStart.size() + start.size() + kEnd.size() + end.size() +
                        kKey.size() + key.size() + kCount.size() + count.size() + kRevision.size() +
                        revision.size() + (r.retracted ? kRetracted.size() : 0) + 2;
    const size_t at = out.size();
    out.resize(at + size);
    char* d = out.data() + at;
    const auto put = [&d](std::string_view part) {
      std::memcpy(d, part.data(), part.size());
      d += part.size();
    };
    put(kKind);
    put(kind);
    put(kStart);
    put(start);
    put(kEnd);
    put(end);
    put(kKey);
    put(key);
    put(kCount);
    put(std::string_view(count.data(), count.size()));
    put(kRevision);
    put(std::string_view(revision.data(), revision.size()));
    if (r.retracted) put(kRetracted);
    *d++ = '}';
    *d = '\n';
  }

  bool record_less(const WindowRecord& a, const WindowRecord& b) const {
    if (a.end != b.end) return a.end < b.end;
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.start != b.start) return a.start < b.start;
    if (a.key.cell != b.key.cell) return a.key.cell < b.key.cell;
    if (a.key.category != b.key.category) {
      return types.name(a.key.category) < types.name(b.key.category);
    }
    if (a.district != b.district) return a.district < b.district;
    if (a.revision != b.revision) return a.revision < b.revision;
    return a.retracted < b.retracted;
  }

  // ---- shard threads -----------------------------------------------------
  /// A shard's part of windows.jsonl for one epoch: its results sorted in
  /// output order and rendered, so the merger only merges sorted runs.
  std::unique_ptr<StageOutput> render_shard(int shard, std::vector<WindowRecord>& records) const {
    std::sort(records.begin(), records.end(),
              [this](const WindowRecord& a, const WindowRecord& b) { return record_less(a, b); });
    ShardRendering& rendering = *renderers[static_cast<size_t>(shard)];
    std::unique_ptr<RenderedWindows> out;
    {
      std::lock_guard lock(rendering.spare_mutex);
      if (!rendering.spare.empty()) {
        out = std::move(rendering.spare.back());
        rendering.spare.pop_back();
      }
    }
    if (!out) out = std::make_unique<RenderedWindows>();
    out->text.clear();
    out->ends.clear();
    out->ends.reserve(records.size());
    WindowRenderer& cache = rendering.cache;
    for (const WindowRecord& r : records) {
      if (r.kind == WindowKind::kGlobal) {
        render_window(r, out->text);
        out->text += '\n';
      } else {
        render_cell_window_line(cache, r, out->text);
      }
      out->ends.push_back(static_cast<uint32_t>(out->text.size()));
    }
    return out;
  }

  // ---- merger thread -----------------------------------------------------
  /// Writes the epoch's windows.jsonl lines: every shard's run is sorted
  /// (record_less) and keys belong to one shard each, so merging the runs
  /// gives the same bytes as sorting all results together. With several
  /// shards, leaves in `ml_records` the tumbling results in output order
  /// (all the alert stage reads). Returns the busiest tumbling window, if any.
  const WindowRecord* write_windows(const EpochOutput& out) {
    const size_t n = out.shard_results.size();
    std::vector<const RenderedWindows*> parts(n);
    for (size_t i = 0; i < n; ++i) parts[i] = static_cast<const RenderedWindows*>(out.shard_results[i].get());
    const WindowRecord* top = nullptr;
    ml_records.clear();
    auto visit = [&](const WindowRecord& r) {
      if (r.kind != WindowKind::kTumbling) return;
      if (top == nullptr || r.count > top->count) top = &r;
      if (!r.retracted && n > 1) ml_records.push_back(r);
    };
    if (n == 1) {
      for (const WindowRecord& r : out.records) visit(r);
      windows_out->write(parts[0]->text, out.records.size());
      return top;
    }
    // Heads of the runs: next[i] is shard i's next record, ends at shard_ends[i].
    std::vector<size_t> next(n), line_start(n, 0);
    for (size_t i = 0; i < n; ++i) next[i] = i == 0 ? 0 : out.shard_ends[i - 1];
    size_t run_shard = n, run_from = 0, run_to = 0, run_lines = 0;
    auto write_run = [&] {
      if (run_shard < n) {
        const std::string_view text = parts[run_shard]->text;
        windows_out->write(text.substr(run_from, run_to - run_from), run_lines);
      }
    };
    for (;;) {
      size_t best = n;
      for (size_t i = 0; i < n; ++i) {
        if (next[i] == out.shard_ends[i]) continue;
        if (best == n || record_less(out.records[next[i]], out.records[next[best]])) best = i;
      }
      if (best == n) break;
      const WindowRecord& r = out.records[next[best]];
      visit(r);
      const size_t local = next[best] - (best == 0 ? 0 : out.shard_ends[best - 1]);
      const size_t from = line_start[best];
      const size_t to = parts[best]->ends[local];
      if (best != run_shard) {
        write_run();
        run_shard = best;
        run_from = from;
        run_lines = 0;
      }
      run_to = to;
      ++run_lines;
      line_start[best] = to;
      ++next[best];
    }
    write_run();
    return top;
  }

  void on_epoch(EpochOutput& out) {
    const WindowRecord* top = write_windows(out);
    counters.windows.fetch_add(out.records.size(), std::memory_order_relaxed);
    counters.epochs.fetch_add(1, std::memory_order_relaxed);
    if (out.watermark != kMaxEventTime) {
      counters.watermark_ms.store(to_ms(out.watermark), std::memory_order_relaxed);
    }
    if (top != nullptr && top->count >= 3) {
      std::string h = "busiest 5-min cell " + Enricher::cell_token(top->key.cell) + " " +
                      std::string(types.name(top->key.category)) + " x" + std::to_string(top->count) +
                      " at " + format_rfc3339(top->start);
      std::lock_guard lock(highlight_mutex);
      highlight = std::move(h);
    }
    EpochIngest ingest;
    {
      std::lock_guard lock(epochs_mutex);
      auto it = epoch_ingest.find(out.epoch);
      if (it != epoch_ingest.end()) {
        ingest = std::move(it->second);
        epoch_ingest.erase(epoch_ingest.begin(), std::next(it));
      }
    }
    for (const PendingAudit& a : ingest.audit) append_audit(a.ts, a.decision, a.ref, a.reasons);
    // One shard: its records are already in output order.
    const std::span<const WindowRecord> ordered =
        out.shard_results.size() == 1 ? std::span<const WindowRecord>(out.records) : ml_records;
    alerts->process(out.stage_outputs, ordered, ingest.now, out.watermark);
    if (out.checkpoint) write_checkpoint(out, ingest.snapshot);
    // The rendered buffers go back to their shards for the next epochs.
    for (size_t i = 0; i < out.shard_results.size() && i < renderers.size(); ++i) {
      if (!out.shard_results[i]) continue;
      // render_shard is the engine's only hook: every result is a RenderedWindows.
      std::unique_ptr<RenderedWindows> back(static_cast<RenderedWindows*>(out.shard_results[i].release()));
      ShardRendering& r = *renderers[i];
      std::lock_guard lock(r.spare_mutex);
      if (r.spare.size() <= config.pipeline.queue_batches) r.spare.push_back(std::move(back));
    }
  }

  void write_checkpoint(EpochOutput& out, const std::string& ingest) {
    if (!store || ingest.empty()) return;
    ByteWriter w;
    w.u32(kCheckpointVersion);
    w.str(ingest);
    w.u64(windows_out->flush());
    w.u64(alerts_out->flush());
    w.u8(audit ? 1 : 0);
    if (audit) {
      w.u64(audit_out->flush());
      audit->save(w);
    }
    {
      ByteWriter a;
      alerts->save(a);
      w.str(a.buffer());
    }
    w.u64(out.shard_states.size());
    for (const std::string& s : out.shard_states) w.str(s);
    windows_out->sync();
    store->write(out.epoch, w.buffer());
    counters.checkpoints.fetch_add(1, std::memory_order_relaxed);
  }

  // ---- ingest thread -----------------------------------------------------
  std::string ingest_snapshot() {
    ByteWriter w;
    w.u64(options.inputs.size());
    for (const std::string& in : options.inputs) w.str(in);
    const std::vector<ResumePoint> pos = positions ? positions() : std::vector<ResumePoint>{};
    w.u64(pos.size());
    for (const ResumePoint& p : pos) {
      w.u64(p.offset);
      w.u64(p.line);
    }
    w.u64(epoch);
    w.u64(lines_in_batch);
    w.i64(last_dedup_expiry_ms);
    for (const Interner* in : {&sources, &types}) {
      const auto names = in->names();
      w.u64(names.size());
      for (const auto& n : names) w.str(n);
    }
    watermarks.save(w);
    dedup.save(w);
    w.u64(dead_out->flush());
    w.u64(late_out->flush());
    for (const auto* c : {&counters.lines, &counters.events, &counters.dead_letters, &counters.late,
                          &counters.duplicates}) {
      w.u64(c->load());
    }
    return w.take();
  }

  /// "now" for the priority score: the wall clock live; in replay the
  /// watermark, but never past the newest event read (the final watermark is
  /// the end of time), so a replay is deterministic.
  EventTime alert_now(EventTime watermark) const {
    if (options.live && !options.event_time_scores) {
      return event_time_from_ms(
          std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count());
    }
    // Events are scored at their own read watermark (alerting.h); this is
    // what closed windows are scored at and event-time state moves by.
    return std::min(watermark, watermarks.max_event_time());
  }

  void emit(bool final_marker) {
    Marker m;
    m.epoch = ++epoch;
    m.watermark = final_marker ? kMaxEventTime
                  : options.live ? watermarks.combined(std::chrono::steady_clock::now())
                                 : watermarks.combined();
    const auto now = std::chrono::steady_clock::now();
    m.checkpoint = options.checkpoint_dir.has_value() &&
                   (final_marker || now - last_checkpoint >= config.checkpoint.interval);
    if (m.watermark != kMinEventTime && m.watermark != kMaxEventTime &&
        to_ms(m.watermark) - last_dedup_expiry_ms >= config.ingest.dedup_horizon.count() / kDedupSweepsPerHorizon) {
      dedup.expire(m.watermark);
      last_dedup_expiry_ms = to_ms(m.watermark);
    }
    lines_in_batch = 0;
    accepted_since_clock = 0;  // the next accepted event reads the clock afresh
    EpochIngest handed;
    handed.audit = std::move(pending_audit);
    pending_audit.clear();
    handed.now = alert_now(m.watermark);
    if (m.checkpoint) {
      last_checkpoint = now;
      handed.snapshot = ingest_snapshot();
    }
    {
      std::lock_guard lock(epochs_mutex);
      epoch_ingest[m.epoch] = std::move(handed);
    }
    engine->emit_marker(m);
    for (const auto& [input, texts] : held) {
      for (const auto& text : texts) engine->hold_text(text);
    }
    if (options.live) {
      // A live reader expects rejected events on disk promptly, not at the next MiB.
      dead_out->flush();
      late_out->flush();
    }
  }

  // ---- restore -----------------------------------------------------------
  struct Restored {
    std::vector<ResumePoint> positions;
    uint64_t windows_len = 0, dead_len = 0, late_len = 0, alerts_len = 0;
    std::string alert_state;  ///< empty when starting afresh
    std::string file;
  };

  std::optional<Restored> restore(const std::string& payload, const std::string& file) {
    ByteReader r(payload);
    if (r.u32() != kCheckpointVersion) throw std::runtime_error(file + ": unsupported checkpoint version");
    const std::string ingest(r.str());
    Restored out;
    out.windows_len = r.u64();
    out.alerts_len = r.u64();
    const bool had_audit = r.u8() != 0;
    if (had_audit != audit_key.has_value()) {
      throw std::runtime_error(file + ": the checkpoint was made " + (had_audit ? "with" : "without") +
                               " an audit log and this run is configured " + (audit_key ? "with" : "without") +
                               " one (audit.key); use the same config or another --checkpoint-dir");
    }
    if (had_audit) {
      open_audit(r.u64());
      if (const Status st = audit->load(r); !st.ok()) {
        throw std::runtime_error(file + ": audit chain state: " + st.error().to_string());
      }
    }
    out.alert_state = std::string(r.str());
    const uint64_t nshards = r.count(8);
    std::vector<std::string> shard_states;
    for (uint64_t i = 0; i < nshards; ++i) shard_states.emplace_back(r.str());
    if (r.fail()) throw std::runtime_error(file + ": malformed checkpoint payload");

    ByteReader in(ingest);
    const uint64_t ninputs = in.count(8);
    std::vector<std::string> names;
    for (uint64_t i = 0; i < ninputs; ++i) names.emplace_back(in.str());
    if (names != options.inputs) {
      std::string had;
      for (const auto& n : names) had += (had.empty() ? "" : ", ") + n;
      throw std::runtime_error("checkpoint " + file + " was made for other inputs (" + had +
                               "); use the same inputs or another --checkpoint-dir");
    }
    const uint64_t npos = in.count(16);
    for (uint64_t i = 0; i < npos; ++i) {
      ResumePoint p;
      p.offset = in.u64();
      p.line = in.u64();
      out.positions.push_back(p);
    }
    epoch = in.u64();
    lines_in_batch = in.u64();
    last_dedup_expiry_ms = in.i64();
    for (Interner* interner : {&sources, &types}) {
      const uint64_t n = in.count(8);
      for (uint64_t i = 0; i < n; ++i) {
        if (interner->intern(in.str()) != i) in.set_fail();
      }
    }
    if (!watermarks.load(in) || !dedup.load(in)) in.set_fail();
    out.dead_len = in.u64();
    out.late_len = in.u64();
    for (auto* c : {&counters.lines, &counters.events, &counters.dead_letters, &counters.late,
                    &counters.duplicates}) {
      c->store(in.u64());
    }
    if (in.fail()) throw std::runtime_error(file + ": malformed ingest state in checkpoint");
    const int coarse = config.cells.coarse_level;
    if (!engine->restore(shard_states, [&](uint64_t cell) { return route(parent_cell(cell, coarse)); })) {
      throw std::runtime_error(file + ": malformed shard state in checkpoint");
    }
    return out;
  }
};

Pipeline::Pipeline(const Config& config, PipelineOptions options)
    : impl_(std::make_unique<Impl>(config, std::move(options))) {
  Impl& p = *impl_;
  // The loader checks files; this also covers a Config built in code.
  check_priority_config(config.priority);
  p.enricher = Enricher::build(config.city, config.cells);
  if (!config.geofences.empty()) p.geofences = detect::GeofenceIndex::build(config.geofences);
  p.alert_rules = std::make_unique<AlertRules>(config, p.geofences.get());
  if (!config.audit.key.empty()) p.audit_key = load_secret_key(config.audit.key);
  p.decoder = std::make_unique<EventDecoder>(decoder_options(config), p.sources, p.types);
  for (const std::string& name : p.options.inputs) p.watermarks.add_source(name);
  ShardedEngine::Options eo;
  eo.shards = resolve_shards(p.options.shards >= 0 ? p.options.shards : config.pipeline.shards);
  LatencyFamily& stage_latency = p.registry.add_latency(
      "sentinel_stage_latency_seconds",
      "Time from ingest to the end of each stage, per shard (windows = end to end).", {"stage", "shard"});
  for (int i = 0; i < eo.shards; ++i) {
    auto l = std::make_unique<ShardLatency>();
    for (const char* stage : {"enrich", "signals", "windows"}) {
      l->stages.push_back(&stage_latency.add({stage, std::to_string(i)}));
    }
    l->guard = std::make_unique<LatencyGuard>(config.latency);
    p.latency.push_back(std::move(l));
    p.renderers.push_back(std::make_unique<Impl::ShardRendering>());
  }
  p.event_to_alert = &p.registry
                          .add_latency("sentinel_event_to_alert_seconds",
                                       "Time from ingest of an event to the alert (or update) it caused.", {})
                          .add({});
  eo.queue_batches = config.pipeline.queue_batches;
  eo.windows = config.windows;
  Impl* self = impl_.get();
  p.engine = std::make_unique<ShardedEngine>(
      eo,
      [self](int shard) {
        std::vector<std::unique_ptr<BatchStage>> stages;
        stages.push_back(std::make_unique<EnrichStage>(
            *self->enricher, self->latency[static_cast<size_t>(shard)]->breaker, self->counters.degraded));
        stages.push_back(std::make_unique<SignalStage>(*self->alert_rules, self->geofences.get(), self->types));
        return stages;
      },
      [self](EpochOutput& out) { self->on_epoch(out); },
      [self](int shard, size_t stage, ProcTime now, std::span<const Event> events) {
        self->observe(shard, stage, now, events);
      },
      [self](int shard, std::vector<WindowRecord>& records) { return self->render_shard(shard, records); });
}

Pipeline::~Pipeline() {
  if (impl_ && impl_->engine) impl_->engine->stop();
}

std::vector<ResumePoint> Pipeline::start() {
  Impl& p = *impl_;
  std::error_code ec;
  fs::create_directories(p.options.out_dir, ec);
  if (!fs::is_directory(p.options.out_dir)) {
    throw std::runtime_error("--out " + p.options.out_dir + ": cannot create directory: " + ec.message());
  }
  Impl::Restored restored;
  restored.positions.assign(p.options.inputs.size(), ResumePoint{});
  if (p.options.checkpoint_dir) {
    p.store = std::make_unique<CheckpointStore>(*p.options.checkpoint_dir, p.config.checkpoint.keep);
    std::vector<std::string> problems;
    auto loaded = p.store->load_latest(problems);
    for (const std::string& why : problems) {
      spdlog::warn("checkpoint rejected, trying the previous one: {}", why);
    }
    if (loaded) {
      auto r = p.restore(loaded->payload, loaded->file);
      restored = *r;
      restored.file = loaded->file;
      if (restored.positions.size() != p.options.inputs.size()) {
        restored.positions.assign(p.options.inputs.size(), ResumePoint{});
      }
      spdlog::info("resumed from {} (epoch {})", loaded->file, p.epoch);
    } else if (!problems.empty()) {
      spdlog::warn("no usable checkpoint in {}; starting from the beginning", *p.options.checkpoint_dir);
    }
  }
  const fs::path dir(p.options.out_dir);
  SinkWriter* const writer = p.sink_writer.get();
  p.windows_out = std::make_unique<FileSink>((dir / "windows.jsonl").string(), restored.windows_len, writer);
  p.dead_out = std::make_unique<FileSink>((dir / "dead-letter.jsonl").string(), restored.dead_len, writer);
  p.late_out = std::make_unique<FileSink>((dir / "late.jsonl").string(), restored.late_len, writer);
  p.alerts_out = std::make_unique<FileSink>((dir / "alerts.jsonl").string(), restored.alerts_len, writer);
  if (p.audit_key && !p.audit) p.open_audit(0);
  Impl* self = impl_.get();
  p.alerts = std::make_unique<AlertStage>(
      p.config, *p.enricher, p.geofences.get(), p.sources, p.types, *p.alerts_out,
      [self](EventTime ts, AuditDecision d, std::string_view ref, std::string_view reasons) {
        self->append_audit(ts, d, ref, reasons);
      },
      p.alert_counters, p.event_to_alert, p.options.live);
  if (p.options.on_alerts) p.alerts->set_listener(p.options.on_alerts);
  if (!restored.alert_state.empty()) {
    ByteReader a(restored.alert_state);
    if (!p.alerts->load(a)) throw std::runtime_error(restored.file + ": malformed alert state in checkpoint");
  }
  p.engine->start();
  return restored.positions;
}

std::unique_ptr<EventDecoder> Pipeline::make_decoder() const {
  return std::make_unique<EventDecoder>(decoder_options(impl_->config), impl_->sources, impl_->types);
}

void Pipeline::reject_line(size_t input, uint64_t line, uint64_t offset, const std::string& reason,
                           std::string_view raw) {
  impl_->counters.lines.fetch_add(1, std::memory_order_relaxed);
  impl_->write_dead_letter(input, line, offset, reason, raw);
}

void Pipeline::prepare(Event& e) const {
  if (e.has_location) e.enrich.coarse_cell = impl_->enricher->coarse_cell(e.lat, e.lon);
}

void Pipeline::count_line() { impl_->counters.lines.fetch_add(1, std::memory_order_relaxed); }

void Pipeline::reject_too_long(size_t input, uint64_t line, uint64_t offset, uint64_t length,
                               std::string_view head) {
  impl_->counters.lines.fetch_add(1, std::memory_order_relaxed);
  impl_->write_dead_letter(input, line, offset,
                           "line is " + std::to_string(length) + " bytes, over ingest.max_line_bytes (" +
                               std::to_string(impl_->config.ingest.max_line_bytes) + ")",
                           head);
}

Pipeline::Outcome Pipeline::accept(size_t input, Event& e, std::string_view raw) {
  Impl& p = *impl_;
  if (!p.dedup.insert(e.key, e.time)) {
    p.counters.duplicates.fetch_add(1, std::memory_order_relaxed);
    if (p.audit) {
      p.audit_reasons.clear();
      JsonWriter r(p.audit_reasons);
      r.begin_object().member("source", p.sources.name(e.source)).member("input", p.input_name(input));
      r.member("line", e.where.line).member("reason", "(source, id) already processed").end_object();
      p.audit_record(e.time, AuditDecision::kDuplicate, e.id);
    }
    return Outcome::kDuplicate;
  }
  if (p.watermarks.is_late(input, e.time)) {
    p.write_late(input, e, raw);
    return Outcome::kLate;
  }
  // One clock read per 32 events: ingest time only needs to be as fine as the
  // latencies it measures (microseconds and up), and the read costs ~2% here.
  if ((p.accepted_since_clock++ & 31) == 0) p.clock = std::chrono::steady_clock::now();
  const ProcTime now = p.clock;
  p.watermarks.observe(input, e.time, now);
  e.ingest_time = now;
  int shard;
  if (e.has_location) {
    // A valid S2 cell id is never 0: 0 means prepare() has not run.
    if (e.enrich.coarse_cell == 0) e.enrich.coarse_cell = p.enricher->coarse_cell(e.lat, e.lon);
    shard = p.route(e.enrich.coarse_cell);
  } else {
    shard = static_cast<int>(mix(e.key.lo) % static_cast<uint64_t>(p.engine->shard_count()));
  }
  e.seq = p.counters.events.fetch_add(1, std::memory_order_relaxed);
  e.read_watermark = p.watermarks.source_watermark(input);
  p.engine->push(shard, e);
  return Outcome::kRouted;
}

void Pipeline::hold_texts(size_t input, std::span<const std::shared_ptr<const std::string>> texts) {
  Impl& p = *impl_;
  auto& current = p.held[input];
  current.assign(texts.begin(), texts.end());
  for (const auto& text : texts) p.engine->hold_text(text);
}

Pipeline::BodyResult Pipeline::ingest_body(size_t input, const std::shared_ptr<const std::string>& body,
                                           size_t length) {
  Impl& p = *impl_;
  hold_texts(input, std::span(&body, 1));
  const std::string_view text(body->data(), length);
  BodyResult result;
  auto& rejected = result.rejected;
  p.decoder->decode_body(
      text,
      [&](Event& e) {
        p.counters.lines.fetch_add(1, std::memory_order_relaxed);
        // Live sources are checked against the wall clock: a time far in the
        // future is a misconfigured clock, and would hold every window open.
        const EventTime wall = event_time_from_ms(
            std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count());
        if (e.time > wall + p.config.ingest.max_clock_skew) {
          const std::string reason =
              "event '" + std::string(e.id) + "' is " + format_duration(Millis(to_ms(e.time) - to_ms(wall))) +
              " ahead of the wall clock, over ingest.max_clock_skew (" +
              format_duration(p.config.ingest.max_clock_skew) + ")";
          rejected.push_back(Rejection{0, 0, "time", reason});
          p.write_dead_letter(input, 0, 0, "time: " + reason, e.id);
          return;
        }
        switch (accept(input, e, {})) {
          case Outcome::kRouted: ++result.accepted; break;
          case Outcome::kDuplicate: ++result.duplicates; break;
          case Outcome::kLate: ++result.late; break;
        }
      },
      [&](uint64_t line, uint64_t offset, const Error& error) {
        p.counters.lines.fetch_add(1, std::memory_order_relaxed);
        rejected.push_back(Rejection{line, offset, error.field, error.reason});
        const size_t from = std::min<size_t>(offset, length);
        const std::string_view raw = text.substr(from, std::min<size_t>(kRawBytesInDeadLetter, length - from));
        p.write_dead_letter(input, line, offset, error.to_string(), raw.substr(0, raw.find('\n')));
      });
  p.emit(false);
  return result;
}

void Pipeline::line_done() {
  Impl& p = *impl_;
  if (++p.lines_in_batch >= p.config.pipeline.batch_size) p.emit(false);
}

void Pipeline::flush_marker() { impl_->emit(false); }

void Pipeline::finish_input(size_t input) { impl_->watermarks.finish(input); }

void Pipeline::set_position_provider(std::function<std::vector<ResumePoint>()> provider) {
  impl_->positions = std::move(provider);
}

bool Pipeline::has_capacity() const { return impl_->engine->has_capacity(); }
uint64_t Pipeline::backlog() const { return impl_->engine->backlog(); }

std::vector<std::string> Pipeline::global_summary() {
  Impl& p = *impl_;
  std::vector<WindowRecord> parts = p.engine->global_summary(p.watermarks.max_event_time());
  // Shards hold partial sums of the same (district, category): add them up.
  std::map<std::pair<int32_t, std::string>, WindowRecord> merged;
  for (const WindowRecord& r : parts) {
    auto [it, created] = merged.try_emplace({r.district, std::string(p.types.name(r.key.category))}, r);
    if (!created) it->second.count += r.count;
  }
  std::vector<std::string> out;
  for (const auto& [k, r] : merged) {
    std::string line;
    p.render_window(r, line);
    out.push_back(std::move(line));
  }
  return out;
}

void Pipeline::drain() {
  Impl& p = *impl_;
  if (p.drained) return;
  p.drained = true;
  p.emit(true);
}

void Pipeline::finish() {
  Impl& p = *impl_;
  if (p.finished) return;
  p.finished = true;
  drain();
  p.engine->stop();
  p.windows_out->flush();
  p.dead_out->flush();
  p.late_out->flush();
  p.alerts_out->flush();
  if (p.audit) {
    p.audit->flush();  // signs the last record
    p.audit_out->flush();
  }
}

const PipelineCounters& Pipeline::counters() const { return impl_->counters; }
const AlertCounters& Pipeline::alert_counters() const { return impl_->alert_counters; }

std::string Pipeline::metrics_text() const {
  const Impl& p = *impl_;
  std::string out = p.registry.render_prometheus();
  const auto& c = p.counters;
  auto counter = [&out](const char* name, const char* help, uint64_t v) {
    out += fmt::format("# HELP {0}_total {1}\n# TYPE {0}_total counter\n{0}_total {2}\n", name, help, v);
  };
  auto gauge = [&out](const char* name, const char* help, double v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, v);
  };
  counter("sentinel_input_lines", "Lines (or body elements) read from every input.", c.lines.load());
  counter("sentinel_events", "Events accepted into the shards.", c.events.load());
  counter("sentinel_dead_letters", "Inputs rejected to dead-letter.jsonl (malformed, invalid, too long).",
          c.dead_letters.load());
  counter("sentinel_late_events", "Events older than their source watermark minus allowed lateness (late.jsonl).",
          c.late.load());
  counter("sentinel_duplicate_events", "Events whose (source, id) was already processed.", c.duplicates.load());
  counter("sentinel_window_results", "Window results emitted (revisions included).", c.windows.load());
  counter("sentinel_degraded_events", "Events enriched without district and site lookups (breaker open).",
          c.degraded.load());
  counter("sentinel_checkpoints", "Checkpoints written.", c.checkpoints.load());
  const AlertCounters& a = p.alert_counters;
  counter("sentinel_alerts", "New alerts (alerts.jsonl, status alert).", a.alerts.load());
  counter("sentinel_alert_updates", "Updates of an open alert by a matching one (dedup).", a.updates.load());
  counter("sentinel_alerts_suppressed", "Candidates below their gate (audit log only).", a.suppressed.load());
  counter("sentinel_trend_watch", "Spikes below thresholds.spike, shown as trend_watch.", a.trend_watch.load());
  counter("sentinel_unscored_windows", "Windows that passed unscored: the model ran past ml.budget.",
          a.unscored.load());
  counter("sentinel_signal_events", "Events that reached the alert stage (sensor, correlation, geofence).",
          a.signals.load());
  counter("sentinel_windows_scored", "Tumbling windows scored by the isolation forest.", a.windows_scored.load());
  counter("sentinel_bias_flags", "Times a district was flagged by the bias check.", a.bias_flagged.load());
  gauge("sentinel_open_alerts", "Alerts that can still absorb updates (inside dedup.window).",
        static_cast<double>(a.open_alerts.load()));
  const int64_t wm = c.watermark_ms.load();
  gauge("sentinel_watermark_seconds", "Event-time watermark of the last closed epoch (Unix seconds).",
        wm == INT64_MIN ? 0.0 : static_cast<double>(wm) / 1000.0);
  gauge("sentinel_backlog_events", "Events accepted but not yet processed by the shards (consumer lag).",
        static_cast<double>(p.engine->backlog()));
  double p95 = 0;
  bool warning = false, breaker = false;
  for (const auto& l : p.latency) {
    p95 = std::max(p95, static_cast<double>(l->p95_ns.load()) / 1e9);
    warning = warning || l->warning.load();
    breaker = breaker || l->breaker.load();
  }
  gauge("sentinel_end_to_end_p95_seconds", "Rolling end-to-end p95 (worst shard) watched by the breaker.", p95);
  gauge("sentinel_latency_warning", "1 while the end-to-end p95 is over latency.warn_p95.", warning ? 1 : 0);
  gauge("sentinel_degraded_mode", "1 while the circuit breaker bypasses costly enrichment.", breaker ? 1 : 0);
  gauge("sentinel_latency_budget_seconds", "The end-to-end p95 budget (latency.budget).",
        static_cast<double>(p.config.latency.budget.count()) / 1000.0);
  return out;
}

std::vector<StageLatency> Pipeline::stage_latencies() const {
  const Impl& p = *impl_;
  std::vector<StageLatency> out;
  for (const char* name : {"enrich", "signals", "windows"}) out.push_back(StageLatency{name, {}});
  for (const auto& l : p.latency) {
    for (size_t i = 0; i < l->stages.size() && i < 3; ++i) out[i].histogram.merge(l->stages[i]->snapshot());
  }
  out.push_back(StageLatency{"end_to_end", p.event_to_alert->snapshot()});
  return out;
}

Pipeline::LatencyState Pipeline::latency_state() const {
  LatencyState s;
  for (const auto& l : impl_->latency) {
    s.p95 = std::max(s.p95, std::chrono::nanoseconds(l->p95_ns.load(std::memory_order_relaxed)));
    s.warning = s.warning || l->warning.load(std::memory_order_relaxed);
    s.degraded = s.degraded || l->breaker.load(std::memory_order_relaxed);
  }
  return s;
}

int Pipeline::shard_count() const { return impl_->engine->shard_count(); }

std::string Pipeline::latest_highlight() const {
  std::lock_guard lock(impl_->highlight_mutex);
  return impl_->highlight;
}

}  // namespace sentinel
