#include "core/interner.h"

namespace sentinel {

Interner::Interner() = default;

Interner::~Interner() {
  for (auto& b : blocks_) delete b.load();
}

uint32_t Interner::intern(std::string_view name) {
  std::lock_guard lock(mutex_);
  if (auto it = ids_.find(std::string(name)); it != ids_.end()) return it->second;
  const uint32_t id = size_.load(std::memory_order_relaxed);
  if (id >= kMaxNames) return kMaxNames;
  Block* block = blocks_[id / kBlock].load(std::memory_order_relaxed);
  if (block == nullptr) {
    block = new Block();
    blocks_[id / kBlock].store(block, std::memory_order_release);
  }
  block->names[id % kBlock] = std::string(name);
  ids_.emplace(std::string(name), id);
  size_.store(id + 1, std::memory_order_release);
  return id;
}

bool Interner::find(std::string_view name, uint32_t& id) const {
  std::lock_guard lock(mutex_);
  auto it = ids_.find(std::string(name));
  if (it == ids_.end()) return false;
  id = it->second;
  return true;
}

std::string_view Interner::name(uint32_t id) const {
  if (id >= size()) return {};
  return blocks_[id / kBlock].load(std::memory_order_acquire)->names[id % kBlock];
}

std::vector<std::string> Interner::names() const {
  std::vector<std::string> out;
  const uint32_t n = size();
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) out.emplace_back(name(i));
  return out;
}

}  // namespace sentinel
