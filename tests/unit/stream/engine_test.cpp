#include "stream/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sentinel {
namespace engine_test {

Event located(int64_t minute, uint64_t cell) {
  Event e;
  e.time = event_time_from_ms(minute * 60'000);
  e.has_location = true;
  e.enrich.fine_cell = cell;
  e.type = 1;
  return e;
}

// Live ingest sends from several threads, one at a time under a lock: every
// shard must still see batches in the order they were sent, or a final
// marker could overtake the events before it.
TEST(ShardedEngine, KeepsSendOrderAcrossSenderThreads) {
  std::vector<uint64_t> epochs;
  uint64_t events = 0;
  std::vector<WindowRecord> records;
  std::mutex out_mutex;
  ShardedEngine::Options o;
  o.shards = 2;
  o.queue_batches = 4;
  ShardedEngine engine(o, {}, [&](EpochOutput& out) {
    std::lock_guard lock(out_mutex);
    epochs.push_back(out.epoch);
    events += out.events;
    records.insert(records.end(), out.records.begin(), out.records.end());
  });
  engine.start();
  std::mutex ingest;  // what LiveService's ingest mutex does
  uint64_t epoch = 0;
  constexpr int kRounds = 300;
  auto sender = [&](int id) {
    for (int i = 0; i < kRounds; ++i) {
      std::lock_guard lock(ingest);
      engine.push(i % 2, located(10, 0x8800000000000000ull + static_cast<uint64_t>(id) * 16));
      engine.emit_marker(Marker{++epoch, event_time_from_ms(0), false});
    }
  };
  std::thread a(sender, 0), b(sender, 1);
  a.join();
  b.join();
  {
    std::lock_guard lock(ingest);
    engine.emit_marker(Marker{++epoch, kMaxEventTime, false});
  }
  engine.stop();
  ASSERT_EQ(epochs.size(), epoch);
  for (size_t i = 0; i < epochs.size(); ++i) ASSERT_EQ(epochs[i], i + 1);
  EXPECT_EQ(events, 2u * kRounds);
  uint64_t tumbling = 0;
  for (const auto& r : records) tumbling += r.kind == WindowKind::kTumbling ? r.count : 0;
  EXPECT_EQ(tumbling, 2u * kRounds);  // no event arrived after the final marker
}

struct Tag final : StageOutput {
  int shard = -1;
  size_t records = 0;
};

// The per-shard hook runs on each shard for every epoch; the handler gets
// its results by shard index and the records shard by shard, in the order
// the hook left them, whatever order the shards finished in.
TEST(ShardedEngine, ShardHookResultsArriveByShardInShardOrder) {
  constexpr int kShards = 3;
  ShardedEngine::Options o;
  o.shards = kShards;
  o.queue_batches = 4;
  std::vector<std::string> problems;
  uint64_t tumbling = 0, epochs = 0;
  ShardedEngine engine(
      o, {},
      [&](EpochOutput& out) {
        ++epochs;
        if (out.shard_results.size() != kShards || out.shard_ends.size() != kShards) {
          problems.push_back("epoch " + std::to_string(out.epoch) + ": not one result per shard");
          return;
        }
        size_t begin = 0;
        for (size_t s = 0; s < kShards; ++s) {
          const auto* tag = dynamic_cast<const Tag*>(out.shard_results[s].get());
          const size_t end = out.shard_ends[s];
          if (tag == nullptr || tag->shard != static_cast<int>(s) || tag->records != end - begin) {
            problems.push_back("epoch " + std::to_string(out.epoch) + ": shard " + std::to_string(s) +
                               "'s result is not in its slot");
            continue;
          }
          // The hook sorted each shard's records by descending cell.
          for (size_t i = begin; i + 1 < end; ++i) {
            if (out.records[i].key.cell < out.records[i + 1].key.cell) problems.push_back("unsorted run");
          }
          // Shard s only ever saw cells s * 1000 + k.
          for (size_t i = begin; i < end; ++i) {
            if ((out.records[i].key.cell - 0x8800000000000000ull) / 1000 != s) problems.push_back("foreign record");
            if (out.records[i].kind == WindowKind::kTumbling) tumbling += out.records[i].count;
          }
          begin = end;
        }
        if (begin != out.records.size()) problems.push_back("shard_ends do not cover the records");
      },
      {},
      [](int shard, std::vector<WindowRecord>& records) -> std::unique_ptr<StageOutput> {
        std::sort(records.begin(), records.end(),
                  [](const WindowRecord& a, const WindowRecord& b) { return a.key.cell > b.key.cell; });
        auto tag = std::make_unique<Tag>();
        tag->shard = shard;
        tag->records = records.size();
        return tag;
      });
  engine.start();
  uint64_t epoch = 0, pushed = 0;
  for (int minute = 0; minute < 60; ++minute) {
    for (int s = 0; s < kShards; ++s) {
      for (int k = 0; k < 4; ++k) {
        const uint64_t cell = 0x8800000000000000ull + static_cast<uint64_t>(s) * 1000 + static_cast<uint64_t>(k);
        engine.push(s, located(minute, cell));
        ++pushed;
      }
    }
    engine.emit_marker(Marker{++epoch, event_time_from_ms(minute * 60'000), false});
  }
  engine.emit_marker(Marker{++epoch, kMaxEventTime, false});
  engine.stop();
  EXPECT_EQ(epochs, epoch);
  EXPECT_EQ(tumbling, pushed);
  for (const std::string& p : problems) ADD_FAILURE() << p;
}

}  // namespace engine_test
}  // namespace sentinel
