#include "pipeline/decode_ahead.h"

#include <concurrentqueue/blockingconcurrentqueue.h>

#include <atomic>
#include <exception>
#include <thread>

#include "core/cloudevents.h"
#include "sources/json_lines_file.h"

namespace sentinel {

namespace {
constexpr size_t kBlockLines = 2048;
constexpr int kMaxBlocks = 8;
}  // namespace

struct DecodeAhead::Impl {
  std::unique_ptr<JsonLinesFile> file;
  std::unique_ptr<EventDecoder> decoder;
  std::function<void(Event&)> prepare;
  moodycamel::BlockingConcurrentQueue<std::unique_ptr<DecodedBlock>> ready;
  moodycamel::LightweightSemaphore free_slots{kMaxBlocks};
  std::atomic<bool> stop{false};
  std::exception_ptr error;
  bool finished = false;
  std::thread thread;

  void run() {
    try {
      for (bool more = true; more && !stop.load(std::memory_order_relaxed);) {
        auto block = std::make_unique<DecodedBlock>();
        block->lines.reserve(kBlockLines);
        JsonLinesFile::Line line;
        while (block->lines.size() < kBlockLines && (more = file->next(line))) {
          if (block->texts.empty() || block->texts.back() != file->current_text()) {
            block->texts.push_back(file->current_text());
          }
          DecodedLine& d = block->lines.emplace_back();
          d.number = line.number;
          d.offset = line.offset;
          d.length = line.length;
          d.raw = line.text;
          d.next = ResumePoint{file->next_offset(), file->next_line_number()};
          d.too_long = line.too_long;
          if (d.too_long) continue;
          const Status st = decoder->decode(line.text, d.event);
          d.ok = st.ok();
          if (d.ok) {
            if (prepare) prepare(d.event);
          } else {
            d.reason = st.error().to_string();
          }
        }
        block->last = !more;
        free_slots.wait();
        ready.enqueue(std::move(block));
      }
    } catch (...) {
      error = std::current_exception();
      auto block = std::make_unique<DecodedBlock>();
      block->last = true;
      ready.enqueue(std::move(block));
    }
  }
};

DecodeAhead::DecodeAhead(const std::string& path, ResumePoint from, uint64_t max_line_bytes,
                         std::unique_ptr<EventDecoder> decoder, std::function<void(Event&)> prepare)
    : impl_(std::make_unique<Impl>()) {
  impl_->prepare = std::move(prepare);
  impl_->file = std::make_unique<JsonLinesFile>(path, from.offset, from.line, max_line_bytes);
  impl_->decoder = std::move(decoder);
  impl_->thread = std::thread([this] { impl_->run(); });
}

DecodeAhead::~DecodeAhead() {
  impl_->stop = true;
  // Unblock the producer if it waits for a slot, then drain what it queued.
  impl_->free_slots.signal(kMaxBlocks);
  impl_->thread.join();
}

std::unique_ptr<DecodedBlock> DecodeAhead::next() {
  if (impl_->finished) return nullptr;
  std::unique_ptr<DecodedBlock> block;
  impl_->ready.wait_dequeue(block);
  impl_->free_slots.signal();
  if (block->last) impl_->finished = true;
  if (impl_->error) std::rethrow_exception(impl_->error);
  return block;
}

}  // namespace sentinel
