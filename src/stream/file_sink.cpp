#include "stream/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sentinel {

namespace {
constexpr size_t kFlushAt = 1 << 20;  // hand to the OS in ~1 MiB writes
}

FileSink::FileSink(std::string path, uint64_t length) : path_(std::move(path)) {
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
  if (buffer_.size() >= kFlushAt) flush();
}

void FileSink::write(std::string_view bytes) {
  buffer_.append(bytes);
  if (buffer_.size() >= kFlushAt) flush();
}

uint64_t FileSink::flush() {
  const char* p = buffer_.data();
  size_t n = buffer_.size();
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  committed_ += buffer_.size();
  buffer_.clear();
  return committed_;
}

void FileSink::sync() {
  if (::fdatasync(fd_) != 0) throw std::runtime_error(path_ + ": fsync failed: " + std::strerror(errno));
}

}  // namespace sentinel
