#include "intel/feed_value.h"

namespace sentinel::intel {

bool FeedValue::truthy() const {
  switch (v_.index()) {
    case 0:
      return false;
    case 1:
      return std::get<bool>(v_);
    case 2:
      return std::get<int64_t>(v_) != 0;
    case 3:
      return std::get<double>(v_) != 0.0;
    case 4:
      return !std::get<std::string>(v_).empty();
    case 5:
      return !std::get<List>(v_).empty();
    default:
      return !std::get<Dict>(v_).empty();
  }
}

const FeedValue* FeedValue::find(std::string_view key) const {
  if (!is_dict()) return nullptr;
  for (const auto& [k, v] : std::get<Dict>(v_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

FeedValue* FeedValue::find(std::string_view key) {
  if (!is_dict()) return nullptr;
  for (auto& [k, v] : std::get<Dict>(v_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

FeedValue& FeedValue::set(std::string_view key, FeedValue value) {
  if (!is_dict()) v_ = Dict{};
  if (FeedValue* existing = find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  auto& d = std::get<Dict>(v_);
  d.emplace_back(std::string(key), std::move(value));
  return d.back().second;
}

FeedValue& FeedValue::setdefault(std::string_view key, FeedValue value) {
  if (FeedValue* existing = find(key)) return *existing;
  return set(key, std::move(value));
}

bool FeedValue::erase(std::string_view key) {
  if (!is_dict()) return false;
  auto& d = std::get<Dict>(v_);
  for (auto it = d.begin(); it != d.end(); ++it) {
    if (it->first == key) {
      d.erase(it);
      return true;
    }
  }
  return false;
}

std::string FeedValue::get_string(std::string_view key, std::string_view fallback) const {
  const FeedValue* v = find(key);
  if (v == nullptr || !v->is_string()) return std::string(fallback);
  return v->as_string();
}

bool operator==(const FeedValue& a, const FeedValue& b) {
  // Python compares bool and int by value (True == 1); feed values never mix
  // them in one comparison, so kinds must match except for int/float.
  if (a.is_int() && b.is_double()) return static_cast<double>(a.as_int()) == b.as_double();
  if (a.is_double() && b.is_int()) return a.as_double() == static_cast<double>(b.as_int());
  if (a.v_.index() != b.v_.index()) return false;
  if (a.is_dict()) {
    const auto& da = a.as_dict();
    const auto& db = b.as_dict();
    if (da.size() != db.size()) return false;
    for (const auto& [k, v] : da) {
      const FeedValue* other = b.find(k);
      if (other == nullptr || !(v == *other)) return false;
    }
    return true;
  }
  return a.v_ == b.v_;
}

}  // namespace sentinel::intel
