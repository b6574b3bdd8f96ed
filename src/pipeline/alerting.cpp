#include "pipeline/alerting.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <numbers>
#include <optional>
#include <thread>
#include <utility>

#include "alerts/alert.h"
#include "alerts/alert_book.h"
#include "alerts/bias.h"
#include "alerts/score.h"
#include "core/interner.h"
#include "core/json_writer.h"
#include "core/metrics.h"
#include "detect/correlation.h"
#include "detect/enrichment.h"
#include "detect/geofence.h"
#include "detect/isolation_forest.h"
#include "detect/spike.h"
#include "stream/bytes.h"
#include "stream/file_sink.h"

namespace sentinel {

namespace {

constexpr uint32_t kStateVersion = 1;
constexpr int64_t kHourMs = 3600'000;
/// Features of a tumbling window for the isolation forest, in this order.
constexpr size_t kWindowFeatures = 7;


/// The most severe class with at least half of the window's events, else the
/// class of the plurality; a window has no single severity, and the score's
/// threat term wants one.
Severity window_severity(const WindowRecord& r) {
  if (r.count == 0) return Severity::kOther;
  if (r.violent * 2 >= r.count) return Severity::kViolent;
  if ((r.violent + r.property) * 2 >= r.count) return Severity::kProperty;
  return Severity::kOther;
}

int severity_rank(Severity s) {
  switch (s) {
    case Severity::kViolent: return 2;
    case Severity::kProperty: return 1;
    case Severity::kOther: break;
  }
  return 0;
}

/// A thread that runs one job at a time for the merger and lets it wait for
/// the result: the alert stage scores an epoch's windows here while it
/// handles the epoch's events itself. A job the thread has not picked up by
/// the time the caller waits is run by the caller instead: on a busy machine
/// the helper may not be scheduled for a while, and the caller must not sit
/// idle waiting for it. Started on first use; one caller.
class JobThread {
 public:
  JobThread() = default;
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;
  ~JobThread() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    ready_.notify_one();
    thread_.join();
  }

  /// Runs `job` on the helper thread (after the previous one, if a caller
  /// left without waiting for it).
  void start(std::function<void()> job) {
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    {
      std::unique_lock lock(mutex_);
      done_.wait(lock, [this] { return !busy_; });
      error_ = nullptr;
      job_ = std::move(job);
      busy_ = true;
    }
    ready_.notify_one();
  }

  /// Returns once the job has run (here, if the helper has not started it);
  /// rethrows what it threw.
  void wait() {
    std::unique_lock lock(mutex_);
    if (job_) {
      std::function<void()> job = std::move(job_);
      job_ = nullptr;
      busy_ = false;
      error_ = nullptr;
      lock.unlock();
      job();
      return;
    }
    done_.wait(lock, [this] { return !busy_; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [this] { return stop_ || job_; });
      if (!job_) return;
      std::function<void()> job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      std::exception_ptr error;
      try {
        job();
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      error_ = error;
      busy_ = false;
      done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_, done_;
  std::function<void()> job_;     // guarded by mutex_
  bool busy_ = false;             // guarded by mutex_
  bool stop_ = false;             // guarded by mutex_
  std::exception_ptr error_;      // guarded by mutex_
  std::thread thread_;
};

}  // namespace

// ------------------------------------------------------------ shard side --

AlertRules::AlertRules(const Config& config, const detect::GeofenceIndex* geofences)
    : sensor_(type_prefixes(config.alerts.sensor_types)),
      correlate_(type_prefixes(config.alerts.correlation_types)),
      model_(type_prefixes(config.alerts.model_types)),
      geofences_(geofences) {}

uint8_t AlertRules::roles(std::string_view type) const {
  uint8_t r = 0;
  if (matches_any(type, sensor_)) r |= SignalEvent::kSensor;
  if (matches_any(type, correlate_)) r |= SignalEvent::kCorrelate;
  if (matches_any(type, model_)) r |= SignalEvent::kModel;
  return r;
}

uint64_t AlertRules::geofence_candidates(std::string_view type) const {
  return geofences_ == nullptr ? 0 : geofences_->rules_for_type(type);
}

SignalStage::SignalStage(const AlertRules& rules, const detect::GeofenceIndex* geofences, const Interner& types)
    : rules_(rules), geofences_(geofences), types_(types) {}

const SignalStage::TypeRoles& SignalStage::roles_of(TypeId type) {
  if (type >= type_roles_.size()) type_roles_.resize(static_cast<size_t>(type) + 1);
  TypeRoles& t = type_roles_[type];
  if (!t.known) {
    const std::string_view name = types_.name(type);
    t.roles = rules_.roles(name);
    t.geofences = rules_.geofence_candidates(name);
    t.known = true;
  }
  return t;
}

void SignalStage::process(std::span<Event> events) {
  if (!out_) out_ = std::make_unique<ShardSignals>();
  auto& counts = out_->districts;
  for (const Event& e : events) {
    if (e.has_location && e.enrich.district >= 0) {
      const int64_t hour = to_ms(align_down(e.time, Millis(kHourMs))) / kHourMs;
      // Batches are mostly in time order and a city has few districts: the
      // last few entries almost always hold the one to bump.
      bool found = false;
      for (size_t i = counts.size(), n = 0; i > 0 && n < 8; --i, ++n) {
        DistrictHourCount& c = counts[i - 1];
        if (c.hour == hour && c.district == e.enrich.district) {
          ++c.events;
          found = true;
          break;
        }
      }
      if (!found) counts.push_back(DistrictHourCount{hour, e.enrich.district, 1});
    }
    const TypeRoles& t = roles_of(e.type);
    uint64_t fences = 0;
    if (t.geofences != 0 && e.has_location) fences = geofences_->match(e.lat, e.lon, t.geofences);
    if (t.roles == 0 && fences == 0) continue;
    SignalEvent& s = out_->events.emplace_back();
    s.seq = e.seq;
    s.id.assign(e.id);
    s.time = e.time;
    s.read_watermark = e.read_watermark;
    s.ingest_time = e.ingest_time;
    s.lat = e.lat;
    s.lon = e.lon;
    s.confidence = e.confidence;
    s.has_confidence = e.has_confidence;
    s.has_location = e.has_location;
    s.site_distance_m = e.enrich.site_distance_m;
    s.fine_cell = e.enrich.fine_cell;
    s.district = e.enrich.district;
    s.geofences = fences;
    s.source = e.source;
    s.type = e.type;
    s.severity = e.severity;
    s.roles = t.roles;
  }
}

std::unique_ptr<StageOutput> SignalStage::take_output() {
  if (!out_ || (out_->events.empty() && out_->districts.empty())) return nullptr;
  return std::move(out_);
}

// ----------------------------------------------------------- merger side --

struct AlertStage::Impl {
  const Config& config;
  const Enricher& enricher;
  const detect::GeofenceIndex* geofences;
  const Interner& sources;
  const Interner& types;
  FileSink& alerts_out;
  AuditFn audit;
  AlertCounters& counters;
  LatencyHistogram* event_to_alert;

  detect::CorrelationIndex correlation;
  std::optional<detect::SpikeDetector> spike;
  std::optional<detect::OnlineIsolationForest> forest;
  BiasMonitor bias;
  AlertBook book;

  EventTime last_spike_expiry = kMinEventTime;
  EventTime last_expiry = kMinEventTime;
  static constexpr Millis kExpiryStep = Millis(10'000);
  bool live = false;
  EmitFn listener;                           // live consumers; empty in replay
  std::vector<Alert> emitted;                // this process() call's alerts, for the listener
  std::vector<std::string> emitted_records;
  EventTime last_bias_check = kMinEventTime;
  std::vector<const SignalEvent*> ordered;
  std::vector<const detect::CorrelationEntry*> neighbours, corroborating;
  /// Best confidence per source name, sorted by name (stable output); a
  /// handful of entries, reused per event so none allocates once warm.
  using SourceConfidences = std::vector<std::pair<std::string_view, double>>;
  SourceConfidences best, per_source;

  static void raise_best(SourceConfidences& v, std::string_view name, double c) {
    auto it = std::lower_bound(v.begin(), v.end(), name, [](const auto& p, std::string_view n) { return p.first < n; });
    if (it != v.end() && it->first == name) {
      it->second = std::max(it->second, c);
    } else {
      v.insert(it, {name, c});
    }
  }
  std::vector<BiasChange> bias_changes;
  std::string line, reasons, ref;
  std::vector<float> ml_rows;                  // the epoch's window features, row-major
  std::vector<std::optional<double>> ml_scores;
  /// Replay: scores the epoch's windows (score_windows: the forest, ml_rows
  /// and ml_scores, which nothing else touches meanwhile) while this thread
  /// handles the epoch's events. Declared last: destroyed (joined) first.
  JobThread model_thread;

  Impl(const Config& c, const Enricher& en, const detect::GeofenceIndex* g, const Interner& src, const Interner& ty, FileSink& out, AuditFn a,
       AlertCounters& k, LatencyHistogram* h)
      : config(c),
        enricher(en),
        geofences(g),
        sources(src),
        types(ty),
        alerts_out(out),
        audit(std::move(a)),
        counters(k),
        event_to_alert(h),
        correlation(c.correlation),
        bias(c.bias),
        book(c.dedup, c.windows.allowed_lateness) {
    if (c.spike.enabled && c.windows.tumbling) spike.emplace(c.spike, c.windows.tumbling_size);
    if (c.ml.enabled && c.windows.tumbling) {
      detect::OnlineIsolationForest::Options o;
      o.n_features = kWindowFeatures;
      o.sample_size = c.ml.sample_size;
      o.rebuild_every = c.ml.rebuild_every;
      o.n_estimators = static_cast<int>(c.ml.n_estimators);
      o.max_samples = static_cast<int>(c.ml.max_samples);
      o.base_seed = c.ml.seed;
      forest.emplace(o);
    }
  }

  std::string district_name(int32_t d) const {
    const auto& names = enricher.district_names();
    return d >= 0 && static_cast<size_t>(d) < names.size() ? names[static_cast<size_t>(d)] : std::string();
  }

  /// Writes an alert that is new or changed, audits it, and measures latency.
  void emit(AlertBook::Offer offer, const Alert& a, ProcTime ingest_time, std::string_view gate) {
    line.clear();
    render_alert_appending(a, line);  // the book's alerts only ever gain event ids
    alerts_out.write_line(line);
    if (listener) {
      emitted.push_back(a);
      emitted_records.push_back(line);
    }
    const bool is_new = offer == AlertBook::Offer::kNew;
    const bool trend = a.status == AlertStatus::kTrendWatch;
    if (is_new) {
      (trend ? counters.trend_watch : counters.alerts).fetch_add(1, std::memory_order_relaxed);
    } else {
      counters.updates.fetch_add(1, std::memory_order_relaxed);
    }
    reasons.clear();
    JsonWriter w(reasons);
    w.begin_object()
        .member("type", alert_type_name(a.type))
        .member("status", alert_status_name(a.status))
        .member("dedup_key", a.dedup_key)
        .member("priority", priority_name(a.score.priority))
        .member("score", round_term(a.score.score));
    w.key("terms").begin_object();
    w.member("threat_severity", round_term(a.score.terms.threat_severity));
    w.member("model_confidence", round_term(a.score.terms.model_confidence));
    w.member("corroboration", round_term(a.score.terms.corroboration));
    w.member("temporal_urgency", round_term(a.score.terms.temporal_urgency));
    w.member("spatial_sensitivity", round_term(a.score.terms.spatial_sensitivity));
    w.member("boost", round_term(a.score.terms.boost));
    w.end_object();
    w.member("gate", gate).member("count", a.count).member("revision", static_cast<uint64_t>(a.revision));
    w.member("bias_review", a.bias_review);
    w.end_object();
    const AuditDecision d = !is_new ? AuditDecision::kUpdate : trend ? AuditDecision::kTrendWatch : AuditDecision::kAlert;
    audit(a.last_seen, d, a.alert_id, reasons);
    if (event_to_alert != nullptr && ingest_time != ProcTime{}) {
      event_to_alert->record(std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now() - ingest_time));
    }
  }

  void offer(AlertCandidate&& c, EventTime now, ProcTime ingest_time, std::string_view gate) {
    const Alert* a = nullptr;
    const AlertBook::Offer o = book.offer(std::move(c), now, a);
    if (o == AlertBook::Offer::kUnchanged || a == nullptr) return;
    emit(o, *a, ingest_time, gate);
  }

  /// One audit record for a candidate under its gate; `details(w)` adds the
  /// members that say why. (A template, not std::function: this runs for
  /// every suppressed candidate, and a capturing lambda would allocate.)
  template <typename Details>
  void suppress(EventTime ts, std::string_view ref, std::string_view type, std::string_view why,
                const Details& details) {
    counters.suppressed.fetch_add(1, std::memory_order_relaxed);
    reasons.clear();
    JsonWriter w(reasons);
    w.begin_object().member("type", type).member("reason", why);
    details(w);
    w.end_object();
    audit(ts, AuditDecision::kSuppressed, ref, reasons);
  }

  double confidence_of(bool has, double c) const { return has ? c : config.priority.default_confidence; }

  // ---- events ----------------------------------------------------------
  /// An event a model outside the shards already scored (a network anomaly
  /// from the flow detection service): an ml_anomaly candidate with the
  /// event's own confidence, under the same gate as the isolation forest's.
  /// Its dedup key is (type, cell, category = event type), so a burst of one
  /// attack class at one place is one alert with a rising count.
  void handle_model_event(const SignalEvent& e, EventTime now, std::string_view type_name, double own) {
    if (own < config.thresholds.ml_anomaly) {
      suppress(e.time, e.id, "ml_anomaly", "confidence below thresholds.ml_anomaly", [&](JsonWriter& w) {
        w.member("event_type", type_name).member("confidence", round_term(own));
        w.member("threshold", config.thresholds.ml_anomaly);
      });
      return;
    }
    AlertCandidate c;
    c.type = AlertType::kMlAnomaly;
    c.status = AlertStatus::kAlert;
    c.category = std::string(type_name);
    c.cell = e.fine_cell;
    c.cell_token = e.has_location ? Enricher::cell_token(e.fine_cell) : "-";
    c.has_location = e.has_location;
    c.lat = e.lat;
    c.lon = e.lon;
    c.district = district_name(e.district);
    c.event_time = e.time;
    c.event_ids.push_back(e.id);
    c.sources.emplace_back(sources.name(e.source));
    c.has_confidence = true;
    c.confidence = own;
    c.score = score_alert(ScoreInput{e.severity, true, own, 1, e.time, now, e.site_distance_m}, config.priority);
    // The bias check weighs districts: a model alert with a place counts in it.
    if (e.has_location && e.district >= 0) {
      bias.add_ml_alert(e.district, e.time);
      c.bias_review = bias.flagged(e.district);
    }
    offer(std::move(c), now, e.ingest_time,
          fmt::format("ml_anomaly: confidence {:.4f} >= thresholds.ml_anomaly {}", own, config.thresholds.ml_anomaly));
  }

  void handle_event(const SignalEvent& e, EventTime epoch_now) {
    const EventTime now = live ? epoch_now : e.read_watermark;
    const std::string_view type_name = types.name(e.type);
    // Neighbours from other sources, and the best confidence per source.
    neighbours.clear();
    if (e.has_location && (e.roles & (SignalEvent::kCorrelate | SignalEvent::kSensor)) != 0) {
      detect::CorrelationEntry entry;
      entry.seq = e.seq;
      entry.time = e.time;
      entry.lat = e.lat;
      entry.lon = e.lon;
      entry.confidence = e.confidence;
      entry.has_confidence = e.has_confidence;
      entry.source = e.source;
      entry.type = e.type;
      entry.severity = e.severity;
      entry.id = e.id;
      // The most recent max_neighbours, ordered by seq.
      correlation.neighbours(entry, config.correlation.max_neighbours, neighbours);
      if ((e.roles & SignalEvent::kCorrelate) != 0) correlation.insert(std::move(entry));
    }
    // Other sources that corroborate: best confidence per source at or
    // above the per-source gate (neighbours never share e's source).
    best.clear();
    corroborating.clear();
    for (const detect::CorrelationEntry* n : neighbours) {
      const double c = confidence_of(n->has_confidence, n->confidence);
      if (c < config.thresholds.correlation_per_source) continue;
      corroborating.push_back(n);
      raise_best(best, sources.name(n->source), c);
    }
    const double own = confidence_of(e.has_confidence, e.confidence);

    auto base_candidate = [&](AlertType type, std::string category) {
      AlertCandidate c;
      c.type = type;
      c.status = AlertStatus::kAlert;
      c.category = std::move(category);
      c.cell = e.fine_cell;
      c.cell_token = e.has_location ? Enricher::cell_token(e.fine_cell) : "-";
      c.has_location = e.has_location;
      c.lat = e.lat;
      c.lon = e.lon;
      c.district = district_name(e.district);
      c.event_time = e.time;
      c.event_ids.push_back(e.id);
      return c;
    };
    auto add_corroboration = [&](AlertCandidate& c, double& combined, Severity& severity, EventTime& latest) {
      per_source = best;
      raise_best(per_source, sources.name(e.source), own);
      double miss = 1;
      for (const auto& [name, conf] : per_source) {
        c.sources.emplace_back(name);
        miss *= 1 - conf;
      }
      combined = 1 - miss;
      severity = e.severity;
      latest = e.time;
      for (const detect::CorrelationEntry* n : corroborating) {
        c.event_ids.push_back(n->id);
        if (severity_rank(n->severity) > severity_rank(severity)) severity = n->severity;
        latest = std::max(latest, n->time);
      }
    };

    // Rules without a gate (sensor, geofence): the event's alert, verified
    // and scored with its corroboration when another source agrees.
    auto ungated = [&](AlertType type, std::string category) {
      AlertCandidate c = base_candidate(type, std::move(category));
      double combined = own;
      Severity severity = e.severity;
      EventTime latest = e.time;
      add_corroboration(c, combined, severity, latest);
      c.verified = !best.empty();
      c.has_confidence = e.has_confidence || !best.empty();
      c.confidence = best.empty() ? e.confidence : combined;
      c.score = score_alert(ScoreInput{severity, c.has_confidence, c.confidence, static_cast<int>(c.sources.size()),
                                       latest, now, e.site_distance_m},
                            config.priority);
      return c;
    };

    if ((e.roles & SignalEvent::kSensor) != 0) {
      offer(ungated(AlertType::kSensor, std::string(type_name)), now, e.ingest_time, "sensor: always alerts");
    }
    if ((e.roles & SignalEvent::kModel) != 0) handle_model_event(e, now, type_name, own);
    if ((e.roles & SignalEvent::kCorrelate) != 0) {
      // Correlation: the event with the other sources near it. A sensor
      // event has had its decision (the sensor alert); it still joins and
      // updates an incident, but is not "suppressed" when it cannot.
      const bool decided = (e.roles & SignalEvent::kSensor) != 0;
      const bool alone = best.empty();
      // A sensor's own alert already says when one other source backs it;
      // it joins a correlation only as a third source of an incident.
      const bool joins = !decided || best.size() >= 2;
      if (own < config.thresholds.correlation_per_source) {
        if (!decided) {
          suppress(e.time, e.id, "correlation", "confidence below thresholds.correlation_per_source",
                   [&](JsonWriter& w) {
                     w.member("event_type", type_name).member("confidence", round_term(own));
                     w.member("threshold", config.thresholds.correlation_per_source);
                   });
        }
      } else if (alone) {
        if (!decided) {
          suppress(e.time, e.id, "correlation", "no other source within correlation.radius_m and correlation.window",
                   [&](JsonWriter& w) {
                     w.member("event_type", type_name).member("confidence", round_term(own));
                     w.member("radius_m", config.correlation.radius_m)
                         .member("window", format_duration(config.correlation.window));
                   });
        }
      } else if (joins) {
        double combined = 0;
        Severity severity = e.severity;
        EventTime latest = e.time;
        AlertCandidate c = base_candidate(AlertType::kCorrelation, "");
        add_corroboration(c, combined, severity, latest);
        // One incident, one key: the place of its earliest corroborating event.
        const detect::CorrelationEntry* anchor = nullptr;
        for (const detect::CorrelationEntry* n : corroborating) {
          if (anchor == nullptr || n->seq < anchor->seq) anchor = n;
        }
        if (anchor != nullptr && anchor->seq < e.seq) {
          c.cell = enricher.fine_cell(anchor->lat, anchor->lon);
          c.cell_token = Enricher::cell_token(c.cell);
          c.lat = anchor->lat;
          c.lon = anchor->lon;
          c.district = district_name(enricher.district_of(anchor->lat, anchor->lon));
        }
        c.category = std::string(severity_name(severity));
        if (combined < config.thresholds.correlation_combined) {
          suppress(e.time, e.id, "correlation", "combined confidence below thresholds.correlation_combined",
                   [&](JsonWriter& w) {
                     w.member("combined", round_term(combined))
                         .member("threshold", config.thresholds.correlation_combined);
                   });
        } else {
          c.verified = true;
          c.has_confidence = true;
          c.confidence = combined;
          const double site = anchor != nullptr && anchor->seq < e.seq
                                  ? enricher.nearest_site(c.lat, c.lon).distance_m
                                  : static_cast<double>(e.site_distance_m);
          c.score = score_alert(ScoreInput{severity, true, combined, static_cast<int>(c.sources.size()), latest, now,
                                           site},
                                config.priority);
          offer(std::move(c), now, e.ingest_time, "correlation: combined confidence passes");
        }
      }
    }

    // Geofences: every matching rule alerts.
    for (uint64_t fences = e.geofences; fences != 0; fences &= fences - 1) {
      const auto rule = static_cast<size_t>(std::countr_zero(fences));
      const detect::GeofenceIndex::Hit hit = geofences->describe(rule, e.lat, e.lon);
      offer(ungated(AlertType::kGeofence, geofences->rules()[rule].name), now, e.ingest_time,
            fmt::format("geofence {}: {} ({:.0f} m): always alerts", geofences->rules()[rule].name, hit.place,
                        hit.distance_m));
    }
  }

  // ---- windows ---------------------------------------------------------
  /// The alert of a window, placed at its cell's centre (whose district
  /// goes to `district`).
  AlertCandidate window_candidate(AlertType type, const WindowRecord& r, int32_t& district) const {
    AlertCandidate c;
    c.type = type;
    c.status = AlertStatus::kAlert;
    c.category = std::string(types.name(r.key.category));
    c.cell = r.key.cell;
    c.cell_token = Enricher::cell_token(r.key.cell);
    const Enricher::LatLon at = Enricher::cell_center(r.key.cell);
    c.has_location = true;
    c.lat = at.lat;
    c.lon = at.lon;
    district = enricher.district_of(at.lat, at.lon);
    c.district = district_name(district);
    c.event_time = r.start;
    // A window has no event id of its own: name it by its place, start and
    // count, so a re-emission with a higher count (late events) is new
    // evidence for its alert, and a repeat of the same result is not.
    std::string id;
    window_ref(r, c.cell_token, c.category, id);
    c.event_ids.push_back(std::move(id));
    for (uint32_t bits = r.sources; bits != 0; bits &= bits - 1) {
      c.sources.emplace_back(sources.name(static_cast<SourceId>(std::countr_zero(bits))));
    }
    std::sort(c.sources.begin(), c.sources.end());
    return c;
  }

  PriorityScore window_score(const AlertCandidate& c, const WindowRecord& r, EventTime now) const {
    const double site = enricher.nearest_site(c.lat, c.lon).distance_m;
    return score_alert(ScoreInput{window_severity(r), true, c.confidence,
                                  std::max(1, std::popcount(r.sources)), r.end, now, site},
                       config.priority);
  }

  /// A model-derived alert (spike, ml_anomaly) counts in the bias check and
  /// carries its district's flag.
  void mark_model_derived(AlertCandidate& c, int32_t district, const WindowRecord& r) {
    bias.add_ml_alert(district, r.start);
    c.bias_review = bias.flagged(district);
  }

  void handle_spike(const WindowRecord& r, EventTime now) {
    std::optional<detect::SpikeVerdict> v = r.revision == 0 ? spike->observe(r.key, r.start, r.count)
                                                            : spike->revise(r.key, r.start, r.count);
    if (!v) return;
    int32_t district = -1;
    AlertCandidate c = window_candidate(AlertType::kSpike, r, district);
    c.has_confidence = true;
    c.confidence = v->confidence;
    c.score = window_score(c, r, now);
    const bool alert = v->confidence >= config.thresholds.spike;
    c.status = alert ? AlertStatus::kAlert : AlertStatus::kTrendWatch;
    if (alert) mark_model_derived(c, district, r);
    offer(std::move(c), now, ProcTime{},
          alert ? fmt::format("spike: confidence {:.4f} >= thresholds.spike {}", v->confidence, config.thresholds.spike)
                : fmt::format("spike: confidence {:.4f} < thresholds.spike {}: trend_watch", v->confidence,
                              config.thresholds.spike));
  }

  void features(const WindowRecord& r, std::array<float, kWindowFeatures>& x) const {
    const double n = static_cast<double>(std::max<uint64_t>(r.count, 1));
    const double hour = enricher.local_time(r.start).hour;
    const double angle = 2 * std::numbers::pi * hour / 24;
    x[0] = static_cast<float>(std::log1p(static_cast<double>(r.count)));
    x[1] = static_cast<float>(std::popcount(r.sources));
    x[2] = static_cast<float>(r.violent / n);
    x[3] = static_cast<float>(r.property / n);
    x[4] = static_cast<float>(r.confident == 0 ? 0.0 : r.confidence_sum / r.confident);
    x[5] = static_cast<float>(std::sin(angle));
    x[6] = static_cast<float>(std::cos(angle));
  }

  /// A window's isolation-forest score, one at a time (live: the budget is
  /// checked between windows).
  void handle_ml(const WindowRecord& r, EventTime now) {
    std::array<float, kWindowFeatures> x{};
    features(r, x);
    const Result<std::optional<double>> scored = forest->observe(x);
    if (!scored.ok()) return;
    handle_ml_score(r, now, scored.value());
  }

  /// Replay: the epoch's windows for the forest, in order, scored in
  /// batches (OnlineIsolationForest::observe_batch gives the same scores as
  /// observe() one by one). ml_scores[i] belongs to the i-th window that
  /// wants_ml().
  static bool wants_ml(const WindowRecord& r) {
    return r.kind == WindowKind::kTumbling && !r.retracted && r.revision == 0;
  }
  void score_windows(std::span<const WindowRecord> records) {
    ml_rows.clear();
    std::array<float, kWindowFeatures> x{};
    for (const WindowRecord& r : records) {
      if (!wants_ml(r)) continue;
      features(r, x);
      ml_rows.insert(ml_rows.end(), x.begin(), x.end());
    }
    ml_scores.assign(ml_rows.size() / kWindowFeatures, std::nullopt);
    if (!forest->observe_batch(ml_rows, ml_scores).ok()) ml_scores.assign(ml_scores.size(), std::nullopt);
  }

  /// "window:CELL/CATEGORY/START#COUNT": the event id a window's candidate
  /// carries (window_candidate), written into `out`.
  void window_ref(const WindowRecord& r, std::string_view cell_token, std::string_view category,
                  std::string& out) const {
    out.assign("window:");
    out += cell_token;
    out += '/';
    out += category;
    out += '/';
    append_rfc3339(out, r.start);
    out += '#';
    const fmt::format_int count(r.count);
    out.append(count.data(), count.size());
  }

  void handle_ml_score(const WindowRecord& r, EventTime now, std::optional<double> scored) {
    if (!scored) return;  // warm-up
    counters.windows_scored.fetch_add(1, std::memory_order_relaxed);
    const double confidence = detect::IsolationForest::confidence(*scored);
    if (confidence <= config.ml.candidate_confidence) return;
    if (confidence < config.thresholds.ml_anomaly) {
      // Most scored windows that get this far stop here (one audit record
      // each): only what the record shows is built, not the whole candidate.
      const std::string cell_token = Enricher::cell_token(r.key.cell);
      const std::string_view category = types.name(r.key.category);
      window_ref(r, cell_token, category, ref);
      suppress(r.start, ref, "ml_anomaly", "confidence below thresholds.ml_anomaly", [&](JsonWriter& w) {
        w.member("cell", cell_token).member("category", category);
        w.member("confidence", round_term(confidence)).member("threshold", config.thresholds.ml_anomaly);
        w.member("count", r.count);
      });
      return;
    }
    int32_t district = -1;
    AlertCandidate c = window_candidate(AlertType::kMlAnomaly, r, district);
    c.has_confidence = true;
    c.confidence = confidence;
    c.score = window_score(c, r, now);
    mark_model_derived(c, district, r);
    offer(std::move(c), now, ProcTime{},
          fmt::format("ml_anomaly: confidence {:.4f} >= thresholds.ml_anomaly {}", confidence,
                      config.thresholds.ml_anomaly));
  }

  void process(std::span<const std::unique_ptr<StageOutput>> outputs, std::span<const WindowRecord> records,
               EventTime now, EventTime watermark) {
    // Event-time state (correlation index, open alerts, bias buckets) moves
    // with event time: live, "now" is the wall clock, and an event replayed
    // from an hour ago must still find its neighbours.
    const EventTime clock = live ? watermark : now;
    // The budget is wall time, so it only applies live: a replay must give
    // the same alerts on any machine, and stalls no one by taking its time.
    const bool enforce_budget = live;
    const bool batched = forest && !enforce_budget;
    // The model's scores depend only on the epoch's windows in order, never
    // on the events' decisions, so they are computed alongside them.
    if (batched) model_thread.start([this, records] { score_windows(records); });
    ordered.clear();
    for (const auto& o : outputs) {
      const auto* s = dynamic_cast<const ShardSignals*>(o.get());
      if (s == nullptr) continue;
      for (const SignalEvent& e : s->events) ordered.push_back(&e);
      for (const DistrictHourCount& d : s->districts) {
        bias.add_events(d.district, event_time_from_ms(d.hour * kHourMs), d.events);
      }
    }
    std::sort(ordered.begin(), ordered.end(), [](const SignalEvent* a, const SignalEvent* b) { return a->seq < b->seq; });
    counters.signals.fetch_add(ordered.size(), std::memory_order_relaxed);
    for (const SignalEvent* e : ordered) handle_event(*e, now);

    const auto budget_end = std::chrono::steady_clock::now() + config.ml.budget;
    bool over_budget = false;
    uint64_t unscored = 0;
    if (batched) model_thread.wait();
    size_t scored = 0;
    for (const WindowRecord& r : records) {
      if (r.kind != WindowKind::kTumbling || r.retracted) continue;
      if (spike) handle_spike(r, now);
      if (forest && r.revision == 0) {
        if (batched) {
          handle_ml_score(r, now, ml_scores[scored++]);
          continue;
        }
        if (enforce_budget && !over_budget && std::chrono::steady_clock::now() >= budget_end) over_budget = true;
        if (over_budget) {
          ++unscored;
          continue;
        }
        handle_ml(r, now);
      }
    }
    if (unscored > 0) {
      counters.unscored.fetch_add(unscored, std::memory_order_relaxed);
      spdlog::warn("ml: {} window(s) passed unscored: the isolation forest ran past ml.budget ({})", unscored,
                   format_duration(config.ml.budget));
    }

    bias_changes.clear();
    if (clock != last_bias_check && clock != kMinEventTime && clock != kMaxEventTime) {
      bias.evaluate(clock, bias_changes);
    }
    last_bias_check = clock;
    for (const BiasChange& ch : bias_changes) {  // BiasMonitor logs each change
      const std::string name = district_name(ch.district);
      if (ch.flagged) counters.bias_flagged.fetch_add(1, std::memory_order_relaxed);
      reasons.clear();
      JsonWriter w(reasons);
      w.begin_object().member("district", name).member("flagged", ch.flagged);
      w.member("ratio", std::isfinite(ch.ratio) ? round_term(ch.ratio) : 1e9);
      w.member("alert_share", round_term(ch.alert_share)).member("event_share", round_term(ch.event_share));
      w.member("alerts", ch.alerts).member("events", ch.events);
      w.member("total_alerts", ch.total_alerts).member("total_events", ch.total_events);
      w.member("min_ratio", config.bias.min_ratio).member("max_ratio", config.bias.max_ratio);
      w.member("window", format_duration(config.bias.window)).end_object();
      audit(clock, AuditDecision::kBiasReview, "district:" + name, reasons);
    }

    // Forget what can no longer match: an event not late is at most
    // allowed_lateness behind the watermark, and correlates within the window.
    // Every few seconds of event time, not every epoch: live, an epoch is one
    // request, and the sweeps would cost more than the work.
    if (clock != kMinEventTime && clock != kMaxEventTime &&
        (last_expiry == kMinEventTime || clock - last_expiry >= kExpiryStep)) {
      last_expiry = clock;
      correlation.expire(clock - config.windows.allowed_lateness - config.correlation.window);
      book.expire(clock);
      if (spike && (last_spike_expiry == kMinEventTime || clock - last_spike_expiry >= Millis(kHourMs * 24))) {
        spike->expire(clock - Millis(kHourMs * 24 * 7));
        last_spike_expiry = clock;
      }
    }
    counters.open_alerts.store(book.size(), std::memory_order_relaxed);
  }
};

AlertStage::AlertStage(const Config& config, const Enricher& enricher, const detect::GeofenceIndex* geofences,
                       const Interner& sources, const Interner& types, FileSink& alerts_out, AuditFn audit,
                       AlertCounters& counters, LatencyHistogram* event_to_alert, bool live)
    : impl_(std::make_unique<Impl>(config, enricher, geofences, sources, types, alerts_out, std::move(audit), counters,
                                   event_to_alert)) {
  impl_->live = live;
}

AlertStage::~AlertStage() = default;

void AlertStage::process(std::span<const std::unique_ptr<StageOutput>> signals, std::span<const WindowRecord> records,
                         EventTime now, EventTime watermark) {
  Impl& p = *impl_;
  p.process(signals, records, now, watermark);
  if (p.listener && !p.emitted.empty()) {
    p.listener(p.emitted, p.emitted_records);
    p.emitted.clear();
    p.emitted_records.clear();
  }
}

void AlertStage::set_listener(EmitFn listener) { impl_->listener = std::move(listener); }

void AlertStage::save(ByteWriter& out) const {
  const Impl& p = *impl_;
  out.u32(kStateVersion);
  p.correlation.save(out);
  p.book.save(out);
  p.bias.save(out);
  out.u8(p.spike ? 1 : 0);
  if (p.spike) p.spike->save(out);
  out.u8(p.forest ? 1 : 0);
  if (p.forest) p.forest->save(out);
  out.i64(to_ms(p.last_spike_expiry));
  out.i64(to_ms(p.last_expiry));
  out.i64(to_ms(p.last_bias_check));
  for (const auto* c : {&p.counters.alerts, &p.counters.updates, &p.counters.suppressed, &p.counters.trend_watch,
                        &p.counters.unscored, &p.counters.signals, &p.counters.windows_scored,
                        &p.counters.bias_flagged}) {
    out.u64(c->load());
  }
}

bool AlertStage::load(ByteReader& in) {
  Impl& p = *impl_;
  if (in.u32() != kStateVersion) return false;
  if (!p.correlation.load(in) || !p.book.load(in) || !p.bias.load(in)) return false;
  if ((in.u8() != 0) != p.spike.has_value()) return false;
  if (p.spike && !p.spike->load(in)) return false;
  if ((in.u8() != 0) != p.forest.has_value()) return false;
  if (p.forest && !p.forest->load(in)) return false;
  p.last_spike_expiry = event_time_from_ms(in.i64());
  p.last_expiry = event_time_from_ms(in.i64());
  p.last_bias_check = event_time_from_ms(in.i64());
  for (auto* c : {&p.counters.alerts, &p.counters.updates, &p.counters.suppressed, &p.counters.trend_watch,
                  &p.counters.unscored, &p.counters.signals, &p.counters.windows_scored, &p.counters.bias_flagged}) {
    c->store(in.u64());
  }
  p.counters.open_alerts.store(p.book.size());
  return !in.fail();
}

}  // namespace sentinel
