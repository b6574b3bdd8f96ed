#include "flows/rules.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "core/config.h"
#include "core/int_math.h"
#include "core/string_hash.h"
#include "core/time.h"
#include "flows/rule_condition.h"

namespace sentinel::flows {

std::string_view level_name(RuleLevel level) {
  static constexpr std::string_view kNames[] = {"informational", "low", "medium", "high", "critical"};
  return kNames[static_cast<size_t>(level)];
}

namespace {

// ---------------------------------------------------------------------------
// Fields

enum class FieldKind : uint8_t { feature, src_port, src_ip, dst_ip };

struct RuleField {
  FieldKind kind = FieldKind::feature;
  size_t feature = 0;
  std::string name;
  bool numeric() const { return kind == FieldKind::feature || kind == FieldKind::src_port; }
};

std::optional<RuleField> resolve_field(std::string_view name) {
  if (name == "src_ip") return RuleField{FieldKind::src_ip, 0, std::string(name)};
  if (name == "dst_ip") return RuleField{FieldKind::dst_ip, 0, std::string(name)};
  if (name == "src_port") return RuleField{FieldKind::src_port, 0, std::string(name)};
  const auto& keys = feature_keys();
  auto it = std::find(keys.begin(), keys.end(), name);
  if (it == keys.end()) return std::nullopt;
  return RuleField{FieldKind::feature, static_cast<size_t>(it - keys.begin()), std::string(name)};
}

inline double numeric_value(const FlowRecord& flow, const RuleField& field) {
  if (field.kind == FieldKind::feature) return flow.features[field.feature];
  return flow.src_port < 0 ? kMissing : static_cast<double>(flow.src_port);
}

inline std::string_view string_value(const FlowRecord& flow, const RuleField& field) {
  return field.kind == FieldKind::src_ip ? std::string_view(flow.src_ip) : std::string_view(flow.dst_ip);
}

// ---------------------------------------------------------------------------
// Matchers: one `field|modifier: values` entry of a selection

enum class Op : uint8_t { eq, ne, gt, gte, lt, lte, startswith, endswith, contains, cidr, is_null, not_null };

struct Cidr {
  int family = AF_INET;
  std::array<uint8_t, 16> address{};
  int prefix = 0;
};

struct Matcher {
  RuleField field;
  Op op = Op::eq;
  bool all = false;  ///< every value must match (default: any)
  std::string key;   ///< "field|modifier" as written, for explain()
  std::vector<double> numbers;
  std::vector<std::string> strings;  ///< lower-cased
  std::vector<Cidr> cidrs;
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// `needle` is lower case already (lowered at load).
bool equals_ignoring_case(std::string_view text, std::string_view needle) {
  if (text.size() != needle.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (lower(text[i]) != needle[i]) return false;
  }
  return true;
}

bool icontains(std::string_view text, std::string_view needle) {
  if (needle.size() > text.size()) return false;
  for (size_t start = 0; start + needle.size() <= text.size(); ++start) {
    if (equals_ignoring_case(text.substr(start, needle.size()), needle)) return true;
  }
  return false;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  const size_t slash = text.find('/');
  std::string address(text.substr(0, slash));
  Cidr cidr;
  if (inet_pton(AF_INET, address.c_str(), cidr.address.data()) == 1) {
    cidr.family = AF_INET;
    cidr.prefix = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), cidr.address.data()) == 1) {
    cidr.family = AF_INET6;
    cidr.prefix = 128;
  } else {
    return std::nullopt;
  }
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 || prefix > cidr.prefix) {
      return std::nullopt;
    }
    cidr.prefix = prefix;
  }
  return cidr;
}

bool in_cidr(std::string_view ip, const Cidr& cidr) {
  // Addresses longer than INET6_ADDRSTRLEN are not addresses; copy to a
  // NUL-terminated stack buffer because inet_pton wants a C string.
  char buffer[64];
  if (ip.empty() || ip.size() >= sizeof(buffer)) return false;
  std::memcpy(buffer, ip.data(), ip.size());
  buffer[ip.size()] = '\0';
  std::array<uint8_t, 16> address{};
  if (inet_pton(cidr.family, buffer, address.data()) != 1) return false;
  const int full = cidr.prefix / 8, rest = cidr.prefix % 8;
  if (std::memcmp(address.data(), cidr.address.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (address[static_cast<size_t>(full)] & mask) == (cidr.address[static_cast<size_t>(full)] & mask);
}

bool compare_number(Op op, double value, double expected) {
  switch (op) {
    case Op::eq: return value == expected;
    case Op::gt: return value > expected;
    case Op::gte: return value >= expected;
    case Op::lt: return value < expected;
    case Op::lte: return value <= expected;
    default: return false;
  }
}

bool compare_string(Op op, std::string_view value, const std::string& expected) {
  switch (op) {
    case Op::eq: return equals_ignoring_case(value, expected);
    case Op::startswith: return value.size() >= expected.size() && equals_ignoring_case(value.substr(0, expected.size()), expected);
    case Op::endswith:
      return value.size() >= expected.size() && equals_ignoring_case(value.substr(value.size() - expected.size()), expected);
    case Op::contains: return icontains(value, expected);
    default: return false;
  }
}

bool matches(const Matcher& m, const FlowRecord& flow) {
  if (m.field.numeric()) {
    const double value = numeric_value(flow, m.field);
    const bool missing = std::isnan(value);
    if (m.op == Op::is_null) return missing;
    if (m.op == Op::not_null) return !missing;
    if (missing) return false;
    if (m.op == Op::ne) {
      return std::none_of(m.numbers.begin(), m.numbers.end(), [value](double x) { return value == x; });
    }
    if (m.all) {
      return std::all_of(m.numbers.begin(), m.numbers.end(),
                         [&](double x) { return compare_number(m.op, value, x); });
    }
    return std::any_of(m.numbers.begin(), m.numbers.end(),
                       [&](double x) { return compare_number(m.op, value, x); });
  }
  const std::string_view value = string_value(flow, m.field);
  const bool missing = value.empty();
  if (m.op == Op::is_null) return missing;
  if (m.op == Op::not_null) return !missing;
  if (missing) return false;
  if (m.op == Op::cidr) {
    auto hit = [&](const Cidr& c) { return in_cidr(value, c); };
    return m.all ? std::all_of(m.cidrs.begin(), m.cidrs.end(), hit) : std::any_of(m.cidrs.begin(), m.cidrs.end(), hit);
  }
  if (m.op == Op::ne) {
    return std::none_of(m.strings.begin(), m.strings.end(), [&](const std::string& x) { return equals_ignoring_case(value, x); });
  }
  auto hit = [&](const std::string& x) { return compare_string(m.op, value, x); };
  return m.all ? std::all_of(m.strings.begin(), m.strings.end(), hit)
               : std::any_of(m.strings.begin(), m.strings.end(), hit);
}

/// A selection: OR over alternatives, each an AND of matchers.
struct Selection {
  std::string name;
  std::vector<std::vector<Matcher>> alternatives;
};

// Index of the first alternative that matches, or -1.
int match_selection(const Selection& s, const FlowRecord& flow) {
  for (size_t a = 0; a < s.alternatives.size(); ++a) {
    bool ok = true;
    for (const Matcher& m : s.alternatives[a]) {
      if (!matches(m, flow)) {
        ok = false;
        break;
      }
    }
    if (ok) return static_cast<int>(a);
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Aggregation state

constexpr size_t kBuckets = 16;
constexpr size_t kMaxDistinctKept = 10'000;

struct DistinctValue {
  uint64_t hash = 0;
  int64_t time_ms = 0;
  uint64_t seq = 0;
};

struct Group {
  int64_t last_ms = 0;
  uint64_t last_seq = 0;
  std::array<int64_t, kBuckets> bucket_ids;  // count(): bucket number held by each slot
  std::array<uint32_t, kBuckets> bucket_counts{};
  std::vector<DistinctValue> values;  // count(distinct): at most `keep` entries
  Group() { bucket_ids.fill(INT64_MIN); }
};

struct Aggregation {
  AggregationSpec spec;
  std::optional<RuleField> counted;  ///< the distinct field (nullopt for count())
  std::vector<RuleField> group_by;
  int64_t timeframe_ms = 0;
  int64_t bucket_ms = 1;
  size_t keep = 0;  ///< distinct values kept per group (the smallest count that passes)
  std::unordered_map<std::string, Group, TransparentStringHash, std::equal_to<>> groups;
  int64_t next_sweep_ms = INT64_MIN;
  std::string key_scratch;

  bool passes(double value) const { return spec.inclusive ? value >= spec.threshold : value > spec.threshold; }
};

// Appends the bytes that identify a field value to `key`; false when missing.
bool append_key(std::string& key, const FlowRecord& flow, const RuleField& field) {
  if (field.numeric()) {
    double v = numeric_value(flow, field);
    if (std::isnan(v)) return false;
    if (v == 0) v = 0;  // -0.0 and 0.0 are one group
    char bytes[sizeof(double)];
    std::memcpy(bytes, &v, sizeof v);
    key.append(bytes, sizeof bytes);
  } else {
    std::string_view s = string_value(flow, field);
    if (s.empty()) return false;
    key.append(s);
  }
  key.push_back('\x1f');
  return true;
}

std::optional<uint64_t> value_hash(const FlowRecord& flow, const RuleField& field) {
  if (field.numeric()) {
    double v = numeric_value(flow, field);
    if (std::isnan(v)) return std::nullopt;
    if (v == 0) v = 0;
    return std::bit_cast<uint64_t>(v);
  }
  std::string_view s = string_value(flow, field);
  if (s.empty()) return std::nullopt;
  return std::hash<std::string_view>{}(s);
}

nlohmann::json field_json(const FlowRecord& flow, const RuleField& field) {
  if (field.numeric()) {
    const double v = numeric_value(flow, field);
    if (std::isnan(v)) return nullptr;
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
  }
  std::string_view s = string_value(flow, field);
  if (s.empty()) return nullptr;
  return std::string(s);
}

// ---------------------------------------------------------------------------
// Rules

struct CompiledRule {
  RuleInfo info;
  double score = 0;
  std::vector<Selection> selections;
  std::vector<std::string> selection_names;
  ParsedCondition condition;
  std::optional<Aggregation> aggregation;
};

struct MatchRecord {
  uint32_t flow = 0;
  uint32_t rule = 0;
  double aggregate = 0;
};

// Where a rule being loaded came from, for error messages.
struct RuleContext {
  std::string file;
  size_t document = 0;
  std::string id;
  std::string title;

  std::string describe() const {
    if (!id.empty() && !title.empty()) return fmt::format("rule '{}' ({})", id, title);
    if (!id.empty()) return fmt::format("rule '{}'", id);
    if (!title.empty()) return fmt::format("rule #{} ({})", document, title);
    return fmt::format("rule #{}", document);
  }
  [[noreturn]] void fail(std::string_view key, std::string_view reason) const {
    throw ConfigError(fmt::format("{}: {}: {}: {}", file, describe(), key, reason));
  }
};

std::string node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return fmt::format("'{}'", node.Scalar());
    default: return "nothing";
  }
}

std::string scalar_string(const RuleContext& ctx, const YAML::Node& node, std::string_view key) {
  if (!node.IsScalar()) ctx.fail(key, fmt::format("expected text, got {}", node_kind(node)));
  return node.Scalar();
}

std::vector<std::string> string_list(const RuleContext& ctx, const YAML::Node& node, std::string_view key) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (node.IsScalar()) return {node.Scalar()};
  if (!node.IsSequence()) ctx.fail(key, fmt::format("expected a list of text, got {}", node_kind(node)));
  for (size_t i = 0; i < node.size(); ++i) {
    out.push_back(scalar_string(ctx, node[i], fmt::format("{}[{}]", key, i)));
  }
  return out;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  if (std::isalnum(static_cast<unsigned char>(id[0])) == 0) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

bool valid_selection_name(std::string_view name) {
  if (name.empty() || (std::isalpha(static_cast<unsigned char>(name[0])) == 0 && name[0] != '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
  });
}

std::optional<double> parse_number(std::string_view text) {
  double v = 0;
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

constexpr std::string_view kModifiers =
    "eq, ne, gt, gte, lt, lte, in, startswith, endswith, contains, cidr, all";

Matcher compile_matcher(const RuleContext& ctx, const std::string& path, const std::string& key,
                        const YAML::Node& value) {
  Matcher m;
  m.key = key;
  std::vector<std::string_view> parts;
  {
    std::string_view rest = key;
    while (true) {
      const size_t bar = rest.find('|');
      parts.push_back(rest.substr(0, bar));
      if (bar == std::string_view::npos) break;
      rest.remove_prefix(bar + 1);
    }
  }
  const std::string where = fmt::format("{}.{}", path, key);
  auto field = resolve_field(parts[0]);
  if (!field) {
    ctx.fail(where, fmt::format("unknown field '{}' (fields are the snake_case feature keys such as "
                                "syn_flag_count, destination_port, flow_duration, plus src_ip, dst_ip, src_port)",
                                parts[0]));
  }
  m.field = *field;
  bool op_given = false, list_required = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string_view mod = parts[i];
    if (mod == "all") {
      m.all = true;
      continue;
    }
    std::optional<Op> op;
    if (mod == "eq") op = Op::eq;
    else if (mod == "ne") op = Op::ne;
    else if (mod == "gt") op = Op::gt;
    else if (mod == "gte") op = Op::gte;
    else if (mod == "lt") op = Op::lt;
    else if (mod == "lte") op = Op::lte;
    else if (mod == "in") {
      op = Op::eq;
      list_required = true;
    }
    else if (mod == "startswith") op = Op::startswith;
    else if (mod == "endswith") op = Op::endswith;
    else if (mod == "contains") op = Op::contains;
    else if (mod == "cidr") op = Op::cidr;
    if (!op) ctx.fail(where, fmt::format("unknown modifier '{}' (allowed: {})", mod, kModifiers));
    if (op_given) ctx.fail(where, fmt::format("more than one comparison modifier ('{}')", mod));
    op_given = true;
    m.op = *op;
  }
  const bool numeric_op = m.op == Op::gt || m.op == Op::gte || m.op == Op::lt || m.op == Op::lte;
  const bool string_op = m.op == Op::startswith || m.op == Op::endswith || m.op == Op::contains || m.op == Op::cidr;
  if (numeric_op && !m.field.numeric()) {
    ctx.fail(where, fmt::format("modifier '{}' needs a numeric field; '{}' is text", parts.back(), m.field.name));
  }
  if (string_op && m.field.numeric()) {
    ctx.fail(where, fmt::format("modifier '{}' needs a text field (src_ip, dst_ip); '{}' is numeric",
                                parts.back(), m.field.name));
  }
  if (m.all && m.op == Op::ne) ctx.fail(where, "modifier 'all' cannot combine with 'ne' (ne with a list is already 'none of')");

  if (value.IsNull()) {
    if (m.op != Op::eq && m.op != Op::ne) ctx.fail(where, "null (a missing value) only compares with eq or ne");
    if (list_required || m.all) ctx.fail(where, "null cannot be used with 'in' or 'all'");
    m.op = m.op == Op::eq ? Op::is_null : Op::not_null;
    return m;
  }
  std::vector<YAML::Node> items;
  if (value.IsSequence()) {
    if (value.size() == 0) ctx.fail(where, "empty list of values");
    for (size_t i = 0; i < value.size(); ++i) items.push_back(value[i]);
  } else if (value.IsScalar()) {
    if (list_required) ctx.fail(where, "modifier 'in' expects a list of values");
    items.push_back(value);
  } else {
    ctx.fail(where, fmt::format("expected a value or a list of values, got {}", node_kind(value)));
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const YAML::Node& item = items[i];
    const std::string item_where = items.size() > 1 ? fmt::format("{}[{}]", where, i) : where;
    if (!item.IsScalar()) {
      ctx.fail(item_where, fmt::format("expected a single value, got {}", item.IsNull() ? "null" : node_kind(item)));
    }
    const std::string& text = item.Scalar();
    if (m.field.numeric()) {
      auto number = parse_number(text);
      if (!number) ctx.fail(item_where, fmt::format("'{}' is not a number ('{}' is numeric)", text, m.field.name));
      m.numbers.push_back(*number);
    } else if (m.op == Op::cidr) {
      auto cidr = parse_cidr(text);
      if (!cidr) ctx.fail(item_where, fmt::format("'{}' is not an IPv4 or IPv6 network (a.b.c.d/n)", text));
      m.cidrs.push_back(*cidr);
    } else {
      if (text.empty()) ctx.fail(item_where, "empty text (use null for a missing value)");
      std::string lowered(text);
      std::transform(lowered.begin(), lowered.end(), lowered.begin(), lower);
      m.strings.push_back(std::move(lowered));
    }
  }
  return m;
}

std::vector<Matcher> compile_map(const RuleContext& ctx, const std::string& path, const YAML::Node& map) {
  if (map.size() == 0) ctx.fail(path, "empty selection");
  std::vector<Matcher> out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) ctx.fail(path, "selection keys must be field names");
    out.push_back(compile_matcher(ctx, path, it->first.Scalar(), it->second));
  }
  return out;
}

Selection compile_selection(const RuleContext& ctx, const std::string& name, const YAML::Node& node) {
  Selection s;
  s.name = name;
  const std::string path = "detection." + name;
  if (node.IsMap()) {
    s.alternatives.push_back(compile_map(ctx, path, node));
  } else if (node.IsSequence()) {
    if (node.size() == 0) ctx.fail(path, "empty selection");
    for (size_t i = 0; i < node.size(); ++i) {
      if (!node[i].IsMap()) {
        ctx.fail(fmt::format("{}[{}]", path, i),
                 "expected a map of field: value (keyword lists are not supported on flows)");
      }
      s.alternatives.push_back(compile_map(ctx, fmt::format("{}[{}]", path, i), node[i]));
    }
  } else {
    ctx.fail(path, fmt::format("expected a map of field: value or a list of such maps, got {}", node_kind(node)));
  }
  return s;
}

constexpr std::string_view kTopLevelKeys[] = {
    "title", "id",     "status",     "description", "author",         "date",
    "modified", "references", "tags", "level", "falsepositives", "detection",
    "logsource", "fields", "related", "license"};

CompiledRule compile_rule(RuleContext& ctx, const YAML::Node& doc) {
  if (!doc.IsMap()) ctx.fail("(document)", fmt::format("a rule must be a map, got {}", node_kind(doc)));
  // Identity first, so every later error can name the rule.
  if (doc["title"] && doc["title"].IsScalar()) ctx.title = doc["title"].Scalar();
  if (doc["id"] && doc["id"].IsScalar()) ctx.id = doc["id"].Scalar();

  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
    if (std::find(std::begin(kTopLevelKeys), std::end(kTopLevelKeys), key) == std::end(kTopLevelKeys)) {
      ctx.fail(key, "unknown key (allowed: title, id, status, description, author, date, modified, references, "
                    "tags, level, falsepositives, detection, logsource, fields, related, license)");
    }
  }
  CompiledRule rule;
  RuleInfo& info = rule.info;
  info.file = ctx.file;
  if (!doc["title"]) ctx.fail("title", "missing");
  info.title = scalar_string(ctx, doc["title"], "title");
  if (info.title.empty()) ctx.fail("title", "empty");
  if (!doc["id"]) ctx.fail("id", "missing");
  info.id = scalar_string(ctx, doc["id"], "id");
  if (!valid_id(info.id)) {
    ctx.fail("id", fmt::format("'{}' is not a UUID or slug (letters, digits, '-', '_', '.', ':'; at most 128)", info.id));
  }
  if (!doc["level"]) ctx.fail("level", "missing");
  {
    const std::string level = scalar_string(ctx, doc["level"], "level");
    bool found = false;
    for (size_t i = 0; i < kLevelScores.size(); ++i) {
      if (level == level_name(static_cast<RuleLevel>(i))) {
        info.level = static_cast<RuleLevel>(i);
        found = true;
      }
    }
    if (!found) {
      ctx.fail("level", fmt::format("bad level '{}' (expected informational, low, medium, high or critical)", level));
    }
  }
  rule.score = level_score(info.level);
  if (doc["description"]) info.description = scalar_string(ctx, doc["description"], "description");
  if (doc["falsepositives"]) info.falsepositives = string_list(ctx, doc["falsepositives"], "falsepositives");
  if (doc["tags"]) info.tags = string_list(ctx, doc["tags"], "tags");

  const YAML::Node detection = doc["detection"];
  if (!detection) ctx.fail("detection", "missing");
  if (!detection.IsMap()) ctx.fail("detection", fmt::format("expected a map, got {}", node_kind(detection)));
  std::optional<YAML::Node> condition_node, timeframe_node;
  for (auto it = detection.begin(); it != detection.end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
    if (name == "condition") {
      condition_node = it->second;
      continue;
    }
    if (name == "timeframe") {
      timeframe_node = it->second;
      continue;
    }
    if (!valid_selection_name(name) || is_condition_keyword(name)) {
      ctx.fail("detection." + name,
               "bad selection name (letters, digits, '_', '-', '.'; not a condition keyword)");
    }
    rule.selections.push_back(compile_selection(ctx, name, it->second));
    rule.selection_names.push_back(name);
  }
  if (rule.selections.empty()) ctx.fail("detection", "no selection");
  if (!condition_node) ctx.fail("detection.condition", "missing");
  info.condition = scalar_string(ctx, *condition_node, "detection.condition");
  auto parsed = parse_condition(info.condition, rule.selection_names);
  if (!parsed) ctx.fail("detection.condition", parsed.error().reason);
  rule.condition = std::move(*parsed);

  if (rule.condition.aggregation) {
    Aggregation agg;
    agg.spec = *rule.condition.aggregation;
    auto field_at = [&](const std::string& name, size_t position) {
      auto f = resolve_field(name);
      if (!f) ctx.fail("detection.condition", fmt::format("column {}: unknown field '{}'", position, name));
      return *f;
    };
    if (!agg.spec.field.empty()) agg.counted = field_at(agg.spec.field, agg.spec.field_position);
    for (size_t i = 0; i < agg.spec.group_by.size(); ++i) {
      agg.group_by.push_back(field_at(agg.spec.group_by[i], agg.spec.group_by_positions[i]));
    }
    const double passing = agg.spec.inclusive ? std::ceil(agg.spec.threshold) : std::floor(agg.spec.threshold) + 1;
    if (passing < 1) ctx.fail("detection.condition", "the aggregation threshold is always passed (use a count of 1 or more)");
    if (agg.counted && passing > static_cast<double>(kMaxDistinctKept)) {
      ctx.fail("detection.condition",
               fmt::format("a distinct count threshold above {} is not supported (memory per group)", kMaxDistinctKept));
    }
    agg.keep = static_cast<size_t>(passing);
    if (!timeframe_node) ctx.fail("detection.timeframe", "required by the aggregation ('| count(...)')");
    const std::string tf = scalar_string(ctx, *timeframe_node, "detection.timeframe");
    auto duration = parse_duration(tf);
    if (!duration || duration->count() <= 0) {
      ctx.fail("detection.timeframe", fmt::format("'{}' is not a positive duration such as 60s, 5m, 1h", tf));
    }
    agg.timeframe_ms = duration->count();
    agg.bucket_ms = std::max<int64_t>(1, (agg.timeframe_ms + static_cast<int64_t>(kBuckets) - 1) /
                                             static_cast<int64_t>(kBuckets));
    rule.aggregation = std::move(agg);
  } else if (timeframe_node) {
    ctx.fail("detection.timeframe", "only meaningful with an aggregation ('| count(...)') in the condition");
  }
  return rule;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot open the rules file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// ---------------------------------------------------------------------------

struct RulesEngine::Impl {
  Options options;
  std::vector<CompiledRule> rules;
  std::vector<RuleInfo> infos;
  std::vector<uint64_t> match_counts;
  uint64_t evicted = 0;
  // Event time: the latest flow timestamp seen, and an arrival counter that
  // orders flows with equal (or unknown) timestamps.
  int64_t watermark_ms = INT64_MIN;
  uint64_t seq = 0;
  // Scratch, sized at load; reused by every batch.
  std::vector<uint8_t> selection_results;
  std::vector<uint8_t> stack;
  std::vector<MatchRecord> matches;  ///< matches of the last batch, in flow order

  void add_text(std::string_view yaml, const std::string& origin, std::unordered_map<std::string, std::string>& ids) {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(std::string(yaml));
    } catch (const YAML::Exception& e) {
      throw ConfigError(fmt::format("{}: line {} column {}: YAML error: {}", origin, e.mark.line + 1,
                                    e.mark.column + 1, e.msg));
    }
    size_t document = 0;
    for (const YAML::Node& doc : docs) {
      ++document;
      if (doc.IsNull()) continue;  // empty document (e.g. a trailing '---')
      RuleContext ctx{origin, document, "", ""};
      CompiledRule rule = compile_rule(ctx, doc);
      auto [it, inserted] = ids.emplace(rule.info.id, origin);
      if (!inserted) ctx.fail("id", fmt::format("duplicate id '{}' (also in {})", rule.info.id, it->second));
      rules.push_back(std::move(rule));
    }
  }

  void finish(const std::string& origin) {
    if (rules.empty()) throw ConfigError(fmt::format("{}: no rules found", origin));
    size_t max_selections = 0, max_stack = 0;
    for (const CompiledRule& r : rules) {
      infos.push_back(r.info);
      max_selections = std::max(max_selections, r.selections.size());
      max_stack = std::max(max_stack, r.condition.expression.max_stack());
    }
    selection_results.assign(max_selections, 0);
    stack.assign(std::max<size_t>(max_stack, 1), 0);
    match_counts.assign(rules.size(), 0);
  }

  // Drops groups idle for a whole timeframe; past max_groups, the least
  // recently seen. Runs once per timeframe of event time, or when full.
  void sweep(Aggregation& agg, int64_t now, bool full) {
    const int64_t horizon = now - agg.timeframe_ms;
    std::erase_if(agg.groups, [horizon](const auto& entry) { return entry.second.last_ms <= horizon; });
    agg.next_sweep_ms = now + agg.timeframe_ms;
    if (!full || agg.groups.size() < options.max_groups) return;
    // Cold path (only under key pressure): evict the oldest tenth.
    std::vector<std::pair<std::pair<int64_t, uint64_t>, std::string_view>> ages;
    ages.reserve(agg.groups.size());
    for (const auto& [key, group] : agg.groups) ages.push_back({{group.last_ms, group.last_seq}, key});
    const size_t target = options.max_groups - std::max<size_t>(1, options.max_groups / 10);
    const size_t drop = ages.size() - target;
    std::nth_element(ages.begin(), ages.begin() + static_cast<std::ptrdiff_t>(drop), ages.end());
    std::vector<std::string> victims;
    victims.reserve(drop);
    for (size_t i = 0; i < drop; ++i) victims.emplace_back(ages[i].second);
    for (const std::string& key : victims) agg.groups.erase(key);
    evicted += drop;
  }

  // Adds a matching flow to its group; returns the aggregate after it, or
  // nullopt when the flow cannot be grouped (missing group or counted field).
  std::optional<double> aggregate(Aggregation& agg, const FlowRecord& flow, int64_t time_ms) {
    agg.key_scratch.clear();
    for (const RuleField& f : agg.group_by) {
      if (!append_key(agg.key_scratch, flow, f)) return std::nullopt;
    }
    std::optional<uint64_t> value;
    if (agg.counted) {
      value = value_hash(flow, *agg.counted);
      if (!value) return std::nullopt;
    }
    const int64_t now = watermark_ms;
    if (now >= agg.next_sweep_ms) sweep(agg, now, false);
    auto it = agg.groups.find(std::string_view(agg.key_scratch));
    if (it == agg.groups.end()) {
      if (agg.groups.size() >= options.max_groups) sweep(agg, now, true);
      it = agg.groups.emplace(agg.key_scratch, Group{}).first;
      it->second.last_ms = time_ms;
    }
    Group& g = it->second;
    g.last_ms = std::max(g.last_ms, time_ms);
    g.last_seq = seq;
    const int64_t horizon = now - agg.timeframe_ms;

    if (!agg.counted) {
      const int64_t bucket = floor_div(time_ms, agg.bucket_ms);
      const int64_t now_bucket = floor_div(now, agg.bucket_ms);
      if (bucket > now_bucket - static_cast<int64_t>(kBuckets)) {
        const auto slot = static_cast<size_t>(((bucket % static_cast<int64_t>(kBuckets)) + kBuckets) % kBuckets);
        if (g.bucket_ids[slot] == bucket) {
          ++g.bucket_counts[slot];
        } else if (g.bucket_ids[slot] < bucket) {
          g.bucket_ids[slot] = bucket;
          g.bucket_counts[slot] = 1;
        }
      }
      uint64_t total = 0;
      for (size_t s = 0; s < kBuckets; ++s) {
        if (g.bucket_ids[s] > now_bucket - static_cast<int64_t>(kBuckets) && g.bucket_ids[s] <= now_bucket) {
          total += g.bucket_counts[s];
        }
      }
      return static_cast<double>(total);
    }

    std::erase_if(g.values, [horizon](const DistinctValue& v) { return v.time_ms <= horizon; });
    if (time_ms > horizon) {
      auto found = std::find_if(g.values.begin(), g.values.end(),
                                [&](const DistinctValue& v) { return v.hash == *value; });
      if (found != g.values.end()) {
        found->time_ms = std::max(found->time_ms, time_ms);
        found->seq = seq;
      } else if (g.values.size() < agg.keep) {
        g.values.push_back(DistinctValue{*value, time_ms, seq});
      } else {
        // Full: keep the most recent `keep` values, which stay in the window
        // longest, so "at least keep distinct values" stays exact.
        auto oldest = std::min_element(g.values.begin(), g.values.end(), [](const auto& a, const auto& b) {
          return std::tie(a.time_ms, a.seq) < std::tie(b.time_ms, b.seq);
        });
        if (std::tie(oldest->time_ms, oldest->seq) < std::tie(time_ms, seq)) {
          *oldest = DistinctValue{*value, time_ms, seq};
        }
      }
    }
    return static_cast<double>(g.values.size());
  }
};

RulesEngine::RulesEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RulesEngine::~RulesEngine() = default;

namespace {
void check_options(const RulesEngine::Options& options, std::string_view origin) {
  if (options.max_groups < 10) {
    throw ConfigError(fmt::format("{}: rules engine max_groups {} is below 10", origin, options.max_groups));
  }
}
}  // namespace

std::unique_ptr<RulesEngine> RulesEngine::load(const std::string& path, Options options) {
  namespace fs = std::filesystem;
  check_options(options, path);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::unordered_map<std::string, std::string> ids;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      const auto ext = entry.path().extension().string();
      if (entry.is_regular_file() && (ext == ".yml" || ext == ".yaml")) files.push_back(entry.path());
    }
    if (ec) throw ConfigError(fmt::format("{}: cannot list the rules directory: {}", path, ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& file : files) impl->add_text(read_file(file.string()), file.string(), ids);
  } else {
    impl->add_text(read_file(path), path, ids);
  }
  impl->finish(path);
  return std::unique_ptr<RulesEngine>(new RulesEngine(std::move(impl)));
}

std::unique_ptr<RulesEngine> RulesEngine::from_text(std::string_view yaml, std::string_view origin,
                                                    Options options) {
  check_options(options, origin);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::unordered_map<std::string, std::string> ids;
  impl->add_text(yaml, std::string(origin), ids);
  impl->finish(std::string(origin));
  return std::unique_ptr<RulesEngine>(new RulesEngine(std::move(impl)));
}

Status RulesEngine::evaluate(std::span<const FlowRecord> flows, std::span<EngineVerdict> out,
                             std::chrono::steady_clock::time_point deadline) {
  if (out.size() != flows.size()) {
    return make_error("rules", fmt::format("{} verdict slots for {} flows", out.size(), flows.size()));
  }
  Impl& m = *impl_;
  m.matches.clear();
  uint8_t* selections = m.selection_results.data();
  uint8_t* stack = m.stack.data();
  constexpr size_t kDeadlineEvery = 256;
  for (size_t i = 0; i < flows.size(); ++i) {
    if (i % kDeadlineEvery == 0 && i > 0 && std::chrono::steady_clock::now() > deadline) {
      return make_error("rules", fmt::format("time budget passed after {} of {} flows", i, flows.size()));
    }
    const FlowRecord& flow = flows[i];
    ++m.seq;
    if (flow.timestamp_ms != 0) m.watermark_ms = std::max(m.watermark_ms, flow.timestamp_ms);
    const int64_t time_ms = flow.timestamp_ms != 0 ? flow.timestamp_ms : std::max<int64_t>(m.watermark_ms, 0);
    if (m.watermark_ms == INT64_MIN) m.watermark_ms = time_ms;

    double best = 0;
    for (size_t r = 0; r < m.rules.size(); ++r) {
      CompiledRule& rule = m.rules[r];
      const CompiledCondition& cond = rule.condition.expression;
      for (size_t s = 0; s < rule.selections.size(); ++s) {
        selections[s] = cond.uses(s) && match_selection(rule.selections[s], flow) >= 0 ? 1 : 0;
      }
      if (!cond.evaluate(selections, stack)) continue;
      double aggregate = 0;
      if (rule.aggregation) {
        auto value = m.aggregate(*rule.aggregation, flow, time_ms);
        if (!value || !rule.aggregation->passes(*value)) continue;
        aggregate = *value;
      }
      m.matches.push_back(MatchRecord{static_cast<uint32_t>(i), static_cast<uint32_t>(r), aggregate});
      ++m.match_counts[r];
      best = std::max(best, rule.score);
    }
    out[i] = EngineVerdict{true, best >= kAttackScore, best};
  }
  return Ok{};
}

nlohmann::json RulesEngine::explain(const FlowRecord& flow, size_t index_in_last_batch) const {
  const Impl& m = *impl_;
  nlohmann::json matched = nlohmann::json::array();
  auto [first, last] = std::equal_range(
      m.matches.begin(), m.matches.end(), MatchRecord{static_cast<uint32_t>(index_in_last_batch), 0, 0},
      [](const MatchRecord& a, const MatchRecord& b) { return a.flow < b.flow; });
  for (auto it = first; it != last; ++it) {
    const CompiledRule& rule = m.rules[it->rule];
    nlohmann::json entry;
    entry["id"] = rule.info.id;
    entry["title"] = rule.info.title;
    entry["level"] = std::string(level_name(rule.info.level));
    entry["score"] = rule.score;
    entry["condition"] = rule.info.condition;
    nlohmann::json selections = nlohmann::json::object();
    for (size_t s = 0; s < rule.selections.size(); ++s) {
      if (!rule.condition.expression.uses(s)) continue;
      const Selection& sel = rule.selections[s];
      const int alternative = match_selection(sel, flow);
      nlohmann::json result;
      result["matched"] = alternative >= 0;
      if (alternative >= 0) {
        nlohmann::json values = nlohmann::json::object();
        for (const Matcher& matcher : sel.alternatives[static_cast<size_t>(alternative)]) {
          values[matcher.key] = field_json(flow, matcher.field);
        }
        result["values"] = std::move(values);
      }
      selections[sel.name] = std::move(result);
    }
    entry["selections"] = std::move(selections);
    if (rule.aggregation) {
      const Aggregation& agg = *rule.aggregation;
      nlohmann::json aggregation;
      aggregation["function"] = agg.spec.to_string();
      aggregation["value"] = it->aggregate;
      aggregation["timeframe"] = format_duration(Millis(agg.timeframe_ms));
      nlohmann::json group = nlohmann::json::object();
      for (const RuleField& f : agg.group_by) group[f.name] = field_json(flow, f);
      aggregation["group"] = std::move(group);
      entry["aggregation"] = std::move(aggregation);
    }
    matched.push_back(std::move(entry));
  }
  nlohmann::json out;
  out["matched"] = std::move(matched);
  return out;
}

const std::vector<RuleInfo>& RulesEngine::rules() const { return impl_->infos; }
const std::vector<uint64_t>& RulesEngine::match_counts() const { return impl_->match_counts; }
uint64_t RulesEngine::evicted_groups() const { return impl_->evicted; }
size_t RulesEngine::live_groups() const {
  size_t n = 0;
  for (const CompiledRule& r : impl_->rules) {
    if (r.aggregation) n += r.aggregation->groups.size();
  }
  return n;
}

}  // namespace sentinel::flows
