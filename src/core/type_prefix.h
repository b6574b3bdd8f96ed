// Event-type prefixes as the config writes them, in every rule that selects
// event types (alert rules, geofences): "sensor." matches every type below
// sensor ("sensor.gunshot", not "sensor"); "cctv.crowd" matches that type and
// its subtypes ("cctv.crowd.large", not "cctv.crowdy"); "cad.call.*" is read
// as "cad.call.".
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace sentinel {

class TypePrefix {
 public:
  explicit TypePrefix(std::string_view text) {
    if (text.ends_with(".*")) text.remove_suffix(1);
    below_only_ = text.ends_with('.');
    text_ = std::string(text);
  }
  bool empty() const { return text_.empty(); }
  bool matches(std::string_view type) const {
    if (text_.empty() || !type.starts_with(text_)) return false;
    if (below_only_) return type.size() > text_.size();
    return type.size() == text_.size() || type[text_.size()] == '.';
  }

 private:
  std::string text_;
  bool below_only_ = false;
};

inline std::vector<TypePrefix> type_prefixes(const std::vector<std::string>& texts) {
  return std::vector<TypePrefix>(texts.begin(), texts.end());
}

inline bool matches_any(std::string_view type, const std::vector<TypePrefix>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const TypePrefix& p) { return p.matches(type); });
}

}  // namespace sentinel
