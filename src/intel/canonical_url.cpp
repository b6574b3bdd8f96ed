#include "intel/canonical_url.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <memory>
#include <utility>
#include <vector>

namespace sentinel::intel {
namespace {

// Names seen in the wild on news links; every "utm_*" name is matched by
// prefix besides these. Lower case: compared after case folding.
constexpr std::array<std::string_view, 44> kTrackingParameters = {
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "igshid", "li_fat_id", "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "referrer", "_ga", "_gl",
    "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking", "mkt_tok", "oly_anon_id",
    "oly_enc_id", "rb_clickid", "s_cid", "vero_id", "vero_conv", "wickedid", "cmpid", "ncid", "sr_share",
    "at_medium", "at_campaign", "at_custom1", "ito", "spm", "share", "ocid"};

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlString {
  char* p = nullptr;
  ~CurlString() { curl_free(p); }
};

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) {
  if (c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}
bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}
// Bytes RFC 3986 never allows raw in a path or query.
bool must_encode(unsigned char c) {
  return c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
         c == '{' || c == '|' || c == '}';
}
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

void append_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

// curl's URL API parses and resolves dot segments but leaves escapes as
// given and knows nothing of parameter order, so this part is ours.
void append_normalised(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '%') {
      if (i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
        auto v = static_cast<unsigned char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
        if (is_unreserved(v)) {
          out += static_cast<char>(v);
        } else {
          append_escape(out, v);
        }
        i += 2;
      } else {
        out += "%25";
      }
    } else if (must_encode(c)) {
      append_escape(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
}

std::string normalised(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_normalised(out, s);
  return out;
}

// Decodes escapes and folds ASCII case: how a parameter name is compared.
std::string comparable_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%' && i + 2 < name.size() && is_hex(name[i + 1]) && is_hex(name[i + 2])) {
      out += lower(static_cast<char>(hex_value(name[i + 1]) * 16 + hex_value(name[i + 2])));
      i += 2;
    } else {
      out += lower(name[i]);
    }
  }
  return out;
}

std::string_view trim_whitespace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;  // (normalised name, normalised "name=value")
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view param = query.substr(start, end - start);
    start = end + 1;
    if (param.empty()) continue;
    std::string_view name = param.substr(0, param.find('='));
    if (name.empty() || is_tracking_parameter(name)) continue;
    params.emplace_back(normalised(name), normalised(param));
  }
  std::stable_sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, param] : params) {
    if (!out.empty()) out += '&';
    out += param;
  }
  return out;
}

}  // namespace

std::span<const std::string_view> tracking_parameters() { return kTrackingParameters; }

bool is_tracking_parameter(std::string_view name) {
  std::string folded = comparable_name(name);
  if (folded.starts_with("utm_")) return true;
  return std::find(kTrackingParameters.begin(), kTrackingParameters.end(), folded) != kTrackingParameters.end();
}

Result<std::string> canonicalize_url(std::string_view raw) {
  std::string_view trimmed = trim_whitespace(raw);
  if (trimmed.empty()) return make_error("url", "empty URL");
  if (trimmed.find('\0') != std::string_view::npos) return make_error("url", "URL contains a NUL byte");
  // curl is lenient where RFC 3986 is not ("https:///x" becomes host "x"):
  // demand "scheme://" followed by an authority before handing it over.
  size_t sep = trimmed.find("://");
  if (sep == std::string_view::npos || sep == 0) return make_error("url", "not an absolute URL (no scheme://)");
  if (sep + 3 >= trimmed.size() || trimmed[sep + 3] == '/' || trimmed[sep + 3] == '?' || trimmed[sep + 3] == '#') {
    return make_error("url", "URL has no host");
  }
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) return make_error("url", "out of memory parsing URL");
  std::string text(trimmed);
  CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, text.c_str(), CURLU_ALLOW_SPACE);
  if (rc != CURLUE_OK) return make_error("url", std::string("not an absolute URL: ") + curl_url_strerror(rc));

  CurlString scheme;
  if (curl_url_get(url.get(), CURLUPART_SCHEME, &scheme.p, 0) != CURLUE_OK || scheme.p == nullptr) {
    return make_error("url", "URL has no scheme");
  }
  std::string scheme_text(scheme.p);
  std::transform(scheme_text.begin(), scheme_text.end(), scheme_text.begin(), lower);
  if (scheme_text != "http" && scheme_text != "https") {
    return make_error("url", "unsupported scheme '" + scheme_text + "' (http or https only)");
  }

  CurlString host;
  if (curl_url_get(url.get(), CURLUPART_HOST, &host.p, 0) != CURLUE_OK || host.p == nullptr || host.p[0] == 0) {
    return make_error("url", "URL has no host");
  }
  std::string host_text(host.p);
  std::transform(host_text.begin(), host_text.end(), host_text.begin(), lower);
  while (!host_text.empty() && host_text.back() == '.') host_text.pop_back();
  if (host_text.empty()) return make_error("url", "URL has no host");
  for (unsigned char c : host_text) {
    if (must_encode(c) && c < 0x80) return make_error("url", "invalid character in host");
  }

  CurlString port;
  CURLUcode port_rc = curl_url_get(url.get(), CURLUPART_PORT, &port.p, CURLU_NO_DEFAULT_PORT);
  if (port_rc != CURLUE_OK && port_rc != CURLUE_NO_PORT) return make_error("url", "invalid port");

  CurlString path;
  if (curl_url_get(url.get(), CURLUPART_PATH, &path.p, 0) != CURLUE_OK) {
    return make_error("url", "invalid path");
  }
  CurlString query;
  CURLUcode query_rc = curl_url_get(url.get(), CURLUPART_QUERY, &query.p, 0);
  if (query_rc != CURLUE_OK && query_rc != CURLUE_NO_QUERY) return make_error("url", "invalid query");

  std::string out;
  out.reserve(trimmed.size());
  out += scheme_text;
  out += "://";
  out += host_text;
  if (port.p != nullptr) {
    out += ':';
    out += port.p;
  }
  std::string path_text = normalised(path.p == nullptr ? "" : path.p);
  if (path_text.empty() || path_text.front() != '/') path_text.insert(path_text.begin(), '/');
  while (path_text.size() > 1 && path_text.back() == '/') path_text.pop_back();
  out += path_text;
  if (query.p != nullptr) {
    std::string q = canonical_query(query.p);
    if (!q.empty()) {
      out += '?';
      out += q;
    }
  }
  return out;
}

}  // namespace sentinel::intel
