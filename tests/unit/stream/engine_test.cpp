#include "stream/engine.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

namespace sentinel {
namespace {

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

}  // namespace
}  // namespace sentinel
