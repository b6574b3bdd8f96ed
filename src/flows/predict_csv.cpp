#include "flows/predict_csv.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <ostream>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace sentinel::flows {

namespace {

constexpr size_t kBatchRows = 4096;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

/// Splits one CSV line at commas outside double quotes (values only need
/// splitting, so quotes are left in the fields and trimmed later).
void split_line(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  fields.push_back(line.substr(start));
}

bool is_nan_text(std::string_view s) {
  return s.size() == 3 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'a' && (s[2] | 0x20) == 'n';
}

/// Parses one value; false when it is not a number.
bool parse_value(std::string_view text, double& out) {
  std::string_view s = trim(text);
  if (s.empty() || is_nan_text(s)) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (s.front() == '+') s.remove_prefix(1);  // from_chars takes no '+', strtod does
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  // ERANGE: from_chars reports over/underflow without a value; strtod gives
  // +-inf or the (sub)normal rounding, so fall back to it for those.
  if (ec == std::errc::result_out_of_range && ptr == s.data() + s.size()) {
    out = std::strtod(std::string(s).c_str(), nullptr);
    return true;
  }
  return ec == std::errc() && ptr == s.data() + s.size();
}

void append_double(std::string& out, double v) {
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace

std::string format_float32_value(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then Python's repr layout: fixed notation
  // when the decimal exponent is in [-4, 16), scientific otherwise.
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc()) return "nan";
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  std::string out;
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = 0;
  std::string_view exp_text = sci.substr(e + 1);
  if (exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  const int decpt = exponent + 1;  // digits = 0.d1d2... * 10^decpt
  const int n = static_cast<int>(digits.size());
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-decpt), '0');
      out += digits;
    } else if (decpt >= n) {
      out += digits;
      out.append(static_cast<size_t>(decpt - n), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(decpt));
      out += '.';
      out += digits.substr(static_cast<size_t>(decpt));
    }
    return out;
  }
  out += digits[0];
  if (n > 1) {
    out += '.';
    out += digits.substr(1);
  }
  out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out;
}

void predict_csv(const TreeModel& model, const std::string& input_path, std::ostream& out) {
  std::ifstream in(input_path, std::ios::binary);
  if (!in) throw PredictError(input_path + ": cannot open the input file");

  std::string line;
  size_t line_no = 0;
  std::vector<std::string_view> fields;
  do {
    if (!std::getline(in, line)) throw PredictError(input_path + ": no header line");
    ++line_no;
  } while (trim(line).empty());
  std::string_view header = line;
  if (header.starts_with("\xEF\xBB\xBF")) header.remove_prefix(3);
  split_line(header, fields);
  std::vector<std::string> columns;
  std::map<std::string, int, std::less<>> seen;
  for (std::string_view f : fields) {
    std::string name(trim(f));
    const int count = seen[name]++;
    if (count > 0) name += fmt::format(".{}", count);
    columns.push_back(std::move(name));
  }
  const size_t n_columns = columns.size();

  const std::vector<std::string>& names = model.feature_names();
  const size_t n_features = model.num_features();
  std::vector<size_t> column_of(n_features);
  for (size_t j = 0; j < n_features; ++j) {
    size_t found = n_columns;
    for (size_t c = 0; c < n_columns; ++c) {
      if (columns[c] == names[j]) {
        found = c;
        break;
      }
    }
    if (found == n_columns) {
      throw PredictError(fmt::format("{}: no column for model feature '{}' (the header has {} columns)", input_path,
                                     names[j], n_columns));
    }
    column_of[j] = found;
  }
  const size_t k = model.num_outputs();
  const bool xgb = model.format() == TreeModel::Format::xgboost;
  std::string text;
  text += "row";
  if (model.kind() == TreeModel::Kind::multiclass) {
    for (size_t i = 0; i < k; ++i) text += fmt::format(fmt::runtime(xgb ? ",margin_{}" : ",raw_{}"), i);
    for (size_t i = 0; i < k; ++i) text += fmt::format(",prob_{}", i);
  } else if (xgb && model.kind() == TreeModel::Kind::binary) {
    text += ",margin,prob";
  } else {
    text += ",raw_score,prediction";
  }
  text += '\n';

  std::vector<double> rows;
  rows.reserve(kBatchRows * n_features);
  std::vector<double> raw(kBatchRows * k);
  std::vector<double> transformed(k);
  size_t row_index = 0;
  const auto flush = [&] {
    const size_t n = rows.size() / n_features;
    model.predict_raw_batch(rows.data(), n, n_features, raw.data());
    for (size_t r = 0; r < n; ++r) {
      const double* raw_row = raw.data() + r * k;
      model.transform(raw_row, transformed.data());
      text += fmt::format("{}", row_index++);
      for (const double* values : {raw_row, static_cast<const double*>(transformed.data())}) {
        for (size_t i = 0; i < k; ++i) {
          text += ',';
          if (xgb) {
            text += format_float32_value(values[i]);
          } else {
            append_double(text, values[i]);
          }
        }
      }
      text += '\n';
    }
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    text.clear();
    rows.clear();
  };

  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    split_line(line, fields);
    if (fields.size() != n_columns) {
      throw PredictError(fmt::format("{}: line {}: {} columns, the header has {}", input_path, line_no, fields.size(),
                                     n_columns));
    }
    const size_t base = rows.size();
    rows.resize(base + n_features);
    for (size_t j = 0; j < n_features; ++j) {
      const size_t c = column_of[j];
      if (!parse_value(fields[c], rows[base + j])) {
        throw PredictError(fmt::format("{}: line {}, column {} '{}': bad number '{}'", input_path, line_no, c + 1,
                                       columns[c], trim(fields[c])));
      }
    }
    if (rows.size() == kBatchRows * n_features) flush();
  }
  if (!rows.empty() || !text.empty()) flush();
  out.flush();
}

}  // namespace sentinel::flows
