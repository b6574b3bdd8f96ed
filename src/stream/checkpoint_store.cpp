#include "stream/checkpoint_store.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sentinel {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'S', 'N', 'T', 'L', 'C', 'K', 'P', '1'};
constexpr size_t kHeader = 8 + 8 + 8;

std::string file_name(uint64_t sequence) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "checkpoint-%012llu.ckpt", static_cast<unsigned long long>(sequence));
  return buf;
}

bool parse_sequence(const std::string& name, uint64_t& seq) {
  if (name.size() != 11 + 12 + 5 || name.rfind("checkpoint-", 0) != 0 ||
      name.substr(name.size() - 5) != ".ckpt") {
    return false;
  }
  seq = 0;
  for (size_t i = 11; i < 23; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    seq = seq * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return true;
}

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(path + ": write failed: " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

CheckpointStore::CheckpointStore(std::string dir, uint32_t keep) : dir_(std::move(dir)), keep_(std::max(1u, keep)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_)) {
    throw std::runtime_error("checkpoint directory " + dir_ + ": cannot create: " + ec.message());
  }
}

void CheckpointStore::write(uint64_t sequence, const std::string& payload) {
  const std::string final_path = (fs::path(dir_) / file_name(sequence)).string();
  const std::string tmp_path = final_path + ".tmp";
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(tmp_path + ": cannot create: " + std::strerror(errno));
  char header[kHeader];
  const uint64_t len = payload.size(), sum = XXH3_64bits(payload.data(), payload.size());
  std::memcpy(header, kMagic, 8);
  std::memcpy(header + 8, &len, 8);
  std::memcpy(header + 16, &sum, 8);
  try {
    write_all(fd, header, kHeader, tmp_path);
    write_all(fd, payload.data(), payload.size(), tmp_path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    throw std::runtime_error(tmp_path + ": fsync failed: " + std::strerror(errno));
  }
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    throw std::runtime_error(final_path + ": rename failed: " + std::strerror(errno));
  }
  fsync_dir(dir_);
  // Keep the newest `keep_` checkpoints; older ones are no longer needed.
  std::vector<uint64_t> seqs;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    uint64_t s;
    if (parse_sequence(entry.path().filename().string(), s)) seqs.push_back(s);
  }
  std::sort(seqs.rbegin(), seqs.rend());
  for (size_t i = keep_; i < seqs.size(); ++i) {
    std::error_code ec;
    fs::remove(fs::path(dir_) / file_name(seqs[i]), ec);
  }
}

std::optional<std::string> CheckpointStore::read_file(const std::string& path, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot open";
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  if (data.size() < kHeader) {
    why = "truncated (" + std::to_string(data.size()) + " bytes, shorter than the header)";
    return std::nullopt;
  }
  if (std::memcmp(data.data(), kMagic, 8) != 0) {
    why = "not a Sentinel checkpoint (bad magic)";
    return std::nullopt;
  }
  uint64_t len, sum;
  std::memcpy(&len, data.data() + 8, 8);
  std::memcpy(&sum, data.data() + 16, 8);
  if (len != data.size() - kHeader) {
    why = "truncated or padded: header says " + std::to_string(len) + " payload bytes, file has " +
          std::to_string(data.size() - kHeader);
    return std::nullopt;
  }
  if (XXH3_64bits(data.data() + kHeader, len) != sum) {
    why = "checksum mismatch (the file was changed or partly written)";
    return std::nullopt;
  }
  return data.substr(kHeader);
}

std::optional<CheckpointStore::Loaded> CheckpointStore::load_latest(std::vector<std::string>& problems) const {
  std::vector<uint64_t> seqs;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    uint64_t s;
    if (parse_sequence(entry.path().filename().string(), s)) seqs.push_back(s);
  }
  std::sort(seqs.rbegin(), seqs.rend());
  for (const uint64_t s : seqs) {
    const std::string path = (fs::path(dir_) / file_name(s)).string();
    std::string why;
    if (auto payload = read_file(path, why)) return Loaded{s, std::move(*payload), path};
    problems.push_back(path + ": " + why);
  }
  return std::nullopt;
}

}  // namespace sentinel
