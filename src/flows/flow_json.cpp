#include "flows/flow_json.h"

#include <simdjson.h>

#include <array>
#include <bitset>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "core/json_writer.h"
#include "core/time.h"
#include "flows/csv_telemetry.h"

namespace sentinel::flows {
namespace {

namespace dom = simdjson::dom;

enum class KeyKind : uint8_t { feature, flow_id, src_ip, dst_ip, src_port, timestamp, label };

struct KeyTarget {
  KeyKind kind;
  uint8_t feature;
};

const std::unordered_map<std::string_view, KeyTarget>& key_map() {
  static const auto* kMap = [] {
    auto* map = new std::unordered_map<std::string_view, KeyTarget>();
    for (size_t i = 0; i < kFeatureCount; ++i) {
      map->emplace(feature_keys()[i], KeyTarget{KeyKind::feature, static_cast<uint8_t>(i)});
      map->emplace(feature_names()[i], KeyTarget{KeyKind::feature, static_cast<uint8_t>(i)});
    }
    map->emplace("flow_id", KeyTarget{KeyKind::flow_id, 0});
    map->emplace("src_ip", KeyTarget{KeyKind::src_ip, 0});
    map->emplace("dst_ip", KeyTarget{KeyKind::dst_ip, 0});
    map->emplace("src_port", KeyTarget{KeyKind::src_port, 0});
    map->emplace("timestamp", KeyTarget{KeyKind::timestamp, 0});
    map->emplace("label", KeyTarget{KeyKind::label, 0});
    return map;
  }();
  return *kMap;
}

// `"key":` of every feature, built once so writing a record copies bytes only.
const std::array<std::string, kFeatureCount>& key_prefixes() {
  static const auto* kPrefixes = [] {
    auto* prefixes = new std::array<std::string, kFeatureCount>();
    for (size_t i = 0; i < kFeatureCount; ++i) (*prefixes)[i] = fmt::format("\"{}\":", feature_keys()[i]);
    return prefixes;
  }();
  return *kPrefixes;
}

std::string_view type_name(dom::element_type type) {
  switch (type) {
    case dom::element_type::ARRAY: return "an array";
    case dom::element_type::OBJECT: return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return "a number";
    case dom::element_type::STRING: return "a string";
    case dom::element_type::BOOL: return "a boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

Error wrong_type(std::string_view key, std::string_view expected, dom::element value) {
  return make_error(std::string(key), fmt::format("expected {}, got {}", expected, type_name(value.type())));
}

Status decode_feature(std::string_view key, dom::element value, double& out) {
  switch (value.type()) {
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: {
      double d = 0;
      if (value.get_double().get(d) != simdjson::SUCCESS) return wrong_type(key, "a number", value);
      out = d;
      return Ok{};
    }
    case dom::element_type::NULL_VALUE: out = kMissing; return Ok{};
    case dom::element_type::STRING: {
      std::string_view s;
      if (value.get_string().get(s) != simdjson::SUCCESS) return wrong_type(key, "a number", value);
      if (s == "Infinity" || s == "inf" || s == "+Infinity") {
        out = std::numeric_limits<double>::infinity();
        return Ok{};
      }
      if (s == "-Infinity" || s == "-inf") {
        out = -std::numeric_limits<double>::infinity();
        return Ok{};
      }
      if (s == "NaN" || s == "nan") {
        out = kMissing;
        return Ok{};
      }
      return make_error(std::string(key), fmt::format("expected a number, null, \"Infinity\", \"-Infinity\" or "
                                                      "\"NaN\", got the string \"{}\"",
                                                      s.substr(0, 40)));
    }
    default: return wrong_type(key, "a number", value);
  }
}

Status decode_string(std::string_view key, dom::element value, std::string& out) {
  if (value.is_null()) {
    out.clear();
    return Ok{};
  }
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) return wrong_type(key, "a string", value);
  out.assign(s);
  return Ok{};
}

Status decode_object(dom::element element, FlowRecord& flow) {
  flow.clear();
  dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) {
    return make_error("", fmt::format("a flow record must be a JSON object, got {}", type_name(element.type())));
  }
  const auto& keys = key_map();
  const auto& feature_key = feature_keys();
  std::bitset<kFeatureCount + 8> seen;
  // Records written by append_flow_json list features by key in feature
  // order: comparing with the key after the last one found skips the hash
  // lookup for most keys.
  size_t next = 0;
  for (const dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    KeyTarget target;
    if (next < kFeatureCount && key == feature_key[next]) {
      target = KeyTarget{KeyKind::feature, static_cast<uint8_t>(next)};
    } else {
      const auto it = keys.find(key);
      if (it == keys.end()) {
        return make_error(std::string(key), "unknown key (not a feature name or key, nor flow_id, src_ip, dst_ip, "
                                            "src_port, timestamp, label)");
      }
      target = it->second;
    }
    if (target.kind == KeyKind::feature) next = target.feature + 1u;
    const size_t slot = target.kind == KeyKind::feature ? target.feature
                                                        : kFeatureCount + static_cast<size_t>(target.kind);
    if (seen.test(slot)) {
      return make_error(std::string(key), target.kind == KeyKind::feature
                                              ? fmt::format("feature '{}' given twice", feature_keys()[slot])
                                              : std::string("given twice"));
    }
    seen.set(slot);
    const dom::element value = field.value;
    switch (target.kind) {
      case KeyKind::feature: {
        auto status = decode_feature(key, value, flow.features[target.feature]);
        if (!status.ok()) return status;
        break;
      }
      case KeyKind::flow_id: {
        auto status = decode_string(key, value, flow.flow_id);
        if (!status.ok()) return status;
        break;
      }
      case KeyKind::src_ip: {
        auto status = decode_string(key, value, flow.src_ip);
        if (!status.ok()) return status;
        break;
      }
      case KeyKind::dst_ip: {
        auto status = decode_string(key, value, flow.dst_ip);
        if (!status.ok()) return status;
        break;
      }
      case KeyKind::label: {
        auto status = decode_string(key, value, flow.label);
        if (!status.ok()) return status;
        break;
      }
      case KeyKind::src_port: {
        if (value.is_null()) {
          flow.src_port = -1;
          break;
        }
        int64_t port = -1;
        if (value.get_int64().get(port) != simdjson::SUCCESS) {
          return value.is_number() ? make_error(std::string(key), "expected an integer port")
                                   : wrong_type(key, "an integer port", value);
        }
        if (port < 0 || port > 65535) {
          return make_error(std::string(key), fmt::format("port {} is outside 0-65535", port));
        }
        flow.src_port = static_cast<int32_t>(port);
        break;
      }
      case KeyKind::timestamp: {
        if (value.is_null()) {
          flow.timestamp_ms = 0;
          break;
        }
        int64_t ms = 0;
        if (value.get_int64().get(ms) == simdjson::SUCCESS) {
          flow.timestamp_ms = ms;
          break;
        }
        std::string_view text;
        if (value.get_string().get(text) != simdjson::SUCCESS) {
          return wrong_type(key, "an RFC 3339 string or integer Unix ms", value);
        }
        if (auto t = parse_rfc3339(text)) {
          flow.timestamp_ms = to_ms(*t);
        } else if (auto t2 = parse_flow_timestamp(text)) {
          flow.timestamp_ms = *t2;
        } else {
          return make_error(std::string(key), fmt::format("not a timestamp: \"{}\"", text.substr(0, 40)));
        }
        break;
      }
    }
  }
  return Ok{};
}

}  // namespace

void append_flow_json(std::string& out, const FlowRecord& flow) {
  out += '{';
  bool first = true;
  auto sep = [&] {
    if (!first) out += ',';
    first = false;
  };
  if (!flow.flow_id.empty()) {
    sep();
    out += "\"flow_id\":";
    JsonWriter::append_string(out, flow.flow_id);
  }
  if (!flow.src_ip.empty()) {
    sep();
    out += "\"src_ip\":";
    JsonWriter::append_string(out, flow.src_ip);
  }
  if (!flow.dst_ip.empty()) {
    sep();
    out += "\"dst_ip\":";
    JsonWriter::append_string(out, flow.dst_ip);
  }
  char digits[32];
  if (flow.src_port >= 0) {
    sep();
    out += "\"src_port\":";
    const auto [ptr, ec] = std::to_chars(digits, digits + sizeof digits, flow.src_port);
    out.append(digits, static_cast<size_t>(ptr - digits));
  }
  if (flow.timestamp_ms != 0) {
    sep();
    out += "\"timestamp\":\"";
    append_rfc3339(out, event_time_from_ms(flow.timestamp_ms));
    out += '"';
  }
  if (!flow.label.empty()) {
    sep();
    out += "\"label\":";
    JsonWriter::append_string(out, flow.label);
  }
  const auto& prefixes = key_prefixes();
  for (size_t i = 0; i < kFeatureCount; ++i) {
    const double v = flow.features[i];
    if (std::isnan(v)) continue;
    sep();
    out += prefixes[i];
    if (std::isinf(v)) {
      out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    } else if (v == 0 && std::signbit(v)) {
      out += "-0.0";  // "-0" would read back as the integer 0
    } else {
      const auto [ptr, ec] = std::to_chars(digits, digits + sizeof digits, v);
      out.append(digits, static_cast<size_t>(ptr - digits));
    }
  }
  out += '}';
}

std::string flow_to_json(const FlowRecord& flow) {
  std::string out;
  out.reserve(1024);
  append_flow_json(out, flow);
  return out;
}

struct FlowJsonDecoder::Impl {
  dom::parser single;    // decode()
  dom::parser document;  // load() / record()
  std::vector<dom::element> records;
};

FlowJsonDecoder::FlowJsonDecoder() : impl_(std::make_unique<Impl>()) {}
FlowJsonDecoder::~FlowJsonDecoder() = default;
FlowJsonDecoder::FlowJsonDecoder(FlowJsonDecoder&&) noexcept = default;
FlowJsonDecoder& FlowJsonDecoder::operator=(FlowJsonDecoder&&) noexcept = default;

Status FlowJsonDecoder::decode(std::string_view json, FlowRecord& flow) {
  dom::element element;
  const auto error = impl_->single.parse(json.data(), json.size()).get(element);
  if (error != simdjson::SUCCESS) {
    flow.clear();
    return make_error("", fmt::format("malformed JSON: {}", simdjson::error_message(error)));
  }
  return decode_object(element, flow);
}

Result<size_t> FlowJsonDecoder::load(std::string_view json) {
  impl_->records.clear();
  dom::element root;
  const auto error = impl_->document.parse(json.data(), json.size()).get(root);
  if (error != simdjson::SUCCESS) {
    return make_error("", fmt::format("malformed JSON: {}", simdjson::error_message(error)));
  }
  if (root.is_object()) {
    impl_->records.push_back(root);
  } else if (root.is_array()) {
    dom::array array;
    if (root.get_array().get(array) != simdjson::SUCCESS) return make_error("", "expected an array");
    for (const dom::element e : array) impl_->records.push_back(e);
  } else {
    return make_error("", fmt::format("expected a flow object or an array of them, got {}", type_name(root.type())));
  }
  return impl_->records.size();
}

Status FlowJsonDecoder::record(size_t index, FlowRecord& flow) {
  if (index >= impl_->records.size()) {
    flow.clear();
    return make_error("", fmt::format("record {} of {}", index, impl_->records.size()));
  }
  return decode_object(impl_->records[index], flow);
}

}  // namespace sentinel::flows
