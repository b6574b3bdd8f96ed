// Interner: maps names (event types, sources) to small dense ids and back.
//
// Threading: any thread may intern (a mutex guards inserts, which are rare:
// a new type name); any thread may call name() for an id it was handed,
// without locking, because names are stored in stable blocks that are never
// moved or freed while the interner lives.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sentinel {

class Interner {
 public:
  static constexpr uint32_t kMaxNames = 1u << 20;

  Interner();
  ~Interner();
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  /// Returns the id of `name`, adding it if new. Returns kMaxNames when full.
  uint32_t intern(std::string_view name);
  /// The id of `name` if known.
  bool find(std::string_view name, uint32_t& id) const;
  /// The name of an id previously returned by intern().
  std::string_view name(uint32_t id) const;
  uint32_t size() const { return size_.load(std::memory_order_acquire); }
  /// All names in id order (for checkpoints).
  std::vector<std::string> names() const;

 private:
  static constexpr uint32_t kBlock = 4096;
  struct Block {
    std::array<std::string, kBlock> names;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, uint32_t> ids_;  // guarded by mutex_
  std::array<std::atomic<Block*>, kMaxNames / kBlock> blocks_{};
  std::atomic<uint32_t> size_{0};
};

}  // namespace sentinel
