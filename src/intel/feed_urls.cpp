// A hand-written resolver rather than a URL library: the parser must match
// urllib.parse.urljoin's behaviour exactly (the corpus expectations encode
// it), including its leniency with invalid URLs, which strict URL parsers
// reject.
#include "intel/feed_urls.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "intel/feed_text.h"

namespace sentinel::intel {

namespace {

struct SplitUrl {
  std::string scheme, netloc, path, query, fragment;
  bool has_query = false, has_fragment = false;
};

bool is_scheme_char(unsigned char c) {
  return feedtext::is_ascii_alnum(c) || c == '+' || c == '-' || c == '.';
}

bool in_list(std::string_view s, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool uses_relative(std::string_view scheme) {
  return in_list(
      scheme, {"", "ftp", "http", "gopher", "nntp", "imap", "wais", "file", "https", "shttp", "mms",
               "prospero", "rtsp", "rtspu", "sftp", "svn", "svn+ssh", "ws", "wss"});
}

bool uses_netloc(std::string_view scheme) {
  return in_list(scheme, {"",     "ftp",     "http",  "gopher", "nntp",    "telnet", "imap",
                          "wais", "file",    "mms",   "https",  "shttp",   "snews",  "prospero",
                          "rtsp", "rtspu",   "rsync", "svn",    "svn+ssh", "sftp",   "nfs",
                          "git",  "git+ssh", "ws",    "wss"});
}

// urllib.parse.urlsplit; nullopt for an unbalanced IPv6 bracket (its ValueError).
std::optional<SplitUrl> split_url(std::string_view input, std::string_view default_scheme) {
  std::string url;
  size_t start = 0;
  while (start < input.size() && static_cast<unsigned char>(input[start]) <= 0x20) ++start;
  for (size_t i = start; i < input.size(); ++i) {
    if (input[i] != '\t' && input[i] != '\r' && input[i] != '\n') url.push_back(input[i]);
  }
  SplitUrl out;
  out.scheme = std::string(default_scheme);
  size_t colon = url.find(':');
  if (colon != std::string::npos && colon > 0 &&
      feedtext::is_ascii_alpha(static_cast<unsigned char>(url[0]))) {
    bool all = true;
    for (size_t i = 0; i < colon; ++i) {
      if (!is_scheme_char(static_cast<unsigned char>(url[i]))) {
        all = false;
        break;
      }
    }
    if (all) {
      out.scheme = feedtext::lower(std::string_view(url).substr(0, colon));
      url = url.substr(colon + 1);
    }
  }
  if (url.compare(0, 2, "//") == 0) {
    size_t end = url.find_first_of("/?#", 2);
    if (end == std::string::npos) end = url.size();
    out.netloc = url.substr(2, end - 2);
    url = url.substr(end);
    bool open = out.netloc.find('[') != std::string::npos;
    bool close = out.netloc.find(']') != std::string::npos;
    if (open != close) return std::nullopt;
  }
  size_t hash = url.find('#');
  if (hash != std::string::npos) {
    out.fragment = url.substr(hash + 1);
    out.has_fragment = true;
    url = url.substr(0, hash);
  }
  size_t q = url.find('?');
  if (q != std::string::npos) {
    out.query = url.substr(q + 1);
    out.has_query = true;
    url = url.substr(0, q);
  }
  out.path = std::move(url);
  return out;
}

// urllib.parse.urlunsplit.
std::string unsplit(const std::string& scheme, const std::string& netloc, const std::string& path,
                    const std::string& query, const std::string& fragment) {
  std::string out;
  if (!scheme.empty()) {
    out += scheme;
    out += ':';
  }
  if (!netloc.empty() ||
      (!scheme.empty() && uses_netloc(scheme) && path.compare(0, 2, "//") != 0)) {
    out += "//";
    out += netloc;
    if (!path.empty() && path[0] != '/') out += '/';
  }
  out += path;
  if (!query.empty()) {
    out += '?';
    out += query;
  }
  if (!fragment.empty()) {
    out += '#';
    out += fragment;
  }
  return out;
}

// urllib.parse.urljoin.
std::optional<std::string> urljoin(std::string_view base, std::string_view url) {
  if (base.empty()) return std::string(url);
  if (url.empty()) return std::string(base);
  auto b = split_url(base, "");
  if (!b) return std::nullopt;
  auto u = split_url(url, b->scheme);
  if (!u) return std::nullopt;
  if (u->scheme != b->scheme || !uses_relative(u->scheme)) return std::string(url);
  std::string netloc = u->netloc;
  if (uses_netloc(u->scheme)) {
    if (!netloc.empty()) return unsplit(u->scheme, netloc, u->path, u->query, u->fragment);
    netloc = b->netloc;
  }
  if (u->path.empty()) {
    std::string query = u->query.empty() ? b->query : u->query;
    return unsplit(u->scheme, netloc, b->path, query, u->fragment);
  }
  std::vector<std::string> base_parts;
  for (auto p : feedtext::split(b->path, "/")) base_parts.emplace_back(p);
  if (!base_parts.back().empty()) base_parts.pop_back();
  std::vector<std::string> segments;
  if (u->path[0] == '/') {
    for (auto p : feedtext::split(u->path, "/")) segments.emplace_back(p);
  } else {
    segments = base_parts;
    for (auto p : feedtext::split(u->path, "/")) segments.emplace_back(p);
    // Empty segments are dropped except the first and the last.
    if (segments.size() > 2) {
      std::vector<std::string> kept{segments.front()};
      for (size_t i = 1; i + 1 < segments.size(); ++i) {
        if (!segments[i].empty()) kept.push_back(segments[i]);
      }
      kept.push_back(segments.back());
      segments = std::move(kept);
    }
  }
  std::vector<std::string> resolved;
  for (const auto& seg : segments) {
    if (seg == "..") {
      if (!resolved.empty()) resolved.pop_back();
    } else if (seg != ".") {
      resolved.push_back(seg);
    }
  }
  if (segments.back() == "." || segments.back() == "..") resolved.emplace_back();
  std::string path;
  for (size_t i = 0; i < resolved.size(); ++i) {
    if (i > 0) path.push_back('/');
    path += resolved[i];
  }
  if (path.empty()) path.push_back('/');
  return unsplit(u->scheme, netloc, path, u->query, u->fragment);
}

}  // namespace

std::string url_join(std::string_view base, std::string_view ref) {
  // "scheme:///x" -> "scheme://x" (feedparser's _urifixer).
  std::string fixed(ref);
  size_t i = 0;
  if (!fixed.empty() && feedtext::is_ascii_alpha(static_cast<unsigned char>(fixed[0]))) {
    i = 1;
    while (i < fixed.size() && (feedtext::is_ascii_alnum(static_cast<unsigned char>(fixed[i])) ||
                                (fixed[i] >= '+' && fixed[i] <= '.'))) {
      ++i;
    }
    if (fixed.compare(i, 3, "://") == 0) {
      size_t j = i + 3;
      size_t k = j;
      while (k < fixed.size() && fixed[k] == '/') ++k;
      fixed.erase(j, k - j);
    }
  }
  auto joined = urljoin(base, fixed);
  return joined ? *joined : std::string();
}

bool is_safe_uri_scheme(std::string_view scheme) {
  return in_list(scheme, {"file",  "ftp",      "gopher",  "h323",   "hdl",   "http", "https",
                          "imap",  "magnet",   "mailto",  "mms",    "news",  "nntp", "prospero",
                          "rsync", "rtsp",     "rtspu",   "sftp",   "shttp", "sip",  "sips",
                          "snews", "svn",      "svn+ssh", "telnet", "wais",  "aim",  "callto",
                          "cvs",   "facetime", "feed",    "git",    "gtalk", "irc",  "ircs",
                          "irc6",  "itms",     "msnim",   "skype",  "ssh",   "smb",  "ymsg"});
}

std::string make_safe_absolute_uri(std::string_view base, std::string_view rel) {
  if (base.empty()) return std::string(rel);
  if (rel.empty()) {
    auto parts = split_url(base, "");
    if (!parts) return {};
    if (parts->scheme.empty() || is_safe_uri_scheme(parts->scheme)) return std::string(base);
    return {};
  }
  std::string uri = url_join(base, rel);
  std::string_view stripped = feedtext::strip(uri);
  std::string_view scheme = stripped.substr(0, std::min(stripped.find(':'), stripped.size()));
  if (!is_safe_uri_scheme(scheme)) return {};
  return uri;
}

}  // namespace sentinel::intel
