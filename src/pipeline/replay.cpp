#include "pipeline/replay.h"

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <memory>
#include <thread>

#include "sources/json_lines_file.h"

namespace sentinel {

namespace {

/// One input with its next good event decoded and waiting (the merge head).
struct InputCursor {
  std::unique_ptr<JsonLinesFile> file;
  bool has_head = false;
  Event head;
  std::string_view head_raw;
  ResumePoint head_position;  // where a resume re-reads the head
  bool done = false;
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
    cursors[i].file = std::make_unique<JsonLinesFile>(options.inputs[i], resume[i].offset, resume[i].line,
                                                      config.ingest.max_line_bytes);
  }
  pipeline.set_position_provider([&cursors] {
    std::vector<ResumePoint> out;
    for (const InputCursor& c : cursors) {
      out.push_back(c.has_head ? c.head_position
                               : ResumePoint{c.file->next_offset(), c.file->next_line_number()});
    }
    return out;
  });

  // Advances an input to its next good event; dead letters on the way are
  // recorded in input order.
  auto advance = [&](size_t i) {
    InputCursor& c = cursors[i];
    c.has_head = false;
    JsonLinesFile::Line line;
    while (c.file->next(line)) {
      pipeline.hold_text(i, c.file->current_text());
      if (line.too_long) {
        pipeline.reject_too_long(i, line.number, line.offset, line.length, line.text);
        pipeline.line_done();
        continue;
      }
      Event e;
      if (!pipeline.decode(i, line.text, line.number, line.offset, e)) {
        pipeline.line_done();
        continue;
      }
      c.head = e;
      c.head_raw = line.text;
      c.head_position = ResumePoint{line.offset, line.number};
      c.has_head = true;
      return;
    }
    c.done = true;
    pipeline.finish_input(i);
  };
  for (size_t i = 0; i < cursors.size(); ++i) advance(i);

  auto last_progress = std::chrono::steady_clock::now();
  EventTime pace_origin = kMinEventTime;
  auto pace_wall = std::chrono::steady_clock::now();
  for (;;) {
    size_t best = cursors.size();
    for (size_t i = 0; i < cursors.size(); ++i) {
      if (cursors[i].has_head && (best == cursors.size() || cursors[i].head.time < cursors[best].head.time)) {
        best = i;
      }
    }
    if (best == cursors.size()) break;
    InputCursor& c = cursors[best];
    if (options.speed > 0) {
      if (pace_origin == kMinEventTime) pace_origin = c.head.time;
      const auto due = pace_wall + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double, std::milli>(
                                           static_cast<double>(to_ms(c.head.time) - to_ms(pace_origin)) / options.speed));
      // No extra marker while waiting: markers fall only every batch_size
      // lines, so a paced replay gives the same output as a fast one.
      if (due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
    }
    pipeline.accept(best, c.head, c.head_raw);
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
  s.shards = pipeline.shard_count();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace sentinel
