#include "stream/engine.h"

#include <concurrentqueue/blockingconcurrentqueue.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <future>
#include <map>
#include <thread>

#include "stream/bytes.h"
#include "stream/window_operator.h"

namespace sentinel {

namespace {

enum class BatchKind : uint8_t { kData, kGlobalQuery, kStop };

struct ShardBatch {
  BatchKind kind = BatchKind::kData;
  std::vector<Event> events;
  std::vector<std::shared_ptr<const std::string>> texts;
  Marker marker;
  std::promise<std::vector<WindowRecord>>* query = nullptr;
};

struct ShardOutput {
  int shard = -1;
  bool stopped = false;  // the shard's last output: it has nothing more to deliver
  uint64_t epoch = 0;
  EventTime watermark;
  std::vector<WindowRecord> records;
  std::unique_ptr<StageOutput> result;  // the ShardEpochHook's
  bool checkpoint = false;
  std::string state;
  uint64_t events = 0;
  std::vector<std::unique_ptr<StageOutput>> stage_outputs;
};

}  // namespace

struct ShardedEngine::Impl {
  struct Shard {
    Shard(int i, const WindowsConfig& w, uint32_t queue_batches)
        : index(i),
          windows(w),
          slots(static_cast<ssize_t>(queue_batches)),
          ahead(static_cast<ssize_t>(queue_batches)) {}
    int index;
    WindowOperator windows;
    std::vector<std::unique_ptr<BatchStage>> stages;
    // The shard's input, in exactly the order batches were sent. Not a
    // moodycamel queue: those are FIFO per producer thread only, and a live
    // shard is fed from several threads (HTTP handlers, the ticker, stop())
    // whose batches must stay in marker order. One lock per batch, private
    // to this shard and its senders.
    std::mutex queue_mutex;
    std::condition_variable queue_ready;
    std::deque<std::unique_ptr<ShardBatch>> queue;  // guarded by queue_mutex
    moodycamel::LightweightSemaphore slots;  // free places in `queue` (backpressure)
    // Epochs this shard may still deliver before the merger has handed on the
    // oldest it delivered: without this bound a shard runs arbitrarily far
    // ahead of a slower merger, and every epoch's results wait in memory.
    moodycamel::LightweightSemaphore ahead;
    moodycamel::ConcurrentQueue<std::unique_ptr<ShardBatch>> recycled;
    std::unique_ptr<ShardBatch> open;  // being filled by the ingest thread
    std::thread thread;
  };

  Options options;
  EpochHandler on_epoch;
  LatencyObserver on_latency;
  ShardEpochHook on_shard_epoch;
  std::vector<std::unique_ptr<Shard>> shards;
  moodycamel::BlockingConcurrentQueue<ShardOutput> outputs;
  std::thread merger;
  std::atomic<uint64_t> pushed{0}, processed{0};
  bool started = false, stopped = false;

  std::unique_ptr<ShardBatch> fresh_batch(Shard& s) {
    std::unique_ptr<ShardBatch> b;
    if (!s.recycled.try_dequeue(b)) b = std::make_unique<ShardBatch>();
    b->kind = BatchKind::kData;
    b->events.clear();
    b->texts.clear();
    b->query = nullptr;
    return b;
  }

  void enqueue(Shard& s, std::unique_ptr<ShardBatch> b) {
    s.slots.wait();
    {
      std::lock_guard lock(s.queue_mutex);
      s.queue.push_back(std::move(b));
    }
    s.queue_ready.notify_one();
  }

  void run_shard(Shard& s) {
    std::vector<WindowRecord> records;  // reused: the output gets an exact-size copy
    for (;;) {
      std::unique_ptr<ShardBatch> b;
      {
        std::unique_lock lock(s.queue_mutex);
        s.queue_ready.wait(lock, [&s] { return !s.queue.empty(); });
        b = std::move(s.queue.front());
        s.queue.pop_front();
      }
      if (b->kind == BatchKind::kStop) {
        // Sent from this thread, so it arrives after all of this shard's
        // outputs (the queue is FIFO per producer, not across producers).
        ShardOutput last;
        last.shard = s.index;
        last.stopped = true;
        outputs.enqueue(std::move(last));
        s.slots.signal();
        return;
      }
      if (b->kind == BatchKind::kGlobalQuery) {
        std::vector<WindowRecord> part;
        s.windows.global_summary(b->marker.watermark, part);
        b->query->set_value(std::move(part));
        s.slots.signal();
        continue;
      }
      std::span<Event> events(b->events);
      std::vector<std::unique_ptr<StageOutput>> stage_outputs;
      for (size_t i = 0; i < s.stages.size(); ++i) {
        s.stages[i]->process(events);
        if (auto o = s.stages[i]->take_output()) stage_outputs.push_back(std::move(o));
        if (on_latency && !events.empty()) on_latency(s.index, i, std::chrono::steady_clock::now(), events);
      }
      s.windows.add(events);
      ShardOutput out;
      records.clear();
      s.windows.advance(b->marker.watermark, records);
      if (on_shard_epoch) out.result = on_shard_epoch(s.index, records);
      out.records = records;
      if (on_latency && !events.empty()) {
        on_latency(s.index, s.stages.size(), std::chrono::steady_clock::now(), events);
      }
      out.shard = s.index;
      out.epoch = b->marker.epoch;
      out.watermark = b->marker.watermark;
      out.events = events.size();
      out.stage_outputs = std::move(stage_outputs);
      if (b->marker.checkpoint) {
        ByteWriter w;
        s.windows.save(w);
        out.checkpoint = true;
        out.state = w.take();
      }
      processed.fetch_add(events.size(), std::memory_order_relaxed);
      s.ahead.wait();
      outputs.enqueue(std::move(out));
      b->texts.clear();  // release the text as soon as the shard is done with it
      s.recycled.enqueue(std::move(b));
      s.slots.signal();
    }
  }

  void run_merger() {
    struct Pending {
      EpochOutput out;
      std::vector<std::vector<WindowRecord>> records;  // per shard
      int delivered = 0;
    };
    std::map<uint64_t, Pending> pending;
    const int n = static_cast<int>(shards.size());
    int stopped = 0;
    for (;;) {
      ShardOutput o;
      outputs.wait_dequeue(o);
      if (o.stopped) {
        if (++stopped == n) return;
        continue;
      }
      Pending& p = pending[o.epoch];
      if (p.delivered == 0) {
        p.records.resize(static_cast<size_t>(n));
        p.out.shard_results.resize(static_cast<size_t>(n));
      }
      p.out.epoch = o.epoch;
      p.out.watermark = o.watermark;
      p.out.events += o.events;
      p.records[static_cast<size_t>(o.shard)] = std::move(o.records);
      p.out.shard_results[static_cast<size_t>(o.shard)] = std::move(o.result);
      for (auto& so : o.stage_outputs) p.out.stage_outputs.push_back(std::move(so));
      if (o.checkpoint) {
        p.out.checkpoint = true;
        p.out.shard_states.resize(static_cast<size_t>(n));
        p.out.shard_states[static_cast<size_t>(o.shard)] = std::move(o.state);
      }
      ++p.delivered;
      // Shards deliver epochs in order, so the oldest pending epoch completes first.
      while (!pending.empty() && pending.begin()->second.delivered == n) {
        Pending& done = pending.begin()->second;
        // Shard order, never arrival order: the handler sees the same epoch
        // whatever the threads' timing.
        if (n == 1) {
          done.out.records = std::move(done.records[0]);
        } else {
          size_t total = 0;
          for (const auto& part : done.records) total += part.size();
          done.out.records.reserve(total);
          for (const auto& part : done.records) {
            done.out.records.insert(done.out.records.end(), part.begin(), part.end());
          }
        }
        size_t end = 0;
        for (const auto& part : done.records) done.out.shard_ends.push_back(end += part.size());
        on_epoch(done.out);
        pending.erase(pending.begin());
        for (auto& s : shards) s->ahead.signal();
      }
    }
  }
};

ShardedEngine::ShardedEngine(Options options, StageFactory stages, EpochHandler on_epoch,
                             LatencyObserver on_latency, ShardEpochHook on_shard_epoch)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->on_epoch = std::move(on_epoch);
  impl_->on_latency = std::move(on_latency);
  impl_->on_shard_epoch = std::move(on_shard_epoch);
  const int n = std::max(1, options.shards);
  for (int i = 0; i < n; ++i) {
    auto s = std::make_unique<Impl::Shard>(i, options.windows, std::max<uint32_t>(2, options.queue_batches));
    if (stages) s->stages = stages(i);
    s->open = impl_->fresh_batch(*s);
    impl_->shards.push_back(std::move(s));
  }
}

ShardedEngine::~ShardedEngine() { stop(); }

int ShardedEngine::shard_count() const { return static_cast<int>(impl_->shards.size()); }

bool ShardedEngine::restore(const std::vector<std::string>& shard_states,
                            const std::function<int(uint64_t cell)>& route) {
  for (auto& s : impl_->shards) {
    const int self = s->index;
    // Every snapshot may hold keys this shard owns now (after a change of shard count).
    for (const std::string& state : shard_states) {
      ByteReader in(state);
      if (!s->windows.load(in, [&](uint64_t cell) { return cell == 0 ? self == 0 : route(cell) == self; })) {
        return false;
      }
    }
  }
  return true;
}

void ShardedEngine::start() {
  if (impl_->started) return;
  impl_->started = true;
  for (auto& s : impl_->shards) {
    Impl::Shard* shard = s.get();
    s->thread = std::thread([this, shard] { impl_->run_shard(*shard); });
  }
  impl_->merger = std::thread([this] { impl_->run_merger(); });
}

void ShardedEngine::push(int shard, const Event& event) {
  impl_->shards[static_cast<size_t>(shard)]->open->events.push_back(event);
  impl_->pushed.fetch_add(1, std::memory_order_relaxed);
}

void ShardedEngine::hold_text(std::shared_ptr<const std::string> text) {
  for (auto& s : impl_->shards) s->open->texts.push_back(text);
}

void ShardedEngine::emit_marker(const Marker& marker) {
  for (auto& s : impl_->shards) {
    std::unique_ptr<ShardBatch> b = std::move(s->open);
    b->marker = marker;
    // Text still referenced by the next batch's events must stay alive with it.
    s->open = impl_->fresh_batch(*s);
    if (!b->texts.empty()) s->open->texts.push_back(b->texts.back());
    impl_->enqueue(*s, std::move(b));
  }
}

bool ShardedEngine::has_capacity() const {
  for (const auto& s : impl_->shards) {
    if (s->slots.availableApprox() <= 0) return false;
  }
  return true;
}

uint64_t ShardedEngine::backlog() const {
  return impl_->pushed.load(std::memory_order_relaxed) - impl_->processed.load(std::memory_order_relaxed);
}

std::vector<WindowRecord> ShardedEngine::global_summary(EventTime reference) {
  std::vector<std::promise<std::vector<WindowRecord>>> promises(impl_->shards.size());
  for (size_t i = 0; i < impl_->shards.size(); ++i) {
    auto& s = *impl_->shards[i];
    auto b = impl_->fresh_batch(s);
    b->kind = BatchKind::kGlobalQuery;
    b->query = &promises[i];
    b->marker.watermark = reference;
    impl_->enqueue(s, std::move(b));
  }
  std::vector<WindowRecord> all;
  for (auto& p : promises) {
    auto part = p.get_future().get();
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

void ShardedEngine::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  if (!impl_->started) return;
  for (auto& s : impl_->shards) {
    auto b = impl_->fresh_batch(*s);
    b->kind = BatchKind::kStop;
    impl_->enqueue(*s, std::move(b));
  }
  for (auto& s : impl_->shards) s->thread.join();
  impl_->merger.join();
}

}  // namespace sentinel
