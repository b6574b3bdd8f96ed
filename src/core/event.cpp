#include "core/event.h"

namespace sentinel {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kViolent: return "violent";
    case Severity::kProperty: return "property";
    case Severity::kOther: return "other";
  }
  return "other";
}

bool parse_severity(std::string_view text, Severity& out) {
  if (text == "violent") {
    out = Severity::kViolent;
  } else if (text == "property") {
    out = Severity::kProperty;
  } else if (text == "other") {
    out = Severity::kOther;
  } else {
    return false;
  }
  return true;
}

}  // namespace sentinel
