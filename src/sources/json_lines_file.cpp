#include "sources/json_lines_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/cloudevents.h"

namespace sentinel {

JsonLinesFile::JsonLinesFile(std::string path, uint64_t offset, uint64_t line_number,
                             uint64_t max_line_bytes, size_t chunk_bytes)
    : path_(std::move(path)),
      max_line_(max_line_bytes),
      chunk_bytes_(std::max<size_t>(chunk_bytes, 4096)),
      data_offset_(offset),
      next_offset_(offset),
      next_line_(line_number) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) throw std::runtime_error(path_ + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(::fileno(file_), &st) != 0 || !S_ISREG(st.st_mode)) {
    std::fclose(file_);
    throw std::runtime_error(path_ + ": not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (offset > size_ || std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0) {
    std::fclose(file_);
    throw std::runtime_error(path_ + ": is " + std::to_string(size_) + " bytes, cannot resume at byte " +
                             std::to_string(offset) + " (the input changed since the checkpoint)");
  }
}

JsonLinesFile::~JsonLinesFile() {
  if (file_ != nullptr) std::fclose(file_);
}

bool JsonLinesFile::refill() {
  // Keep the unread tail (a partial line) and append the next chunk after it.
  const std::string_view tail = data_;
  auto text = std::make_shared<std::string>();
  text->reserve(tail.size() + chunk_bytes_ + kJsonPadding);
  text->append(tail);
  text->resize(tail.size() + chunk_bytes_);
  const size_t got = std::fread(text->data() + tail.size(), 1, chunk_bytes_, file_);
  if (got < chunk_bytes_) {
    if (std::ferror(file_)) throw std::runtime_error(path_ + ": read failed: " + std::strerror(errno));
    eof_ = true;
  }
  const size_t len = tail.size() + got;
  text->resize(len + kJsonPadding, '\0');
  text_ = std::move(text);
  data_ = std::string_view(text_->data(), len);
  return got > 0;
}

bool JsonLinesFile::next(Line& line) {
  for (;;) {
    const void* nl = data_.empty() ? nullptr : std::memchr(data_.data(), '\n', data_.size());
    if (nl != nullptr) {
      const size_t n = static_cast<size_t>(static_cast<const char*>(nl) - data_.data());
      line.text = data_.substr(0, n);
      line.number = next_line_++;
      line.offset = data_offset_;
      line.length = n;
      line.too_long = n > max_line_;
      if (line.too_long) line.text = line.text.substr(0, 256);
      data_.remove_prefix(n + 1);
      data_offset_ += n + 1;
      next_offset_ = data_offset_;
      return true;
    }
    if (data_.size() > max_line_) {
      // A line longer than allowed: drop it up to its newline without buffering it.
      const uint64_t start = data_offset_;
      uint64_t skipped = data_.size();
      const std::string head(data_.substr(0, 256));
      data_ = {};
      bool found = false;
      char buf[1 << 16];
      size_t got = 0;
      while (!found && (got = std::fread(buf, 1, sizeof buf, file_)) > 0) {
        const void* p = std::memchr(buf, '\n', got);
        if (p != nullptr) {
          const size_t k = static_cast<size_t>(static_cast<const char*>(p) - buf);
          skipped += k;
          found = true;
          // Put the rest of this read back in front of the stream by seeking.
          std::fseek(file_, static_cast<long>(start + skipped + 1), SEEK_SET);
          eof_ = false;
        } else {
          skipped += got;
        }
      }
      if (!found) eof_ = true;
      auto text = std::make_shared<std::string>(head);
      text->resize(head.size() + kJsonPadding, '\0');
      text_ = std::move(text);
      line.text = std::string_view(text_->data(), head.size());
      line.number = next_line_++;
      line.offset = start;
      line.length = skipped;
      line.too_long = true;
      data_offset_ = start + skipped + (found ? 1 : 0);
      next_offset_ = data_offset_;
      data_ = std::string_view(text_->data() + head.size(), 0);
      return true;
    }
    if (eof_) {
      if (data_.empty()) return false;
      line.text = data_;
      line.number = next_line_++;
      line.offset = data_offset_;
      line.length = data_.size();
      line.too_long = false;
      data_offset_ += data_.size();
      next_offset_ = data_offset_;
      data_ = std::string_view(data_.data() + data_.size(), 0);
      return true;
    }
    refill();
  }
}

}  // namespace sentinel
