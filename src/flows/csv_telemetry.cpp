#include "flows/csv_telemetry.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace sentinel::flows {
namespace {

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

inline bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }
inline bool is_space(char c) { return c == ' ' || c == '\t'; }

// The common CIC number, "-?digits(.digits)?" with at most 19 digits whose
// value m is at most 2^53, converted as m / 10^k: both operands are exact
// doubles and IEEE division rounds correctly, so the result is the same
// double std::from_chars gives (Clinger's fast path), at a fraction of its
// cost; anything else (exponents, long mantissas, inf/nan, spaces, quotes)
// returns nullptr and goes to parse_csv_number. Returns the end of the number.
inline const char* fast_number(const char* p, const char* end, double& out) {
  const bool negative = p < end && *p == '-';
  p += negative;
  uint64_t m = 0;
  const char* digits_begin = p;
  while (p < end && is_digit(*p)) m = m * 10 + static_cast<uint64_t>(*p++ - '0');
  size_t digits = static_cast<size_t>(p - digits_begin);
  size_t fraction = 0;
  if (p < end && *p == '.') {
    const char* fraction_begin = ++p;
    while (p < end && is_digit(*p)) m = m * 10 + static_cast<uint64_t>(*p++ - '0');
    fraction = static_cast<size_t>(p - fraction_begin);
    digits += fraction;
  }
  if (digits == 0 || digits > 19 || m > (uint64_t{1} << 53)) return nullptr;
  if (p < end && (*p == 'e' || *p == 'E')) return nullptr;
  double value = static_cast<double>(m);
  if (fraction != 0) value /= kPow10[fraction];  // fraction <= 19 < 23
  out = negative ? -value : value;
  return p;
}

// fast_number for a field inside a line that is followed by a terminator
// byte (CR, LF or the NUL the reader appends to a last line without one), so
// the digit loops need no bounds checks: the terminator stops them.
struct FastNumber {
  const char* end;  // nullptr: not the simple form, use the slow path
  double value;
};

inline FastNumber fast_number_terminated(const char* p) {
  const bool negative = *p == '-';
  p += negative;
  uint64_t m = 0;
  const char* digits_begin = p;
  while (is_digit(*p)) m = m * 10 + static_cast<uint64_t>(*p++ - '0');
  size_t digits = static_cast<size_t>(p - digits_begin);
  size_t fraction = 0;
  if (*p == '.') {
    const char* fraction_begin = ++p;
    while (is_digit(*p)) m = m * 10 + static_cast<uint64_t>(*p++ - '0');
    fraction = static_cast<size_t>(p - fraction_begin);
    digits += fraction;
  }
  if (digits == 0 || digits > 19 || m > (uint64_t{1} << 53) || *p == 'e' || *p == 'E') return {nullptr, 0};
  double value = static_cast<double>(m);
  if (fraction != 0) value /= kPow10[fraction];
  return {p, negative ? -value : value};
}

// End of the field starting at p: the next comma, or the comma after the
// closing quote of a quoted field.
inline const char* field_end(const char* p, const char* end) {
  const char* q = p;
  while (q < end && is_space(*q)) ++q;
  if (q < end && *q == '"') {
    ++q;
    while (q < end) {
      if (*q == '"') {
        if (q + 1 < end && q[1] == '"') {
          q += 2;
          continue;
        }
        ++q;
        break;
      }
      ++q;
    }
    p = q;
  }
  if (p >= end) return end;
  const void* comma = std::memchr(p, ',', static_cast<size_t>(end - p));
  return comma ? static_cast<const char*>(comma) : end;
}

// Trimmed, unquoted text of a field. Doubled quotes inside stay doubled: no
// CIC value contains a quote, and copying to undouble them would cost every
// identity field an allocation.
inline std::string_view clean_field(const char* begin, const char* end) {
  while (begin < end && is_space(*begin)) ++begin;
  while (end > begin && is_space(end[-1])) --end;
  if (end - begin >= 2 && *begin == '"' && end[-1] == '"') {
    ++begin;
    --end;
  }
  return {begin, static_cast<size_t>(end - begin)};
}

size_t count_columns(const char* begin, const char* end) {
  size_t n = 1;
  const char* p = begin;
  while (true) {
    const char* e = field_end(p, end);
    if (e == end) return n;
    ++n;
    p = e + 1;
  }
}

uint64_t count_newlines(const char* begin, const char* end) {
  uint64_t n = 0;
  while (begin < end) {
    const void* nl = std::memchr(begin, '\n', static_cast<size_t>(end - begin));
    if (nl == nullptr) break;
    ++n;
    begin = static_cast<const char*>(nl) + 1;
  }
  return n;
}

std::string shorten(std::string_view text) {
  constexpr size_t kMax = 40;
  if (text.size() <= kMax) return std::string(text);
  return std::string(text.substr(0, kMax)) + "...";
}

// Cursor over a timestamp text.
struct Cursor {
  std::string_view s;
  size_t i = 0;

  bool done() const { return i >= s.size(); }
  bool eat(char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  bool number(size_t min_digits, size_t max_digits, int& out) {
    size_t n = 0;
    int v = 0;
    while (i < s.size() && n < max_digits && is_digit(s[i])) {
      v = v * 10 + (s[i++] - '0');
      ++n;
    }
    out = v;
    return n >= min_digits;
  }
  // Milliseconds of a fraction of a second (digits after the dot; beyond the
  // third truncated).
  int fraction_ms() {
    int ms = 0, scale = 100;
    while (i < s.size() && is_digit(s[i])) {
      ms += (s[i++] - '0') * scale;
      scale /= 10;
    }
    return ms;
  }
};

std::optional<int64_t> to_unix_ms(int y, int mo, int d, int h, int mi, int sec, int ms) {
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const int64_t days = sys_days(ymd).time_since_epoch().count();
  return ((days * 24 + h) * 60 + mi) * int64_t{60'000} + sec * int64_t{1000} + ms;
}

}  // namespace

bool parse_csv_number(std::string_view field, double& out) {
  field = clean_field(field.data(), field.data() + field.size());
  if (field.empty()) {
    out = kMissing;
    return true;
  }
  if (field.front() == '+' && field.size() > 1 && field[1] != '-' && field[1] != '+') field.remove_prefix(1);
  const char* begin = field.data();
  const char* end = begin + field.size();
  if (fast_number(begin, end, out) == end) return true;
  const auto [ptr, ec] = std::from_chars(begin, end, out, std::chars_format::general);
  if (ec != std::errc() || ptr != end) return false;
  if (std::isnan(out)) out = kMissing;
  return true;
}

std::optional<int64_t> parse_flow_timestamp(std::string_view text) {
  text = clean_field(text.data(), text.data() + text.size());
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), is_digit)) {
    int64_t ms = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return ms;
  }
  Cursor c{text};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  int64_t offset_minutes = 0;
  const bool iso = text.size() > 4 && text[4] == '-';
  if (iso) {
    if (!c.number(4, 4, y) || !c.eat('-') || !c.number(1, 2, mo) || !c.eat('-') || !c.number(1, 2, d)) {
      return std::nullopt;
    }
    if (!c.done()) {
      if (!c.eat('T') && !c.eat('t') && !c.eat(' ')) return std::nullopt;
      if (!c.number(1, 2, h) || !c.eat(':') || !c.number(2, 2, mi)) return std::nullopt;
      if (c.eat(':')) {
        if (!c.number(2, 2, sec)) return std::nullopt;
        if (c.eat('.')) ms = c.fraction_ms();
      }
      if (c.eat('Z') || c.eat('z')) {
      } else if (!c.done() && (text[c.i] == '+' || text[c.i] == '-')) {
        const int sign = text[c.i++] == '-' ? -1 : 1;
        int oh = 0, om = 0;
        if (!c.number(2, 2, oh)) return std::nullopt;
        c.eat(':');
        if (!c.number(2, 2, om) || oh > 23 || om > 59) return std::nullopt;
        offset_minutes = sign * (oh * 60 + om);
      }
    }
  } else {
    // CICFlowMeter's day/month/year (CIC-IDS2017: 4/7/2017 is Tuesday 4 July).
    if (!c.number(1, 2, d) || !c.eat('/') || !c.number(1, 2, mo) || !c.eat('/') || !c.number(4, 4, y)) {
      return std::nullopt;
    }
    if (!c.done()) {
      if (!c.eat(' ')) return std::nullopt;
      while (c.eat(' ')) {
      }
      if (!c.number(1, 2, h) || !c.eat(':') || !c.number(2, 2, mi)) return std::nullopt;
      if (c.eat(':')) {
        if (!c.number(2, 2, sec)) return std::nullopt;
        if (c.eat('.')) ms = c.fraction_ms();
      }
      while (c.eat(' ')) {
      }
      if (!c.done()) {
        const std::string_view rest = text.substr(c.i);
        const bool am = rest == "AM" || rest == "am";
        const bool pm = rest == "PM" || rest == "pm";
        if ((!am && !pm) || h < 1 || h > 12) return std::nullopt;
        if (am && h == 12) h = 0;
        if (pm && h != 12) h += 12;
        c.i = text.size();
      }
    }
  }
  if (!c.done()) return std::nullopt;
  auto ms_utc = to_unix_ms(y, mo, d, h, mi, sec, ms);
  if (!ms_utc) return std::nullopt;
  return *ms_utc - offset_minutes * 60'000;
}

// ---- CsvFile ----

CsvFile::~CsvFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
}

Result<std::shared_ptr<const CsvFile>> CsvFile::open(const std::string& path) {
  auto file = std::shared_ptr<CsvFile>(new CsvFile());
  file->path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(path, fmt::format("cannot open: {}", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return make_error(path, fmt::format("cannot stat: {}", std::strerror(err)));
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void* map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      ::madvise(map, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
      file->mapping_ = map;
      file->data_ = static_cast<const char*>(map);
      file->size_ = static_cast<size_t>(st.st_size);
    }
  }
  if (file->mapping_ == nullptr) {
    // Not mappable (a pipe, /dev/stdin): read it all.
    char buffer[1 << 16];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        return make_error(path, fmt::format("cannot read: {}", std::strerror(err)));
      }
      file->owned_.append(buffer, static_cast<size_t>(n));
    }
    file->data_ = file->owned_.data();
    file->size_ = file->owned_.size();
  }
  ::close(fd);
  return finish(std::move(file));
}

Result<std::shared_ptr<const CsvFile>> CsvFile::from_buffer(std::string name, std::string data) {
  auto file = std::shared_ptr<CsvFile>(new CsvFile());
  file->path_ = std::move(name);
  file->owned_ = std::move(data);
  file->data_ = file->owned_.data();
  file->size_ = file->owned_.size();
  return finish(std::move(file));
}

Result<std::shared_ptr<const CsvFile>> CsvFile::finish(std::shared_ptr<CsvFile> file) {
  if (file->size_ == 0) return make_error(file->path_, "empty file: no header line");
  const char* nl = static_cast<const char*>(std::memchr(file->data_, '\n', file->size_));
  const size_t header_end = nl ? static_cast<size_t>(nl - file->data_) : file->size_;
  file->body_begin_ = nl ? header_end + 1 : file->size_;
  auto layout = map_header_line(std::string_view(file->data_, header_end));
  if (!layout.ok()) return make_error(file->path_, layout.error().reason);
  file->layout_ = std::move(layout.value());
  return std::shared_ptr<const CsvFile>(std::move(file));
}

CsvChunk CsvFile::whole() const { return CsvChunk{body_begin_, size_, 2}; }

std::vector<CsvChunk> CsvFile::split(size_t n) const {
  std::vector<CsvChunk> chunks;
  const size_t length = size_ - body_begin_;
  if (n <= 1 || length == 0) {
    chunks.push_back(whole());
    return chunks;
  }
  size_t begin = body_begin_;
  uint64_t line = 2;
  for (size_t k = 1; k <= n; ++k) {
    size_t end = size_;
    if (k < n) {
      size_t target = body_begin_ + length / n * k;
      if (target <= begin) continue;
      if (data_[target - 1] != '\n') {
        const void* nl = std::memchr(data_ + target, '\n', size_ - target);
        target = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data_) + 1 : size_;
      }
      end = target;
    }
    if (end <= begin) continue;
    chunks.push_back(CsvChunk{begin, end, line});
    if (end >= size_) break;
    line += count_newlines(data_ + begin, data_ + end);
    begin = end;
  }
  return chunks;
}

// ---- CsvReader ----

CsvReader::CsvReader(std::shared_ptr<const CsvFile> file, CsvChunk chunk, CsvOptions options)
    : file_(std::move(file)),
      options_(std::move(options)),
      pos_(file_->data().data() + std::min(chunk.begin, file_->size_bytes())),
      end_(file_->data().data() + std::min(chunk.end, file_->size_bytes())),
      line_(chunk.first_line),
      origin_prefix_(file_->path() + ":") {
  stats_.files = 1;
}

Result<std::unique_ptr<CsvReader>> CsvReader::open(const std::string& path, CsvOptions options) {
  auto file = CsvFile::open(path);
  if (!file.ok()) return file.error();
  const CsvChunk chunk = file.value()->whole();
  return std::make_unique<CsvReader>(std::move(file.value()), chunk, std::move(options));
}

void CsvReader::set_origin(FlowRecord& flow, uint64_t line) const {
  flow.origin.assign(origin_prefix_);
  char digits[24];
  const auto [ptr, ec] = std::to_chars(digits, digits + sizeof digits, line);
  flow.origin.append(digits, static_cast<size_t>(ptr - digits));
}

void CsvReader::reject(uint64_t line) {
  ++stats_.rejected;
  if (options_.issues) options_.issues(TelemetryIssue{origin_prefix_ + std::to_string(line), reason_});
}

bool CsvReader::parse_row(const char* p, const char* end, bool last_unterminated, FlowRecord& flow) {
  if (parse_fields(p, end, flow)) return true;
  // A row with the wrong number of columns fails on whichever value landed in
  // the wrong column first; name the real problem instead.
  const size_t n = file_->layout().columns.size();
  const size_t got = count_columns(p, end);
  if (got < n && last_unterminated) {
    reason_ = fmt::format("last line cut short: no newline at the end of the file and {} of {} columns", got, n);
  } else if (got != n) {
    reason_ = fmt::format("{} columns, the header has {}", got, n);
  }
  return false;
}

bool CsvReader::slow_number(const char* begin, const char* end, size_t column, double& out) {
  if (parse_csv_number(std::string_view(begin, static_cast<size_t>(end - begin)), out)) return true;
  reason_ = fmt::format("column {} '{}': not a number: '{}'", column + 1, file_->layout().headers[column],
                        shorten(clean_field(begin, end)));
  return false;
}

bool CsvReader::parse_fields(const char* p, const char* end, FlowRecord& flow) {
  const Layout& layout = file_->layout();
  const size_t n = layout.columns.size();
  for (size_t c = 0; c < n; ++c) {
    const ColumnMap column = layout.columns[c];
    const char* e;
    if (column.role == ColumnRole::feature) {
      const FastNumber fast = fast_number_terminated(p);
      if (fast.end != nullptr && (*fast.end == ',' || fast.end == end)) {
        e = fast.end;
        flow.features[static_cast<size_t>(column.feature)] = fast.value;
      } else {
        e = field_end(p, end);
        if (!slow_number(p, e, c, flow.features[static_cast<size_t>(column.feature)])) return false;
      }
    } else {
      e = field_end(p, end);
      const std::string_view text = clean_field(p, e);
      switch (column.role) {
        case ColumnRole::flow_id: flow.flow_id.assign(text); break;
        case ColumnRole::src_ip: flow.src_ip.assign(text); break;
        case ColumnRole::dst_ip: flow.dst_ip.assign(text); break;
        case ColumnRole::label: flow.label.assign(text); break;
        case ColumnRole::src_port: {
          double port;
          if (!parse_csv_number(text, port) || (!std::isnan(port) && (port < 0 || port > 65535 ||
                                                                      port != static_cast<int32_t>(port)))) {
            reason_ = fmt::format("column {} '{}': not a port: '{}'", c + 1, layout.headers[c], shorten(text));
            return false;
          }
          flow.src_port = std::isnan(port) ? -1 : static_cast<int32_t>(port);
          break;
        }
        case ColumnRole::timestamp: {
          if (text.empty()) break;
          const auto ms = parse_flow_timestamp(text);
          if (!ms) {
            reason_ = fmt::format("column {} '{}': not a timestamp: '{}'", c + 1, layout.headers[c], shorten(text));
            return false;
          }
          flow.timestamp_ms = *ms;
          break;
        }
        case ColumnRole::feature:
        case ColumnRole::ignored: break;
      }
    }
    p = e;
    if (c + 1 < n) {
      if (p == end) return false;  // too few columns: parse_row names the count
      ++p;                         // the comma
    }
  }
  return p == end;  // else too many columns
}

Result<size_t> CsvReader::next_batch(std::vector<FlowRecord>& out, size_t max) {
  if (out.size() < max) out.resize(max);
  size_t n = 0;
  while (n < max && pos_ < end_) {
    const char* begin = pos_;
    const char* nl = static_cast<const char*>(std::memchr(begin, '\n', static_cast<size_t>(end_ - begin)));
    const char* line_end = nl ? nl : end_;
    pos_ = nl ? nl + 1 : end_;
    const uint64_t line = line_++;
    if (line_end > begin && line_end[-1] == '\r') --line_end;
    if (line_end == begin) continue;
    const auto length = static_cast<size_t>(line_end - begin);
    if (length > options_.max_line_bytes) {
      reason_ = fmt::format("line of {} bytes is over the limit of {}", length, options_.max_line_bytes);
      reject(line);
      continue;
    }
    if (nl == nullptr) {
      // The last line has no newline: parse a copy that has a terminator
      // byte, which the number fast path relies on (see fast_number_terminated).
      tail_.assign(begin, length);
      tail_.push_back('\n');
      begin = tail_.data();
      line_end = begin + length;
    }
    FlowRecord& flow = out[n];
    flow.clear();
    if (!parse_row(begin, line_end, nl == nullptr, flow)) {
      reject(line);
      continue;
    }
    if (flow.label.empty() && !options_.default_label.empty()) flow.label = options_.default_label;
    if (options_.set_origin) set_origin(flow, line);
    ++n;
  }
  out.resize(n);
  stats_.records += n;
  return n;
}

}  // namespace sentinel::flows
