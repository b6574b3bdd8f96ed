#include "stream/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sentinel {

namespace {
constexpr size_t kFlushAt = 1 << 20;  // hand to the OS in ~1 MiB writes
}

// ------------------------------------------------------------ SinkWriter --

SinkWriter::SinkWriter() : thread_([this] { run(); }) {}

SinkWriter::~SinkWriter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void SinkWriter::submit(FileSink& sink) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(&sink);
    sink.queued_ = true;
  }
  work_.notify_one();
}

void SinkWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_, and nothing left to write
    FileSink* sink = queue_.front();
    queue_.pop_front();
    sink->queued_ = false;
    lock.unlock();
    std::string error = sink->write_all(sink->flight_);
    sink->flight_.clear();  // keeps its capacity for the next swap
    lock.lock();
    if (!error.empty() && sink->error_.empty()) sink->error_ = std::move(error);
    sink->in_flight_ = false;
    done_.notify_all();
  }
}

// -------------------------------------------------------------- FileSink --

FileSink::FileSink(std::string path, uint64_t length, SinkWriter* writer)
    : path_(std::move(path)), writer_(writer) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(path_ + ": cannot open for writing: " + std::strerror(errno));
  struct stat st {};
  ::fstat(fd_, &st);
  if (static_cast<uint64_t>(st.st_size) < length) {
    ::close(fd_);
    throw std::runtime_error(path_ + ": is " + std::to_string(st.st_size) +
                             " bytes but the checkpoint recorded " + std::to_string(length) +
                             "; the output was changed since the checkpoint (remove the checkpoint directory to start afresh)");
  }
  if (::ftruncate(fd_, static_cast<off_t>(length)) != 0 ||
      ::lseek(fd_, static_cast<off_t>(length), SEEK_SET) < 0) {
    ::close(fd_);
    throw std::runtime_error(path_ + ": cannot truncate: " + std::strerror(errno));
  }
  committed_ = length;
  handed_ = length;
}

FileSink::~FileSink() {
  if (fd_ >= 0) {
    try {
      flush();
    } catch (...) {
      // Destructors must not throw; the caller flushes explicitly to see errors.
    }
    ::close(fd_);
  }
}

void FileSink::write_line(std::string_view line) {
  buffer_.append(line);
  buffer_.push_back('\n');
  ++lines_;
  if (buffer_.size() >= kFlushAt) spill();
}

void FileSink::write(std::string_view bytes, uint64_t lines) {
  buffer_.append(bytes);
  lines_ += lines;
  if (buffer_.size() >= kFlushAt) spill();
}

std::string FileSink::write_all(std::string_view bytes) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return path_ + ": write failed: " + std::strerror(errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return {};
}

void FileSink::settle(std::unique_lock<std::mutex>& lock) {
  if (queued_) {
    // The writer thread has not started on the buffer (on a busy machine it
    // may not be scheduled for a while): write it here rather than wait.
    // Still in order: nothing else of this sink is written meanwhile.
    writer_->queue_.erase(std::find(writer_->queue_.begin(), writer_->queue_.end(), this));
    queued_ = false;
    lock.unlock();
    std::string error = write_all(flight_);
    flight_.clear();
    lock.lock();
    if (!error.empty() && error_.empty()) error_ = std::move(error);
    in_flight_ = false;
  }
  writer_->done_.wait(lock, [this] { return !in_flight_; });
  if (!error_.empty()) throw std::runtime_error(error_);
  committed_ = handed_;  // everything handed over is in the file
}

void FileSink::spill() {
  if (buffer_.empty()) return;
  if (writer_ == nullptr) {
    if (std::string error = write_all(buffer_); !error.empty()) throw std::runtime_error(error);
    committed_ += buffer_.size();
    handed_ = committed_;
    buffer_.clear();
    return;
  }
  {
    std::unique_lock lock(writer_->mutex_);
    settle(lock);
    flight_.swap(buffer_);
    in_flight_ = true;
  }
  handed_ += flight_.size();
  buffer_.clear();
  writer_->submit(*this);
}

uint64_t FileSink::flush() {
  spill();
  if (writer_ != nullptr) {
    std::unique_lock lock(writer_->mutex_);
    settle(lock);
  }
  return committed_;
}

void FileSink::sync() {
  if (::fdatasync(fd_) != 0) throw std::runtime_error(path_ + ": fsync failed: " + std::strerror(errno));
}

}  // namespace sentinel
