#include "pipeline/replay.h"

#include "pipeline/alerting.h"

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <memory>
#include <thread>

#include "core/cloudevents.h"
#include "pipeline/decode_ahead.h"

namespace sentinel {

namespace {

/// One input: its decoded blocks, the next good event waiting (the merge
/// head), and where a resume would start.
struct InputCursor {
  std::unique_ptr<DecodeAhead> reader;
  std::unique_ptr<DecodedBlock> block;
  size_t index = 0;        // next line of `block` to look at
  bool has_head = false;
  DecodedLine* head = nullptr;
  ResumePoint handled;     // the first line not yet handled
};

}  // namespace

ReplaySummary run_replay(const Config& config, const ReplayOptions& options) {
  PipelineOptions po;
  po.out_dir = options.out_dir;
  po.checkpoint_dir = options.checkpoint_dir;
  po.inputs = options.inputs;
  po.shards = options.shards;
  Pipeline pipeline(config, po);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<ResumePoint> resume = pipeline.start();

  std::vector<InputCursor> cursors(options.inputs.size());
  for (size_t i = 0; i < cursors.size(); ++i) {
    cursors[i].reader = std::make_unique<DecodeAhead>(options.inputs[i], resume[i], config.ingest.max_line_bytes,
                                                      pipeline.make_decoder(),
                                                      [&pipeline](Event& e) { pipeline.prepare(e); });
    cursors[i].handled = resume[i];
  }
  pipeline.set_position_provider([&cursors] {
    std::vector<ResumePoint> out;
    for (const InputCursor& c : cursors) {
      out.push_back(c.has_head ? ResumePoint{c.head->offset, c.head->number} : c.handled);
    }
    return out;
  });

  // Moves an input to its next good event; bad lines on the way become dead
  // letters, in input order.
  auto advance = [&](size_t i) {
    InputCursor& c = cursors[i];
    c.has_head = false;
    for (;;) {
      if (!c.block || c.index == c.block->lines.size()) {
        c.block = c.reader->next();
        c.index = 0;
        if (!c.block) {
          pipeline.finish_input(i);
          return;
        }
        pipeline.hold_texts(i, c.block->texts);
        continue;
      }
      DecodedLine& d = c.block->lines[c.index++];
      if (d.ok) {
        c.head = &d;
        c.has_head = true;
        return;
      }
      c.handled = d.next;
      if (d.too_long) {
        pipeline.reject_too_long(i, d.number, d.offset, d.length, d.raw);
      } else {
        pipeline.reject_line(i, d.number, d.offset, d.reason, d.raw);
      }
      pipeline.line_done();
    }
  };
  for (size_t i = 0; i < cursors.size(); ++i) advance(i);

  auto last_progress = std::chrono::steady_clock::now();
  EventTime pace_origin = kMinEventTime;
  auto pace_wall = std::chrono::steady_clock::now();
  for (;;) {
    size_t best = cursors.size();
    for (size_t i = 0; i < cursors.size(); ++i) {
      if (cursors[i].has_head &&
          (best == cursors.size() || cursors[i].head->event.time < cursors[best].head->event.time)) {
        best = i;
      }
    }
    if (best == cursors.size()) break;
    InputCursor& c = cursors[best];
    if (options.speed > 0) {
      if (pace_origin == kMinEventTime) pace_origin = c.head->event.time;
      const auto due = pace_wall + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double, std::milli>(
                                           static_cast<double>(to_ms(c.head->event.time) - to_ms(pace_origin)) / options.speed));
      // No extra marker while waiting: markers fall only every batch_size
      // lines, so a paced replay gives the same output as a fast one.
      if (due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
    }
    DecodedLine& head = *c.head;
    head.event.where = Provenance{static_cast<InputId>(best), head.number, head.offset};
    pipeline.count_line();
    pipeline.accept(best, head.event, head.raw);
    c.handled = head.next;
    // Move past the accepted line before counting it: a marker (and its
    // checkpoint) taken in line_done() must resume after this line, not at it.
    advance(best);
    pipeline.line_done();
    if (options.on_progress) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_progress >= std::chrono::seconds(1)) {
        last_progress = now;
        options.on_progress(pipeline);
      }
    }
  }
  // The summary covers the 24 h up to the last watermark of the input.
  pipeline.drain();
  std::vector<std::string> global;
  if (options.global_summary) global = pipeline.global_summary();
  pipeline.finish();
  if (options.global_summary) {
    const std::string path = options.out_dir + "/global.jsonl";
    std::ofstream out(path, std::ios::trunc);
    for (const std::string& line : global) out << line << '\n';
    if (!out) throw std::runtime_error(path + ": cannot write");
  }
  if (options.on_progress) options.on_progress(pipeline);
  ReplaySummary s;
  const auto& k = pipeline.counters();
  s.lines = k.lines;
  s.events = k.events;
  s.dead_letters = k.dead_letters;
  s.late = k.late;
  s.duplicates = k.duplicates;
  s.windows = k.windows;
  const AlertCounters& a = pipeline.alert_counters();
  s.alerts = a.alerts;
  s.updates = a.updates;
  s.suppressed = a.suppressed;
  s.trend_watch = a.trend_watch;
  s.shards = pipeline.shard_count();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace sentinel
