// A close port of Python feedparser's _FeedParserMixin and namespace
// handlers (feedparser/mixin.py, feedparser/namespaces/*.py): which element
// lands under which key, how content types, xml:base, xml:lang, authors,
// links, tags and dates are worked out. The feed test corpus's expectations
// are written against that behaviour, so the rules are kept as they are,
// quirks included, and the comments say where a quirk matters.
#include "intel/feed_builder.h"

#include <algorithm>

#include "intel/feed_dates.h"
#include "intel/feed_text.h"
#include "intel/feed_urls.h"

namespace sentinel::intel::feedbuild {

namespace {

using feedhtml::Attrs;

struct NamespaceEntry {
  std::string_view uri;
  std::string_view prefix;
};

constexpr NamespaceEntry kNamespaces[] = {
    {"", ""},
    {"http://backend.userland.com/rss", ""},
    {"http://blogs.law.harvard.edu/tech/rss", ""},
    {"http://purl.org/rss/1.0/", ""},
    {"http://my.netscape.com/rdf/simple/0.9/", ""},
    {"http://example.com/newformat#", ""},
    {"http://example.com/necho", ""},
    {"http://purl.org/echo/", ""},
    {"uri/of/echo/namespace#", ""},
    {"http://purl.org/pie/", ""},
    {"http://purl.org/atom/ns#", ""},
    {"http://www.w3.org/2005/atom", ""},
    {"http://purl.org/rss/1.0/modules/rss091#", ""},
    {"http://webns.net/mvcb/", "admin"},
    {"http://purl.org/rss/1.0/modules/aggregation/", "ag"},
    {"http://purl.org/rss/1.0/modules/annotate/", "annotate"},
    {"http://media.tangent.org/rss/1.0/", "audio"},
    {"http://backend.userland.com/blogchannelmodule", "blogChannel"},
    {"http://creativecommons.org/ns#license", "cc"},
    {"http://web.resource.org/cc/", "cc"},
    {"http://cyber.law.harvard.edu/rss/creativecommonsrssmodule.html", "creativeCommons"},
    {"http://backend.userland.com/creativecommonsrssmodule", "creativeCommons"},
    {"http://purl.org/rss/1.0/modules/company", "co"},
    {"http://purl.org/rss/1.0/modules/content/", "content"},
    {"http://my.theinfo.org/changed/1.0/rss/", "cp"},
    {"http://purl.org/dc/elements/1.1/", "dc"},
    {"http://purl.org/dc/terms/", "dcterms"},
    {"http://purl.org/rss/1.0/modules/email/", "email"},
    {"http://purl.org/rss/1.0/modules/event/", "ev"},
    {"http://rssnamespace.org/feedburner/ext/1.0", "feedburner"},
    {"http://freshmeat.net/rss/fm/", "fm"},
    {"http://xmlns.com/foaf/0.1/", "foaf"},
    {"http://www.w3.org/2003/01/geo/wgs84_pos#", "geo"},
    {"http://www.georss.org/georss", "georss"},
    {"http://www.opengis.net/gml", "gml"},
    {"http://postneo.com/icbm/", "icbm"},
    {"http://purl.org/rss/1.0/modules/image/", "image"},
    {"http://www.itunes.com/dtds/podcast-1.0.dtd", "itunes"},
    {"http://example.com/dtds/podcast-1.0.dtd", "itunes"},
    {"http://purl.org/rss/1.0/modules/link/", "l"},
    {"http://search.yahoo.com/mrss", "media"},
    {"http://search.yahoo.com/mrss/", "media"},
    {"http://madskills.com/public/xml/rss/module/pingback/", "pingback"},
    {"http://prismstandard.org/namespaces/1.2/basic/", "prism"},
    {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdf"},
    {"http://www.w3.org/2000/01/rdf-schema#", "rdfs"},
    {"http://purl.org/rss/1.0/modules/reference/", "ref"},
    {"http://purl.org/rss/1.0/modules/richequiv/", "reqv"},
    {"http://purl.org/rss/1.0/modules/search/", "search"},
    {"http://purl.org/rss/1.0/modules/slash/", "slash"},
    {"http://schemas.xmlsoap.org/soap/envelope/", "soap"},
    {"http://purl.org/rss/1.0/modules/servicestatus/", "ss"},
    {"http://hacks.benhammersley.com/rss/streaming/", "str"},
    {"http://purl.org/rss/1.0/modules/subscription/", "sub"},
    {"http://purl.org/rss/1.0/modules/syndication/", "sy"},
    {"http://schemas.pocketsoap.com/rss/mydescmodule/", "szf"},
    {"http://purl.org/rss/1.0/modules/taxonomy/", "taxo"},
    {"http://purl.org/rss/1.0/modules/threading/", "thr"},
    {"http://purl.org/rss/1.0/modules/textinput/", "ti"},
    {"http://madskills.com/public/xml/rss/module/trackback/", "trackback"},
    {"http://wellformedweb.org/commentapi/", "wfw"},
    {"http://purl.org/rss/1.0/modules/wiki/", "wiki"},
    {"http://www.w3.org/1999/xhtml", "xhtml"},
    {"http://www.w3.org/1999/xlink", "xlink"},
    {"http://www.w3.org/xml/1998/namespace", "xml"},
    {"http://podlove.org/simple-chapters", "psc"},
};

constexpr std::string_view kMathmlNs = "http://www.w3.org/1998/Math/MathML";
constexpr std::string_view kSvgNs = "http://www.w3.org/2000/svg";

bool one_of(std::string_view s, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool can_be_relative_uri(std::string_view e) {
  return one_of(e, {"comments", "docs", "href", "icon", "id", "link", "logo", "url", "wfw_comment",
                    "wfw_commentrss"});
}

bool can_contain_markup(std::string_view e) {
  return one_of(e, {"content", "copyright", "description", "info", "rights", "subtitle", "summary",
                    "tagline", "title"});
}

bool is_html_type(std::string_view t) {
  return t == "application/xhtml+xml" || t == "text/html";
}

std::string map_content_type(std::string_view content_type) {
  std::string t = feedtext::lower(content_type);
  if (t == "text" || t == "plain") return "text/plain";
  if (t == "html") return "text/html";
  if (t == "xhtml") return "application/xhtml+xml";
  return t;
}

// FeedParserDict's key aliases, applied when a key is assigned.
std::string_view canonical_key(std::string_view key) {
  static const std::pair<std::string_view, std::string_view> kMap[] = {
      {"channel", "feed"},
      {"items", "entries"},
      {"guid", "id"},
      {"date", "updated"},
      {"date_parsed", "updated_parsed"},
      {"description", "summary"},
      {"description_detail", "summary_detail"},
      {"url", "href"},
      {"modified", "updated"},
      {"modified_parsed", "updated_parsed"},
      {"issued", "published"},
      {"issued_parsed", "published_parsed"},
      {"copyright", "rights"},
      {"copyright_detail", "rights_detail"},
      {"tagline", "subtitle"},
      {"tagline_detail", "subtitle_detail"}};
  for (const auto& [from, to] : kMap) {
    if (from == key) return to;
  }
  return key;
}

// Bounds on what one document can add to a dict or a tag list: lookups are
// linear, and a hostile feed could otherwise send a million distinct
// element names or categories.
constexpr size_t kMaxKeys = 1000;
constexpr size_t kMaxTags = 1000;

void set_mapped(FeedValue& dict, std::string_view key, FeedValue value) {
  std::string_view k = canonical_key(key);
  if (dict.is_dict() && dict.as_dict().size() >= kMaxKeys && !dict.contains(k)) return;
  dict.set(k, std::move(value));
}

FeedValue time_value(const std::optional<FeedTime>& t) {
  if (!t) return FeedValue();
  FeedValue::List l;
  for (int v : *t) l.emplace_back(v);
  return FeedValue(std::move(l));
}

FeedValue opt_string(const std::optional<std::string>& s) {
  return s ? FeedValue(*s) : FeedValue();
}

// Python's base64.decodebytes followed by a strict UTF-8 decode.
std::optional<std::string> decode_base64(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  size_t count = 0;
  size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    int v = value(c);
    if (v < 0) continue;  // non-alphabet characters are skipped
    if (pad > 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++count;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (count % 4 == 1) return std::nullopt;
  if (count % 4 != 0 && pad < 4 - count % 4) return std::nullopt;
  if (!feedtext::valid_utf8(out)) return std::nullopt;
  return out;
}

// Text that is UTF-8 read as Latin-1 and re-encoded ("Ã©" for "é") is
// repaired: when every code point is below 256 and those bytes form UTF-8.
std::string repair_double_utf8(std::string s) {
  bool high = false;
  std::string bytes;
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = feedtext::next_code_point(s, i);
    if (cp > 0xFF) return s;
    if (cp >= 0x80) high = true;
    bytes.push_back(static_cast<char>(cp));
  }
  if (!high || !feedtext::valid_utf8(bytes)) return s;
  return bytes;
}

// Control characters 0x80-0x9F meant as Windows-1252 become their characters.
std::string translate_cp1252(const std::string& s) {
  if (s.find('\xC2') == std::string::npos) return s;
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = feedtext::next_code_point(s, i);
    uint32_t mapped = feedhtml::cp1252_code_point(cp);
    feedtext::append_utf8(out, mapped != 0 ? mapped : cp);
  }
  return out;
}

bool in_geographic_crs(int64_t epsg) {
  static constexpr std::pair<int, int> kRanges[] = {
      {3819, 3819}, {3821, 3821}, {3824, 3824}, {3889, 3889}, {3906, 3906}, {4001, 4016},
      {4018, 4025}, {4027, 4036}, {4041, 4047}, {4052, 4055}, {4075, 4075}, {4081, 4081},
      {4120, 4176}, {4178, 4185}, {4188, 4216}, {4218, 4289}, {4291, 4304}, {4306, 4319},
      {4322, 4322}, {4324, 4324}, {4326, 4326}, {4463, 4463}, {4470, 4470}, {4475, 4475},
      {4483, 4483}, {4490, 4490}, {4555, 4555}, {4558, 4558}, {4600, 4646}, {4657, 4765},
      {4801, 4811}, {4813, 4821}, {4823, 4824}, {4901, 4904}, {4979, 4979}};
  for (const auto& [lo, hi] : kRanges) {
    if (epsg >= lo && epsg <= hi) return true;
  }
  return false;
}

// GeoRSS coordinate lists: "lat lon lat lon ..." (commas allowed), returned
// as (lon, lat) pairs when `swap`, and with a third value when dims == 3.
std::optional<std::vector<FeedValue>> georss_coords(std::string_view value, bool swap, int dims) {
  std::string text = feedtext::replace_all(std::string(value), ",", " ");
  std::vector<double> numbers;
  for (auto token : feedtext::split_ws(text)) {
    auto v = feedtext::parse_float(token);
    if (!v) return std::nullopt;
    numbers.push_back(*v);
  }
  std::vector<FeedValue> out;
  size_t step = dims == 3 ? 3 : 2;
  size_t i = 0;
  while (i + 1 < numbers.size()) {
    FeedValue::List t;
    if (swap) {
      t.emplace_back(numbers[i + 1]);
      t.emplace_back(numbers[i]);
    } else {
      t.emplace_back(numbers[i]);
      t.emplace_back(numbers[i + 1]);
    }
    if (dims == 3) {
      if (i + 2 >= numbers.size()) break;
      t.emplace_back(numbers[i + 2]);
    }
    out.emplace_back(std::move(t));
    i += step;
  }
  return out;
}

// "?a=1&b;=2" -> "?a=1&b=2": a query parameter mistaken for a reference.
std::string unescape_link_refs(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    out.push_back(s[i]);
    if (s[i] == '&') {
      size_t k = i + 1;
      while (k < s.size() &&
             (feedtext::is_ascii_alnum(static_cast<unsigned char>(s[k])) || s[k] == '_'))
        ++k;
      if (k > i + 1 && k < s.size() && s[k] == ';') {
        out.append(s, i + 1, k - i - 1);
        i = k + 1;
        continue;
      }
    }
    ++i;
  }
  return out;
}

FeedValue geometry(std::string_view type, FeedValue coordinates) {
  FeedValue g = FeedValue::dict();
  g.set("type", type);
  g.set("coordinates", std::move(coordinates));
  return g;
}

std::optional<FeedValue> parse_georss_point(std::string_view v, bool swap = true, int dims = 2) {
  auto c = georss_coords(v, swap, dims);
  if (!c || c->empty()) return std::nullopt;
  return geometry("Point", (*c)[0]);
}

std::optional<FeedValue> parse_georss_line(std::string_view v, bool swap = true, int dims = 2) {
  auto c = georss_coords(v, swap, dims);
  if (!c) return std::nullopt;
  return geometry("LineString", FeedValue(FeedValue::List(c->begin(), c->end())));
}

std::optional<FeedValue> parse_georss_polygon(std::string_view v, bool swap = true, int dims = 2) {
  auto c = georss_coords(v, swap, dims);
  if (!c || c->size() < 4) return std::nullopt;
  FeedValue::List rings{FeedValue(FeedValue::List(c->begin(), c->end()))};
  return geometry("Polygon", FeedValue(std::move(rings)));
}

std::optional<FeedValue> parse_georss_box(std::string_view v, bool swap = true, int dims = 2) {
  auto c = georss_coords(v, swap, dims);
  if (!c) return std::nullopt;
  return geometry("Box", FeedValue(FeedValue::List(c->begin(), c->end())));
}

// The first e-mail address in an author string ("Name (me@example.com)"),
// as feedparser's pattern finds it: local@label.label.tld, local@[1.2.3.tld],
// an optional "]" and "?subject=...". Returns [begin, end) or nullopt.
std::optional<std::pair<size_t, size_t>> find_email(std::string_view s) {
  auto local_char = [](unsigned char c) {
    return feedtext::is_ascii_alnum(c) || c == '_' || c == '.' || c == '+' || c == '-';
  };
  auto label_char = [](unsigned char c) { return feedtext::is_ascii_alnum(c) || c == '-'; };
  // Top-level part: 2-4 letters or 1-3 digits at `p`; returns its end or npos.
  auto tld = [&](size_t p) -> size_t {
    size_t k = p;
    while (k < s.size() && k - p < 4 && feedtext::is_ascii_alpha(static_cast<unsigned char>(s[k])))
      ++k;
    if (k - p >= 2) return k;
    k = p;
    while (k < s.size() && k - p < 3 && feedtext::is_ascii_digit(static_cast<unsigned char>(s[k])))
      ++k;
    return k > p ? k : std::string_view::npos;
  };
  size_t at = 0;
  while ((at = s.find('@', at)) != std::string_view::npos) {
    size_t begin = at;
    while (begin > 0 && local_char(static_cast<unsigned char>(s[begin - 1]))) --begin;
    size_t end = std::string_view::npos;
    if (begin < at) {
      size_t p = at + 1;
      if (p < s.size() && s[p] == '[') {
        // [d.d.d.tld]
        size_t k = p + 1;
        bool ok = true;
        for (int part = 0; part < 3 && ok; ++part) {
          size_t d = k;
          while (k < s.size() && k - d < 3 &&
                 feedtext::is_ascii_digit(static_cast<unsigned char>(s[k])))
            ++k;
          ok = k > d && k < s.size() && s[k] == '.';
          ++k;
        }
        if (ok) end = tld(k);
      } else {
        // One or more "label." then the top-level part, fewest labels last.
        std::vector<size_t> label_ends;
        size_t k = p;
        while (true) {
          size_t l = k;
          while (l < s.size() && label_char(static_cast<unsigned char>(s[l]))) ++l;
          if (l == k || l >= s.size() || s[l] != '.') break;
          k = l + 1;
          label_ends.push_back(k);
        }
        for (auto it = label_ends.rbegin();
             it != label_ends.rend() && end == std::string_view::npos; ++it) {
          end = tld(*it);
        }
      }
    }
    if (end != std::string_view::npos) {
      if (end < s.size() && s[end] == ']') ++end;
      if (s.compare(end, 9, "?subject=") == 0 && end + 9 < s.size() &&
          !feedtext::is_space(static_cast<unsigned char>(s[end + 9]))) {
        end += 9;
        while (end < s.size() && !feedtext::is_space(static_cast<unsigned char>(s[end]))) ++end;
      }
      return std::make_pair(begin, end);
    }
    ++at;
  }
  return std::nullopt;
}

}  // namespace

const std::string* standard_prefix(std::string_view lower_uri) {
  static const std::vector<std::pair<std::string, std::string>> kTable = [] {
    std::vector<std::pair<std::string, std::string>> t;
    for (const auto& e : kNamespaces) t.emplace_back(std::string(e.uri), std::string(e.prefix));
    return t;
  }();
  for (const auto& [uri, prefix] : kTable) {
    if (uri == lower_uri) return &prefix;
  }
  return nullptr;
}

FeedBuilder::FeedBuilder(std::string baseuri, std::optional<std::string> baselang, bool loose,
                         std::map<std::string, std::string> entities, bool resolve_relative_uris,
                         bool sanitize_html)
    : loose_(loose),
      resolve_relative_uris_(resolve_relative_uris),
      sanitize_html_(sanitize_html),
      entities_(std::move(entities)),
      baseuri_(std::move(baseuri)),
      lang_(std::move(baselang)) {
  if (lang_ && lang_->empty()) lang_.reset();
  if (lang_) feeddata_.set("language", feedtext::replace_all(*lang_, "_", "-"));
}

// ---------------------------------------------------------------------------
// Events

void FeedBuilder::unknown_starttag(const std::string& input_tag, Attrs attrs) {
  std::string tag = input_tag;
  ++depth_;
  for (auto& [k, v] : attrs) {
    k = feedtext::lower(k);
    if (k == "rel" || k == "type") v = feedtext::lower(v);
    // The scanner leaves references in attribute values; a parser does not.
    if (loose_) v = feedtext::replace_all(std::move(v), "&amp;", "&");
  }
  FeedValue attrs_d = attrs_dict(attrs);

  // xml:base and xml:lang scoping.
  std::string baseuri;
  if (const FeedValue* b = attrs_d.find("xml:base")) {
    baseuri = b->as_string();
  } else if (const FeedValue* b2 = attrs_d.find("base")) {
    baseuri = b2->as_string();
  }
  if (baseuri.empty()) baseuri = baseuri_;
  if (!baseuri_.empty()) {
    std::string safe = make_safe_absolute_uri(baseuri_, baseuri);
    if (!safe.empty()) baseuri_ = safe;
  } else {
    baseuri_ = url_join(baseuri_, baseuri);
  }
  // xml:lang="" explicitly clears the language; no attribute inherits it.
  const FeedValue* lang_attr = attrs_d.find("xml:lang");
  if (lang_attr == nullptr) lang_attr = attrs_d.find("lang");
  if (lang_attr != nullptr) {
    if (lang_attr->as_string().empty()) {
      lang_.reset();
    } else {
      lang_ = lang_attr->as_string();
    }
  }
  if (lang_ && (tag == "feed" || tag == "rss"))
    feeddata_.set("language", feedtext::replace_all(*lang_, "_", "-"));
  basestack_.push_back(baseuri_);
  langstack_.push_back(lang_);

  for (const auto& [k, v] : attrs) {
    if (feedtext::starts_with(k, "xmlns:")) {
      track_namespace(k.substr(6), v);
    } else if (k == "xmlns") {
      track_namespace(std::nullopt, v);
    }
  }

  // Inline markup inside content.
  if (incontent_ > 0 && !feedtext::ends_with(content_type_or("xml"), "xml")) {
    if (tag == "xhtml:div" || tag == "div") return;  // typepad's wrapper
    contentparams_.set("type", "application/xhtml+xml");
  }
  if (incontent_ > 0 && content_type_or("") == "application/xhtml+xml") {
    size_t colon = tag.find(':');
    if (colon != std::string::npos) {
      std::string prefix = tag.substr(0, colon);
      tag = tag.substr(colon + 1);
      std::string ns = namespaces_in_use_.get_string(prefix);
      if ((tag == "math" && ns == kMathmlNs) || (tag == "svg" && ns == kSvgNs))
        attrs.emplace_back("xmlns", ns);
    }
    if (tag == "svg") ++svg_ok_;
    std::string markup = "<" + tag;
    for (const auto& [k, v] : attrs) {
      markup += " " + k + "=\"";
      markup += loose_ ? feedtext::replace_all(v, "\"", "&quot;") : feedtext::xml_escape(v, true);
      markup += "\"";
    }
    markup += ">";
    handle_data(markup, false);
    return;
  }

  std::string prefix, suffix;
  size_t colon = tag.find(':');
  if (colon != std::string::npos) {
    prefix = tag.substr(0, colon);
    suffix = tag.substr(colon + 1);
  } else {
    suffix = tag;
  }
  if (auto it = namespacemap_.find(prefix); it != namespacemap_.end()) prefix = it->second;
  if (!prefix.empty()) prefix += "_";

  // Empty <textinput>/<image> elements in ill-formed feeds must not capture
  // what follows them.
  if (prefix.empty() && !one_of(tag, {"title", "link", "description", "name"})) intextinput_ = 0;
  if (prefix.empty() &&
      !one_of(tag, {"title", "link", "description", "url", "href", "width", "height"})) {
    inimage_ = 0;
  }

  std::string name = prefix + suffix;
  const auto& handlers = start_handlers();
  if (auto it = handlers.find(name); it != handlers.end()) {
    (this->*(it->second))(attrs);
    return;
  }
  // Unknown element: its text becomes a key, or its attributes a dict.
  if (attrs.empty()) {
    push(name, true);
  } else {
    set_mapped(context(), name, attrs_d);
  }
}

void FeedBuilder::unknown_endtag(const std::string& input_tag) {
  std::string tag = input_tag;
  std::string prefix, suffix;
  size_t colon = tag.find(':');
  if (colon != std::string::npos) {
    prefix = tag.substr(0, colon);
    suffix = tag.substr(colon + 1);
  } else {
    suffix = tag;
  }
  if (auto it = namespacemap_.find(prefix); it != namespacemap_.end()) prefix = it->second;
  if (!prefix.empty()) prefix += "_";
  if (suffix == "svg" && svg_ok_ > 0) --svg_ok_;

  std::string name = prefix + suffix;
  const auto& handlers = end_handlers();
  auto it = handlers.find(name);
  if (svg_ok_ == 0 && it != handlers.end()) {
    (this->*(it->second))();
  } else {
    pop(name);
  }

  if (incontent_ > 0 && !feedtext::ends_with(content_type_or("xml"), "xml")) {
    if (tag == "xhtml:div" || tag == "div")
      return;  // typepad's wrapper (scopes stay pushed, as in feedparser)
    contentparams_.set("type", "application/xhtml+xml");
  }
  if (incontent_ > 0 && content_type_or("") == "application/xhtml+xml") {
    size_t last = tag.rfind(':');
    handle_data("</" + (last == std::string::npos ? tag : tag.substr(last + 1)) + ">", false);
  }

  if (!basestack_.empty()) {
    basestack_.pop_back();
    if (!basestack_.empty() && !basestack_.back().empty()) baseuri_ = basestack_.back();
  }
  if (!langstack_.empty()) {
    langstack_.pop_back();
    if (!langstack_.empty()) lang_ = langstack_.back();
  }
  --depth_;
}

void FeedBuilder::handle_data(std::string_view text, bool escape) {
  if (elementstack_.empty()) return;
  if (escape && content_type_or("") == "application/xhtml+xml") {
    elementstack_.back().pieces.push_back(feedtext::xml_escape(text));
  } else {
    elementstack_.back().pieces.emplace_back(text);
  }
}

void FeedBuilder::handle_charref(const std::string& input_ref) {
  if (elementstack_.empty()) return;
  std::string ref = feedtext::lower(input_ref);
  std::string text;
  if (one_of(ref, {"34", "38", "39", "60", "62", "x22", "x26", "x27", "x3c", "x3e"})) {
    text = "&#" + ref + ";";  // markup-significant characters stay escaped
  } else {
    unsigned long cp = ref[0] == 'x' ? std::strtoul(ref.c_str() + 1, nullptr, 16)
                                     : std::strtoul(ref.c_str(), nullptr, 10);
    feedtext::append_utf8(text, cp > 0x10FFFF ? 0xFFFD : static_cast<uint32_t>(cp));
  }
  elementstack_.back().pieces.push_back(std::move(text));
}

void FeedBuilder::handle_entityref(const std::string& ref) {
  if (elementstack_.empty()) return;
  std::string text;
  if (one_of(ref, {"lt", "gt", "quot", "amp", "apos"})) {
    text = "&" + ref + ";";
  } else if (auto it = entities_.find(ref); it != entities_.end()) {
    const std::string& value = it->second;
    if (feedtext::starts_with(value, "&#") && feedtext::ends_with(value, ";")) {
      handle_charref(value.substr(2, value.size() - 3));
      return;
    }
    text = value;
  } else if (auto cp = feedhtml::html_entity(ref)) {
    feedtext::append_utf8(text, *cp);
  } else {
    text = "&" + ref + ";";
  }
  elementstack_.back().pieces.push_back(std::move(text));
}

void FeedBuilder::track_namespace(const std::optional<std::string>& prefix,
                                  const std::string& input_uri) {
  std::string uri = input_uri;
  std::string lower_uri = feedtext::lower(uri);
  if (version_.empty()) {
    if (!prefix && lower_uri == "http://my.netscape.com/rdf/simple/0.9/") {
      version_ = "rss090";
    } else if (lower_uri == "http://purl.org/rss/1.0/") {
      version_ = "rss10";
    } else if (lower_uri == "http://www.w3.org/2005/atom") {
      version_ = "atom10";
    }
  }
  if (lower_uri.find("backend.userland.com/rss") != std::string::npos) {
    uri = "http://backend.userland.com/rss";
    lower_uri = uri;
  }
  if (const std::string* std_prefix = standard_prefix(lower_uri)) {
    if (prefix) namespacemap_[*prefix] = *std_prefix;
    namespaces_in_use_.set(*std_prefix, uri);
  } else {
    namespaces_in_use_.set(prefix ? *prefix : std::string(), uri);
  }
}

// ---------------------------------------------------------------------------
// Machinery

FeedValue& FeedBuilder::context() {
  if (insource_ > 0) return sourcedata_;
  if (inimage_ > 0) {
    if (FeedValue* image = feeddata_.find("image")) return *image;
  }
  if (intextinput_ > 0) return feeddata_.setdefault("textinput", FeedValue::dict());
  if (inentry_ > 0 && !entries_.empty()) return entries_.back();
  return feeddata_;
}

std::string FeedBuilder::content_type_or(std::string_view fallback) const {
  const FeedValue* t = contentparams_.find("type");
  if (t == nullptr || !t->is_string()) return std::string(fallback);
  return t->as_string();
}

const std::string* FeedBuilder::attr(const Attrs& attrs, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : attrs) {
    if (k == name) found = &v;  // the last duplicate wins, as in a dict
  }
  return found;
}

std::optional<std::string> FeedBuilder::attribute(const Attrs& attrs, std::string_view name) const {
  std::string key(name);
  size_t colon = key.find(':');
  if (colon != std::string::npos) {
    std::string prefix = key.substr(0, colon);
    if (auto it = namespacemap_.find(prefix); it != namespacemap_.end()) prefix = it->second;
    key = prefix + ":" + key.substr(colon + 1);
  }
  const std::string* v = attr(attrs, key);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

FeedValue FeedBuilder::attrs_dict(const Attrs& attrs) {
  FeedValue d = FeedValue::dict();
  for (const auto& [k, v] : attrs) d.set(k, v);
  return d;
}

void FeedBuilder::enforce_href(Attrs& attrs) {
  const std::string* url = attr(attrs, "url");
  const std::string* uri = attr(attrs, "uri");
  const std::string* href = attr(attrs, "href");
  std::string value = url ? *url : (uri ? *uri : (href ? *href : std::string()));
  if (value.empty()) return;
  attrs.erase(std::remove_if(attrs.begin(), attrs.end(),
                             [](const auto& p) { return p.first == "url" || p.first == "uri"; }),
              attrs.end());
  bool replaced = false;
  for (auto& [k, v] : attrs) {
    if (k == "href") {
      v = value;
      replaced = true;
    }
  }
  if (!replaced) attrs.emplace_back("href", value);
}

void FeedBuilder::push(std::string element, bool expecting_text) {
  elementstack_.push_back(Element{std::move(element), expecting_text, {}});
}

std::string FeedBuilder::resolve_uri(const std::string& uri) const {
  return url_join(baseuri_, uri);
}

std::string FeedBuilder::decode_entities(std::string data) const {
  if (!loose_) return data;
  // The scanner leaves references in text; turn the markup-significant ones
  // into the named forms, and decode them unless the content is XML.
  static const std::pair<std::string_view, std::string_view> kNumeric[] = {
      {"&#60;", "&lt;"},   {"&#x3c;", "&lt;"},   {"&#x3C;", "&lt;"},  {"&#62;", "&gt;"},
      {"&#x3e;", "&gt;"},  {"&#x3E;", "&gt;"},   {"&#38;", "&amp;"},  {"&#x26;", "&amp;"},
      {"&#34;", "&quot;"}, {"&#x22;", "&quot;"}, {"&#39;", "&apos;"}, {"&#x27;", "&apos;"}};
  for (const auto& [from, to] : kNumeric) data = feedtext::replace_all(std::move(data), from, to);
  if (!feedtext::ends_with(content_type_or("xml"), "xml")) {
    static const std::pair<std::string_view, std::string_view> kNamed[] = {
        {"&lt;", "<"},   {"&gt;", ">"},   {"&amp;", "&"}, {"&quot;", "\""},
        {"&apos;", "'"}, {"&#x2f;", "/"}, {"&#x2F;", "/"}};
    for (const auto& [from, to] : kNamed) data = feedtext::replace_all(std::move(data), from, to);
  }
  return data;
}

std::optional<std::string> FeedBuilder::pop(const std::string& element, bool strip_whitespace) {
  if (elementstack_.empty() || elementstack_.back().name != element) return std::nullopt;
  Element top = std::move(elementstack_.back());
  elementstack_.pop_back();
  std::vector<std::string>& pieces = top.pieces;

  if (version_ == "atom10" && content_type_or("text") == "application/xhtml+xml") {
    // Drop the wrapping <div> of Atom 1.0 XHTML content when it encloses all of it.
    while (pieces.size() > 1 && feedtext::is_blank(pieces.back())) pieces.pop_back();
    size_t leading = 0;
    while (pieces.size() - leading > 1 && feedtext::is_blank(pieces[leading])) ++leading;
    pieces.erase(pieces.begin(), pieces.begin() + static_cast<std::ptrdiff_t>(leading));
    if (!pieces.empty() &&
        (pieces.front() == "<div>" || feedtext::starts_with(pieces.front(), "<div ")) &&
        pieces.back() == "</div>") {
      int d = 0;
      bool closed_early = false;
      for (size_t i = 0; i + 1 < pieces.size(); ++i) {
        const std::string& p = pieces[i];
        if (feedtext::starts_with(p, "</")) {
          --d;
          if (d == 0) {
            closed_early = true;
            break;
          }
        } else if (feedtext::starts_with(p, "<") && !feedtext::ends_with(p, "/>")) {
          ++d;
        }
      }
      if (!closed_early) pieces = std::vector<std::string>(pieces.begin() + 1, pieces.end() - 1);
    }
  }

  std::string output;
  for (const auto& p : pieces) output += p;
  if (strip_whitespace) output = std::string(feedtext::strip(output));
  if (!top.expecting_text) return output;

  const FeedValue* b64 = contentparams_.find("base64");
  bool base64 = b64 != nullptr && b64->truthy();
  if (base64) {
    if (auto decoded = decode_base64(output)) output = std::move(*decoded);
  }
  if (can_be_relative_uri(element) && !output.empty()) {
    if (element != "id" || guidislink_) output = resolve_uri(output);
  }
  if (!base64) output = decode_entities(std::move(output));
  // Formats other than Atom leave it to the reader to tell HTML from text.
  if (!feedtext::starts_with(version_, "atom") && content_type_or("") == "text/plain" &&
      feedhtml::looks_like_html(output)) {
    contentparams_.set("type", "text/html");
  }
  contentparams_.erase("mode");
  contentparams_.erase("base64");

  std::string type = content_type_or("text/html");
  bool htmlish = is_html_type(map_content_type(type));
  if (htmlish && resolve_relative_uris_ && can_contain_markup(element)) {
    output = feedhtml::resolve_relative_uris(output, baseuri_, type);
  }
  if (htmlish && sanitize_html_ && can_contain_markup(element))
    output = feedhtml::sanitize_html(output, type);
  output = repair_double_utf8(std::move(output));
  output = translate_cp1252(output);

  if (one_of(element, {"category", "tags", "itunes_keywords"})) return output;
  if (element == "title" && title_depth_ > -1 && title_depth_ <= depth_) return output;

  auto content_detail = [&]() {
    FeedValue detail = contentparams_;
    detail.set("value", output);
    return detail;
  };
  if (inentry_ > 0 && insource_ == 0 && !entries_.empty()) {
    size_t index = entries_.size() - 1;
    FeedValue& entry = entries_.back();
    if (element == "content") {
      FeedValue& list = entry.setdefault("content", FeedValue::list());
      if (!list.is_list()) list = FeedValue::list();
      list.as_list().push_back(content_detail());
    } else if (element == "link") {
      if (inimage_ == 0) {
        // "?a=1&amp;b=2" arrives double-escaped from some feeds: unescape it,
        // and "&b;" (an unknown reference) back to "&b".
        output = unescape_link_refs(feedtext::replace_all(output, "&amp;", "&"));
        // An alternate link wins over others (enclosure, related, ...).
        if (isentrylink_ || !(entry.find("link") != nullptr && entry.find("link")->truthy()))
          entry.set("link", output);
        if (!output.empty()) {
          FeedValue* links = entry.find("links");
          if (links != nullptr && links->is_list() && !links->as_list().empty()) {
            links->as_list().back().set("href", output);
          }
        }
      }
    } else {
      std::string key = element == "description" ? "summary" : element;
      // The value nearest the entry wins over nested ones (node precedence).
      auto& depths = property_depth_[index];
      auto d = depths.find(key);
      if (d == depths.end() || depth_ <= d->second) {
        depths[key] = depth_;
        set_mapped(entry, key, output);
      }
      if (incontent_ > 0) set_mapped(entry, key + "_detail", content_detail());
    }
  } else if (infeed_ > 0 || insource_ > 0) {
    FeedValue& ctx = context();
    std::string key = element == "description" ? "subtitle" : element;
    set_mapped(ctx, key, output);
    if (key == "link") {
      output = unescape_link_refs(output);
      ctx.set("link", output);
      FeedValue* links = ctx.find("links");
      if (links != nullptr && links->is_list() && !links->as_list().empty()) {
        links->as_list().back().set("href", output);
      }
    } else if (incontent_ > 0) {
      set_mapped(ctx, key + "_detail", content_detail());
    }
  }
  return output;
}

void FeedBuilder::push_content(const std::string& tag, Attrs& attrs,
                               const std::string& default_type, bool expecting_text) {
  ++incontent_;
  if (lang_) lang_ = feedtext::replace_all(*lang_, "_", "-");
  const std::string* type = attr(attrs, "type");
  contentparams_ = FeedValue::dict();
  std::string mapped = map_content_type(type ? *type : default_type);
  contentparams_.set("type", mapped);
  contentparams_.set("language", opt_string(lang_));
  contentparams_.set("base", baseuri_);
  const std::string* mode = attr(attrs, "mode");
  bool base64 = true;
  if (mode != nullptr && *mode == "base64") {
    base64 = true;
  } else if (feedtext::starts_with(mapped, "text/") || feedtext::ends_with(mapped, "+xml") ||
             feedtext::ends_with(mapped, "/xml")) {
    base64 = false;
  }
  contentparams_.set("base64", base64 ? 1 : 0);
  push(tag, expecting_text);
}

std::optional<std::string> FeedBuilder::pop_content(const std::string& tag) {
  auto value = pop(tag);
  --incontent_;
  contentparams_ = FeedValue::dict();
  return value;
}

void FeedBuilder::save(const std::string& key, FeedValue value, bool overwrite) {
  FeedValue& ctx = context();
  std::string_view k = canonical_key(key);
  if (overwrite) {
    ctx.set(k, std::move(value));
  } else {
    ctx.setdefault(k, std::move(value));
  }
}

void FeedBuilder::save_author(const std::string& key, const std::string& value,
                              const std::string& prefix) {
  FeedValue& ctx = context();
  ctx.setdefault(prefix + "_detail", FeedValue::dict()).set(key, value);
  sync_author_detail(prefix);
  FeedValue& list =
      context().setdefault(prefix + "s", FeedValue(FeedValue::List{FeedValue::dict()}));
  if (list.is_list() && !list.as_list().empty()) list.as_list().back().set(key, value);
}

void FeedBuilder::save_contributor(const std::string& key, const std::string& value) {
  FeedValue& list =
      context().setdefault("contributors", FeedValue(FeedValue::List{FeedValue::dict()}));
  if (list.is_list() && !list.as_list().empty()) list.as_list().back().set(key, value);
}

void FeedBuilder::sync_author_detail(const std::string& key) {
  FeedValue& ctx = context();
  FeedValue* list = ctx.find(key + "s");
  bool from_list = list != nullptr && list->is_list() && !list->as_list().empty();
  FeedValue detail = from_list ? list->as_list().back() : FeedValue::dict();
  if (detail.truthy()) {
    std::string name = detail.get_string("name");
    std::string email = detail.get_string("email");
    if (!name.empty() && !email.empty()) {
      ctx.set(key, name + " (" + email + ")");
    } else if (!name.empty()) {
      ctx.set(key, name);
    } else if (!email.empty()) {
      ctx.set(key, email);
    }
    return;
  }
  std::string author = ctx.get_string(key);
  if (author.empty()) return;
  std::string email;
  if (auto found = find_email(author)) {
    email = author.substr(found->first, found->second - found->first);
    author = feedtext::replace_all(author, email, "");
    author = feedtext::replace_all(author, "()", "");
    author = feedtext::replace_all(author, "<>", "");
    author = feedtext::replace_all(author, "&lt;&gt;", "");
    author = std::string(feedtext::strip(author));
    if (!author.empty() && author.front() == '(') author.erase(0, 1);
    if (!author.empty() && author.back() == ')') author.pop_back();
    author = std::string(feedtext::strip(author));
  }
  // feedparser shares one dict between "<key>s"[-1] and "<key>_detail".
  bool shared = false;
  if ((!author.empty() || !email.empty()) && !ctx.contains(key + "_detail")) {
    ctx.set(key + "_detail", FeedValue::dict());
    shared = true;
  }
  auto apply = [&](FeedValue& d) {
    if (!author.empty()) d.set("name", author);
    if (!email.empty()) d.set("email", email);
  };
  if (from_list) apply(ctx.find(key + "s")->as_list().back());
  if (shared) apply(*ctx.find(key + "_detail"));
}

void FeedBuilder::add_tag(const FeedValue& term, const FeedValue& scheme, const FeedValue& label) {
  FeedValue& tags = context().setdefault("tags", FeedValue::list());
  if (!tags.is_list() || tags.as_list().size() >= kMaxTags) return;
  if (!term.truthy() && !scheme.truthy() && !label.truthy()) return;
  FeedValue value = FeedValue::dict();
  value.set("term", term);
  value.set("scheme", scheme);
  value.set("label", label);
  for (const auto& t : tags.as_list()) {
    if (t == value) return;
  }
  tags.as_list().push_back(std::move(value));
}

void FeedBuilder::save_where(const FeedValue& geometry) {
  FeedValue& where = context().setdefault("where", FeedValue::dict());
  for (const auto& [k, v] : geometry.as_dict()) where.set(k, v);
}

// ---------------------------------------------------------------------------
// Core elements (RSS, Atom, RDF, CDF)

void FeedBuilder::start_rss(Attrs& a) {
  if (!version_.empty() && feedtext::starts_with(version_, "rss")) return;
  const std::string* v = attr(a, "version");
  std::string attr_version = v ? *v : "";
  if (attr_version == "0.91") {
    version_ = "rss091u";
  } else if (attr_version == "0.92") {
    version_ = "rss092";
  } else if (attr_version == "0.93") {
    version_ = "rss093";
  } else if (attr_version == "0.94") {
    version_ = "rss094";
  } else if (feedtext::starts_with(attr_version, "2.")) {
    version_ = "rss20";
  } else {
    version_ = "rss";
  }
}

void FeedBuilder::start_channel(Attrs& a) {
  infeed_ = 1;
  cdf_common(a);
}

void FeedBuilder::cdf_common(Attrs& a) {
  if (const std::string* lastmod = attr(a, "lastmod")) {
    std::string value = *lastmod;
    Attrs none;
    start_updated(none);
    elementstack_.back().pieces = {value};
    end_updated();
  }
  if (const std::string* href = attr(a, "href")) {
    std::string value = *href;
    Attrs none;
    start_link(none);
    if (!elementstack_.empty()) elementstack_.back().pieces = {value};
    end_link();
  }
}

void FeedBuilder::start_feed(Attrs& a) {
  infeed_ = 1;
  if (!version_.empty()) return;
  const std::string* v = attr(a, "version");
  if (v && *v == "0.1") {
    version_ = "atom01";
  } else if (v && *v == "0.2") {
    version_ = "atom02";
  } else if (v && *v == "0.3") {
    version_ = "atom03";
  } else {
    version_ = "atom";
  }
}

void FeedBuilder::end_channel() {
  infeed_ = 0;
}

void FeedBuilder::start_image(Attrs&) {
  if (inentry_ == 0) context().setdefault("image", FeedValue::dict());
  inimage_ = 1;
  title_depth_ = -1;
  push("image", false);
}

void FeedBuilder::end_image() {
  pop("image");
  inimage_ = 0;
}

void FeedBuilder::start_textinput(Attrs&) {
  context().setdefault("textinput", FeedValue::dict());
  intextinput_ = 1;
  title_depth_ = -1;
  push("textinput", false);
}

void FeedBuilder::end_textinput() {
  pop("textinput");
  intextinput_ = 0;
}

void FeedBuilder::start_author(Attrs&) {
  inauthor_ = 1;
  push("author", true);
  FeedValue& list = context().setdefault("authors", FeedValue::list());
  if (list.is_list()) list.as_list().push_back(FeedValue::dict());
}

void FeedBuilder::end_author() {
  pop("author");
  inauthor_ = 0;
  sync_author_detail();
}

void FeedBuilder::start_contributor(Attrs&) {
  incontributor_ = 1;
  FeedValue& list = context().setdefault("contributors", FeedValue::list());
  if (list.is_list()) list.as_list().push_back(FeedValue::dict());
  push("contributor", false);
}

void FeedBuilder::end_contributor() {
  pop("contributor");
  incontributor_ = 0;
}

void FeedBuilder::start_name(Attrs&) {
  push("name", false);
}

void FeedBuilder::end_name() {
  std::string value = pop("name").value_or("");
  if (inpublisher_ > 0) {
    save_author("name", value, "publisher");
  } else if (inauthor_ > 0) {
    save_author("name", value);
  } else if (incontributor_ > 0) {
    save_contributor("name", value);
  } else if (intextinput_ > 0) {
    context().set("name", value);
  }
}

void FeedBuilder::start_width(Attrs&) {
  push("width", false);
}

void FeedBuilder::end_width() {
  auto value = feedtext::parse_int(pop("width").value_or(""));
  if (inimage_ > 0) context().set("width", value ? *value : 0);
}

void FeedBuilder::start_height(Attrs&) {
  push("height", false);
}

void FeedBuilder::end_height() {
  auto value = feedtext::parse_int(pop("height").value_or(""));
  if (inimage_ > 0) context().set("height", value ? *value : 0);
}

void FeedBuilder::start_url(Attrs&) {
  push("href", true);
}

void FeedBuilder::end_url() {
  std::string value = pop("href").value_or("");
  if (inauthor_ > 0) {
    save_author("href", value);
  } else if (incontributor_ > 0) {
    save_contributor("href", value);
  }
}

void FeedBuilder::start_email(Attrs&) {
  push("email", false);
}

void FeedBuilder::end_email() {
  std::string value = pop("email").value_or("");
  if (inpublisher_ > 0) {
    save_author("email", value, "publisher");
  } else if (inauthor_ > 0) {
    save_author("email", value);
  } else if (incontributor_ > 0) {
    save_contributor("email", value);
  }
}

void FeedBuilder::start_subtitle(Attrs& a) {
  push_content("subtitle", a, "text/plain", true);
}
void FeedBuilder::end_subtitle() {
  pop_content("subtitle");
}
void FeedBuilder::start_rights(Attrs& a) {
  push_content("rights", a, "text/plain", true);
}
void FeedBuilder::end_rights() {
  pop_content("rights");
}

void FeedBuilder::start_item(Attrs& a) {
  entries_.push_back(FeedValue::dict());
  push("item", false);
  inentry_ = 1;
  guidislink_ = false;
  title_depth_ = -1;
  if (auto id = attribute(a, "rdf:about"); id && !id->empty()) context().set("id", *id);
  cdf_common(a);
}

void FeedBuilder::end_item() {
  pop("item");
  inentry_ = 0;
  has_content_ = false;
}

void FeedBuilder::start_language(Attrs&) {
  push("language", true);
}

void FeedBuilder::end_language() {
  lang_ = pop("language");
  if (lang_ && lang_->empty()) lang_.reset();
}

void FeedBuilder::start_webmaster(Attrs&) {
  push("publisher", true);
}

void FeedBuilder::end_webmaster() {
  pop("publisher");
  sync_author_detail("publisher");
}

void FeedBuilder::start_published(Attrs&) {
  push("published", true);
}

void FeedBuilder::end_published() {
  auto value = pop("published");
  save("published_parsed", time_value(value ? parse_feed_date(*value) : std::nullopt), true);
}

void FeedBuilder::start_updated(Attrs&) {
  push("updated", true);
}

void FeedBuilder::end_updated() {
  auto value = pop("updated");
  save("updated_parsed", time_value(value ? parse_feed_date(*value) : std::nullopt), true);
}

void FeedBuilder::start_created(Attrs&) {
  push("created", true);
}

void FeedBuilder::end_created() {
  auto value = pop("created");
  save("created_parsed", time_value(value ? parse_feed_date(*value) : std::nullopt), true);
}

void FeedBuilder::start_expirationdate(Attrs&) {
  push("expired", true);
}

void FeedBuilder::end_expirationdate() {
  auto value = pop("expired");
  save("expired_parsed", time_value(value ? parse_feed_date(*value) : std::nullopt), true);
}

void FeedBuilder::start_category(Attrs& a) {
  const std::string* term = attr(a, "term");
  const std::string* scheme = attr(a, "scheme");
  if (scheme == nullptr) scheme = attr(a, "domain");
  const std::string* label = attr(a, "label");
  add_tag(term ? FeedValue(*term) : FeedValue(), scheme ? FeedValue(*scheme) : FeedValue(),
          label ? FeedValue(*label) : FeedValue());
  push("category", true);
}

void FeedBuilder::end_category() {
  auto value = pop("category");
  if (!value || value->empty()) return;
  FeedValue* tags = context().find("tags");
  if (tags != nullptr && tags->is_list() && !tags->as_list().empty()) {
    FeedValue& last = tags->as_list().back();
    const FeedValue* term = last.find("term");
    if (term == nullptr || !term->truthy()) {
      last.set("term", *value);
      return;
    }
  }
  add_tag(FeedValue(*value), FeedValue(), FeedValue());
}

void FeedBuilder::start_cloud(Attrs& a) {
  context().set("cloud", attrs_dict(a));
}

void FeedBuilder::start_link(Attrs& a) {
  if (attr(a, "rel") == nullptr) a.emplace_back("rel", "alternate");
  if (*attr(a, "rel") == "self") {
    if (attr(a, "type") == nullptr) a.emplace_back("type", "application/atom+xml");
  } else if (attr(a, "type") == nullptr) {
    a.emplace_back("type", "text/html");
  }
  enforce_href(a);
  bool has_href = false;
  for (auto& [k, v] : a) {
    if (k == "href") {
      v = resolve_uri(v);
      has_href = true;
    }
  }
  if (*attr(a, "rel") == "alternate" && is_html_type(map_content_type(*attr(a, "type"))))
    isentrylink_ = true;
  bool expecting_text = infeed_ > 0 || inentry_ > 0 || insource_ > 0;
  FeedValue& ctx = context();
  FeedValue& links = ctx.setdefault("links", FeedValue::list());
  if (!(inentry_ > 0 && inimage_ > 0) && links.is_list()) links.as_list().push_back(attrs_dict(a));
  if (has_href) {
    if (isentrylink_) ctx.set("link", *attr(a, "href"));
  } else {
    push("link", expecting_text);
  }
}

void FeedBuilder::end_link() {
  pop("link");
  isentrylink_ = false;
}

void FeedBuilder::start_guid(Attrs& a) {
  const std::string* permalink = attr(a, "ispermalink");
  guidislink_ = permalink == nullptr || *permalink == "true";
  push("id", true);
}

void FeedBuilder::end_guid() {
  auto value = pop("id");
  save("guidislink", guidislink_ && !context().contains("link"));
  if (guidislink_) save("link", value ? FeedValue(*value) : FeedValue());
}

void FeedBuilder::start_title(Attrs& a) {
  push_content("title", a, "text/plain", infeed_ > 0 || inentry_ > 0 || insource_ > 0);
}

void FeedBuilder::end_title() {
  auto value = pop_content("title");
  if (!value || value->empty()) return;
  title_depth_ = depth_;
}

void FeedBuilder::start_description(Attrs& a) {
  if (context().contains("summary") && !has_content_) {
    summary_key_ = "content";
    start_content(a);
  } else {
    push_content("description", a, "text/html", infeed_ > 0 || inentry_ > 0 || insource_ > 0);
  }
}

void FeedBuilder::start_abstract(Attrs& a) {
  push_content("description", a, "text/plain", infeed_ > 0 || inentry_ > 0 || insource_ > 0);
}

void FeedBuilder::end_description() {
  if (summary_key_ && *summary_key_ == "content") {
    end_content();
  } else {
    pop_content("description");
  }
  summary_key_.reset();
}

void FeedBuilder::start_info(Attrs& a) {
  push_content("info", a, "text/plain", true);
}
void FeedBuilder::end_info() {
  pop_content("info");
}

void FeedBuilder::start_generator(Attrs& a) {
  if (!a.empty()) {
    enforce_href(a);
    for (auto& [k, v] : a) {
      if (k == "href") v = resolve_uri(v);
    }
  }
  context().set("generator_detail", attrs_dict(a));
  push("generator", true);
}

void FeedBuilder::end_generator() {
  auto value = pop("generator");
  if (FeedValue* detail = context().find("generator_detail"))
    detail->set("name", opt_string(value));
}

void FeedBuilder::start_summary(Attrs& a) {
  if (context().contains("summary") && !has_content_) {
    summary_key_ = "content";
    start_content(a);
  } else {
    summary_key_ = "summary";
    push_content("summary", a, "text/plain", true);
  }
}

void FeedBuilder::end_summary() {
  if (summary_key_ && *summary_key_ == "content") {
    end_content();
  } else {
    pop_content(summary_key_.value_or("summary"));
  }
  summary_key_.reset();
}

void FeedBuilder::start_enclosure(Attrs& a) {
  enforce_href(a);
  a.erase(std::remove_if(a.begin(), a.end(), [](const auto& p) { return p.first == "rel"; }),
          a.end());
  a.emplace_back("rel", "enclosure");
  FeedValue& links = context().setdefault("links", FeedValue::list());
  if (links.is_list()) links.as_list().push_back(attrs_dict(a));
}

void FeedBuilder::start_source(Attrs& a) {
  if (const std::string* url = attr(a, "url")) sourcedata_.set("href", *url);
  push("source", true);
  insource_ = 1;
  title_depth_ = -1;
}

void FeedBuilder::end_source() {
  insource_ = 0;
  auto value = pop("source");
  if (value && !value->empty()) sourcedata_.set("title", *value);
  context().set("source", sourcedata_);
  sourcedata_ = FeedValue::dict();
}

void FeedBuilder::start_content(Attrs& a) {
  has_content_ = true;
  push_content("content", a, "text/plain", true);
  if (const std::string* src = attr(a, "src"); src && !src->empty())
    contentparams_.set("src", *src);
}

void FeedBuilder::start_body(Attrs& a) {
  push_content("content", a, "application/xhtml+xml", true);
}

void FeedBuilder::start_content_encoded(Attrs& a) {
  has_content_ = true;
  push_content("content", a, "text/html", true);
}

void FeedBuilder::end_content() {
  const FeedValue* type = contentparams_.find("type");
  std::string mapped =
      type && type->is_string() ? map_content_type(type->as_string()) : std::string();
  bool copy_to_summary = mapped == "text/plain" || is_html_type(mapped);
  auto value = pop_content("content");
  if (copy_to_summary) save("summary", opt_string(value));
}

void FeedBuilder::start_newlocation(Attrs&) {
  push("newlocation", true);
}

void FeedBuilder::end_newlocation() {
  auto url = pop("newlocation");
  FeedValue& ctx = context();
  if (&ctx != &feeddata_) return;
  ctx.set("newlocation", make_safe_absolute_uri(baseuri_, feedtext::strip(url.value_or(""))));
}

void FeedBuilder::start_tags(Attrs&) {
  push("tags", true);
}

void FeedBuilder::end_tags() {
  const std::string text = pop("tags").value_or("");
  for (auto term : feedtext::split(text, ",")) {
    add_tag(FeedValue(std::string(feedtext::strip(term))), FeedValue(), FeedValue());
  }
}

// ---------------------------------------------------------------------------
// Dublin Core, Creative Commons, admin

void FeedBuilder::start_dcterms_valid(Attrs&) {
  push("validity", true);
}

void FeedBuilder::end_dcterms_valid() {
  const std::string text = pop("validity").value_or("");
  for (auto detail : feedtext::split(text, ";")) {
    size_t eq = detail.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(detail.substr(0, eq));
    std::string value(detail.substr(eq + 1));
    if (key == "start" || key == "end") {
      save("validity_" + key, value, true);
      save("validity_" + key + "_parsed", time_value(parse_feed_date(value)), true);
    }
  }
}

void FeedBuilder::start_dc_contributor(Attrs&) {
  incontributor_ = 1;
  FeedValue& list = context().setdefault("contributors", FeedValue::list());
  if (list.is_list()) list.as_list().push_back(FeedValue::dict());
  push("name", false);
}

void FeedBuilder::end_dc_contributor() {
  end_name();
  incontributor_ = 0;
}

void FeedBuilder::start_cc_license(Attrs& a) {
  auto value = attribute(a, "rdf:resource");
  FeedValue link = FeedValue::dict();
  link.set("rel", "license");
  if (value && !value->empty()) link.set("href", *value);
  FeedValue& links = context().setdefault("links", FeedValue::list());
  if (links.is_list()) links.as_list().push_back(std::move(link));
}

void FeedBuilder::start_creativecommons_license(Attrs&) {
  push("license", true);
}

void FeedBuilder::end_creativecommons_license() {
  auto value = pop("license");
  if (!value) return;
  FeedValue link = FeedValue::dict();
  link.set("rel", "license");
  if (!value->empty()) link.set("href", *value);
  FeedValue& ctx = context();
  FeedValue& links = ctx.setdefault("links", FeedValue::list());
  if (links.is_list()) links.as_list().push_back(std::move(link));
  ctx.erase("license");
}

void FeedBuilder::start_admin_generatoragent(Attrs& a) {
  push("generator", true);
  auto value = attribute(a, "rdf:resource");
  if (value && !value->empty()) elementstack_.back().pieces.push_back(*value);
  pop("generator");
  FeedValue detail = FeedValue::dict();
  detail.set("href", opt_string(value));
  context().set("generator_detail", std::move(detail));
}

void FeedBuilder::start_admin_errorreportsto(Attrs& a) {
  push("errorreportsto", true);
  auto value = attribute(a, "rdf:resource");
  if (value && !value->empty()) elementstack_.back().pieces.push_back(*value);
  pop("errorreportsto");
}

// ---------------------------------------------------------------------------
// iTunes

void FeedBuilder::start_itunes_owner(Attrs&) {
  inpublisher_ = 1;
  push("publisher", false);
}

void FeedBuilder::end_itunes_owner() {
  pop("publisher");
  inpublisher_ = 0;
  sync_author_detail("publisher");
}

void FeedBuilder::end_itunes_keywords() {
  const std::string text = pop("itunes_keywords").value_or("");
  for (auto term : feedtext::split(text, ",")) {
    std::string_view t = feedtext::strip(term);
    if (!t.empty()) add_tag(FeedValue(t), FeedValue("http://www.itunes.com/"), FeedValue());
  }
}

void FeedBuilder::start_itunes_category(Attrs& a) {
  const std::string* text = attr(a, "text");
  add_tag(text ? FeedValue(*text) : FeedValue(), FeedValue("http://www.itunes.com/"), FeedValue());
  push("category", true);
}

void FeedBuilder::start_itunes_image(Attrs& a) {
  push("itunes_image", false);
  const std::string* href = attr(a, "href");
  const std::string* url = attr(a, "url");
  std::string value =
      href && !href->empty() ? *href : (url && !url->empty() ? *url : std::string());
  if (!value.empty()) {
    FeedValue image = FeedValue::dict();
    image.set("href", value);
    context().set("image", std::move(image));
  }
}

void FeedBuilder::end_itunes_block() {
  std::string value = pop("itunes_block", false).value_or("");
  context().set("itunes_block", value == "yes" || value == "Yes" ? 1 : 0);
}

void FeedBuilder::end_itunes_explicit() {
  std::string value = pop("itunes_explicit", false).value_or("");
  // "yes"/"true"/"explicit" -> True, "no"/"false"/"clean" -> False, anything
  // else (including other spellings and padding) -> None.
  FeedValue v;
  if (value == "yes" || value == "true" || value == "explicit") {
    v = FeedValue(true);
  } else if (value == "no" || value == "false" || value == "clean") {
    v = FeedValue(false);
  }
  context().set("itunes_explicit", std::move(v));
}

// ---------------------------------------------------------------------------
// Media RSS

void FeedBuilder::start_media_category(Attrs& a) {
  if (attr(a, "scheme") == nullptr)
    a.emplace_back("scheme", "http://search.yahoo.com/mrss/category_schema");
  start_category(a);
}

void FeedBuilder::end_media_keywords() {
  const std::string text = pop("media_keywords").value_or("");
  for (auto term : feedtext::split(text, ",")) {
    std::string_view t = feedtext::strip(term);
    if (!t.empty()) add_tag(FeedValue(t), FeedValue(), FeedValue());
  }
}

void FeedBuilder::end_media_title() {
  int saved = title_depth_;
  end_title();
  title_depth_ = saved;
}

void FeedBuilder::start_media_group(Attrs&) {}

void FeedBuilder::start_media_rating(Attrs& a) {
  context().setdefault("media_rating", attrs_dict(a));
  push("rating", true);
}

void FeedBuilder::end_media_rating() {
  auto rating = pop("rating");
  if (rating && !feedtext::is_blank(*rating)) {
    FeedValue& r = context().setdefault("media_rating", FeedValue::dict());
    r.set("content", *rating);
  }
}

void FeedBuilder::start_media_credit(Attrs& a) {
  FeedValue& list = context().setdefault("media_credit", FeedValue::list());
  if (list.is_list()) list.as_list().push_back(attrs_dict(a));
  push("credit", true);
}

void FeedBuilder::end_media_credit() {
  auto credit = pop("credit");
  if (!credit || feedtext::is_blank(*credit)) return;
  FeedValue* list = context().find("media_credit");
  if (list != nullptr && list->is_list() && !list->as_list().empty())
    list->as_list().back().set("content", *credit);
}

void FeedBuilder::start_media_restriction(Attrs& a) {
  context().setdefault("media_restriction", attrs_dict(a));
  push("restriction", true);
}

void FeedBuilder::end_media_restriction() {
  auto restriction = pop("restriction");
  if (!restriction || feedtext::is_blank(*restriction)) return;
  FeedValue::List codes;
  for (auto code : feedtext::split(*restriction, " "))
    codes.emplace_back(feedtext::lower(feedtext::strip(code)));
  context()
      .setdefault("media_restriction", FeedValue::dict())
      .set("content", FeedValue(std::move(codes)));
}

void FeedBuilder::start_media_license(Attrs& a) {
  context().setdefault("media_license", attrs_dict(a));
  push("license", true);
}

void FeedBuilder::end_media_license() {
  auto license = pop("license");
  if (license && !feedtext::is_blank(*license)) {
    context().setdefault("media_license", FeedValue::dict()).set("content", *license);
  }
}

void FeedBuilder::start_media_content(Attrs& a) {
  FeedValue& list = context().setdefault("media_content", FeedValue::list());
  if (list.is_list()) list.as_list().push_back(attrs_dict(a));
}

void FeedBuilder::start_media_thumbnail(Attrs& a) {
  FeedValue& list = context().setdefault("media_thumbnail", FeedValue::list());
  push("url", true);
  if (list.is_list()) list.as_list().push_back(attrs_dict(a));
}

void FeedBuilder::end_media_thumbnail() {
  auto url = pop("url");
  FeedValue* list = context().find("media_thumbnail");
  if (url && !feedtext::is_blank(*url) && list != nullptr && list->is_list() &&
      !list->as_list().empty()) {
    FeedValue& last = list->as_list().back();
    if (!last.contains("url")) last.set("url", *url);
  }
}

void FeedBuilder::start_media_player(Attrs& a) {
  push("media_player", false);
  context().set("media_player", attrs_dict(a));
}

void FeedBuilder::end_media_player() {
  auto value = pop("media_player");
  context().setdefault("media_player", FeedValue::dict()).set("content", opt_string(value));
}

// ---------------------------------------------------------------------------
// GeoRSS and GML

void FeedBuilder::start_georss_geom(Attrs&) {
  push("geometry", false);
  context().set("where", FeedValue::dict());
}

void FeedBuilder::end_georss_point() {
  if (auto g = parse_georss_point(pop("geometry").value_or(""))) save_where(*g);
}

void FeedBuilder::end_georss_line() {
  if (auto g = parse_georss_line(pop("geometry").value_or(""))) save_where(*g);
}

void FeedBuilder::end_georss_polygon() {
  if (auto g = parse_georss_polygon(pop("geometry").value_or(""))) save_where(*g);
}

void FeedBuilder::end_georss_box() {
  if (auto g = parse_georss_box(pop("geometry").value_or(""))) save_where(*g);
}

void FeedBuilder::start_where(Attrs&) {
  push("where", false);
  context().set("where", FeedValue::dict());
}

void FeedBuilder::end_where() {
  pop("where");
}

void FeedBuilder::parse_srs_attrs(Attrs& a) {
  const std::string* name = attr(a, "srsname");
  const std::string* dim = attr(a, "srsdimension");
  auto dims = feedtext::parse_int(dim ? *dim : "2");
  FeedValue& where = context().setdefault("where", FeedValue::dict());
  where.set("srsName", name ? FeedValue(*name) : FeedValue());
  where.set("srsDimension", dims ? *dims : 2);
}

void FeedBuilder::start_gml_point(Attrs& a) {
  parse_srs_attrs(a);
  ingeometry_ = "point";
  push("geometry", false);
}

void FeedBuilder::start_gml_linestring(Attrs& a) {
  parse_srs_attrs(a);
  ingeometry_ = "linestring";
  push("geometry", false);
}

void FeedBuilder::start_gml_polygon(Attrs& a) {
  parse_srs_attrs(a);
  push("geometry", false);
}

void FeedBuilder::start_gml_exterior(Attrs&) {
  push("geometry", false);
}

void FeedBuilder::start_gml_linearring(Attrs&) {
  ingeometry_ = "polygon";
  push("geometry", false);
}

void FeedBuilder::start_gml_pos(Attrs&) {
  push("pos", false);
}

void FeedBuilder::gml_pos(bool list) {
  std::string text = pop("pos").value_or("");
  const FeedValue& where = context().setdefault("where", FeedValue::dict());
  std::string srs_name = where.get_string("srsName");
  const FeedValue* dim = where.find("srsDimension");
  int dims = dim != nullptr && dim->is_int() ? static_cast<int>(dim->as_int()) : 2;
  bool swap = true;
  if (srs_name.find("EPSG") != std::string::npos) {
    auto parts = feedtext::split(srs_name, ":");
    auto epsg = feedtext::parse_int(parts.back());
    swap = epsg && in_geographic_crs(*epsg);
  }
  std::optional<FeedValue> g;
  if (!list) {
    g = parse_georss_point(text, swap, dims);
  } else if (ingeometry_ == "linestring") {
    g = parse_georss_line(text, swap, dims);
  } else if (ingeometry_ == "polygon") {
    if (auto ring = parse_georss_line(text, swap, dims)) {
      FeedValue::List rings{*ring->find("coordinates")};
      g = geometry("Polygon", FeedValue(std::move(rings)));
    }
  }
  if (g) save_where(*g);
}

void FeedBuilder::end_gml_pos() {
  gml_pos(false);
}
void FeedBuilder::end_gml_poslist() {
  gml_pos(true);
}

void FeedBuilder::end_geom() {
  ingeometry_.clear();
  pop("geometry");
}

// ---------------------------------------------------------------------------
// Dispatch tables: element name (prefix_localname) -> handler.

const std::unordered_map<std::string, FeedBuilder::StartHandler>& FeedBuilder::start_handlers() {
  static const std::unordered_map<std::string, StartHandler> kHandlers = {
      {"rss", &FeedBuilder::start_rss},
      {"channel", &FeedBuilder::start_channel},
      {"feed", &FeedBuilder::start_feed},
      {"image", &FeedBuilder::start_image},
      {"textinput", &FeedBuilder::start_textinput},
      {"author", &FeedBuilder::start_author},
      {"managingeditor", &FeedBuilder::start_author},
      {"contributor", &FeedBuilder::start_contributor},
      {"name", &FeedBuilder::start_name},
      {"width", &FeedBuilder::start_width},
      {"height", &FeedBuilder::start_height},
      {"url", &FeedBuilder::start_url},
      {"homepage", &FeedBuilder::start_url},
      {"uri", &FeedBuilder::start_url},
      {"email", &FeedBuilder::start_email},
      {"subtitle", &FeedBuilder::start_subtitle},
      {"tagline", &FeedBuilder::start_subtitle},
      {"rights", &FeedBuilder::start_rights},
      {"copyright", &FeedBuilder::start_rights},
      {"item", &FeedBuilder::start_item},
      {"entry", &FeedBuilder::start_item},
      {"language", &FeedBuilder::start_language},
      {"webmaster", &FeedBuilder::start_webmaster},
      {"published", &FeedBuilder::start_published},
      {"issued", &FeedBuilder::start_published},
      {"pubdate", &FeedBuilder::start_published},
      {"updated", &FeedBuilder::start_updated},
      {"modified", &FeedBuilder::start_updated},
      {"lastbuilddate", &FeedBuilder::start_updated},
      {"created", &FeedBuilder::start_created},
      {"expirationdate", &FeedBuilder::start_expirationdate},
      {"category", &FeedBuilder::start_category},
      {"keywords", &FeedBuilder::start_category},
      {"cloud", &FeedBuilder::start_cloud},
      {"link", &FeedBuilder::start_link},
      {"guid", &FeedBuilder::start_guid},
      {"id", &FeedBuilder::start_guid},
      {"title", &FeedBuilder::start_title},
      {"description", &FeedBuilder::start_description},
      {"abstract", &FeedBuilder::start_abstract},
      {"info", &FeedBuilder::start_info},
      {"feedburner_browserfriendly", &FeedBuilder::start_info},
      {"generator", &FeedBuilder::start_generator},
      {"summary", &FeedBuilder::start_summary},
      {"enclosure", &FeedBuilder::start_enclosure},
      {"source", &FeedBuilder::start_source},
      {"content", &FeedBuilder::start_content},
      {"body", &FeedBuilder::start_body},
      {"xhtml_body", &FeedBuilder::start_body},
      {"content_encoded", &FeedBuilder::start_content_encoded},
      {"fullitem", &FeedBuilder::start_content_encoded},
      {"newlocation", &FeedBuilder::start_newlocation},
      {"tags", &FeedBuilder::start_tags},
      {"dc_author", &FeedBuilder::start_author},
      {"dc_creator", &FeedBuilder::start_author},
      {"dc_date", &FeedBuilder::start_updated},
      {"dc_description", &FeedBuilder::start_description},
      {"dc_language", &FeedBuilder::start_language},
      {"dc_publisher", &FeedBuilder::start_webmaster},
      {"dc_rights", &FeedBuilder::start_rights},
      {"dc_subject", &FeedBuilder::start_category},
      {"dc_title", &FeedBuilder::start_title},
      {"dcterms_created", &FeedBuilder::start_created},
      {"dcterms_issued", &FeedBuilder::start_published},
      {"dcterms_modified", &FeedBuilder::start_updated},
      {"dcterms_valid", &FeedBuilder::start_dcterms_valid},
      {"dc_contributor", &FeedBuilder::start_dc_contributor},
      {"cc_license", &FeedBuilder::start_cc_license},
      {"creativecommons_license", &FeedBuilder::start_creativecommons_license},
      {"creativeCommons_license", &FeedBuilder::start_creativecommons_license},
      {"itunes_author", &FeedBuilder::start_author},
      {"itunes_name", &FeedBuilder::start_name},
      {"itunes_email", &FeedBuilder::start_email},
      {"itunes_subtitle", &FeedBuilder::start_subtitle},
      {"itunes_summary", &FeedBuilder::start_summary},
      {"itunes_owner", &FeedBuilder::start_itunes_owner},
      {"itunes_category", &FeedBuilder::start_itunes_category},
      {"itunes_image", &FeedBuilder::start_itunes_image},
      {"itunes_link", &FeedBuilder::start_itunes_image},
      {"media_category", &FeedBuilder::start_media_category},
      {"media_title", &FeedBuilder::start_title},
      {"media_group", &FeedBuilder::start_media_group},
      {"media_rating", &FeedBuilder::start_media_rating},
      {"media_credit", &FeedBuilder::start_media_credit},
      {"media_description", &FeedBuilder::start_description},
      {"media_restriction", &FeedBuilder::start_media_restriction},
      {"media_license", &FeedBuilder::start_media_license},
      {"media_content", &FeedBuilder::start_media_content},
      {"media_thumbnail", &FeedBuilder::start_media_thumbnail},
      {"media_player", &FeedBuilder::start_media_player},
      {"georss_point", &FeedBuilder::start_georss_geom},
      {"georss_line", &FeedBuilder::start_georss_geom},
      {"georss_polygon", &FeedBuilder::start_georss_geom},
      {"georss_box", &FeedBuilder::start_georss_geom},
      {"where", &FeedBuilder::start_where},
      {"georss_where", &FeedBuilder::start_where},
      {"gml_point", &FeedBuilder::start_gml_point},
      {"gml_linestring", &FeedBuilder::start_gml_linestring},
      {"gml_polygon", &FeedBuilder::start_gml_polygon},
      {"gml_exterior", &FeedBuilder::start_gml_exterior},
      {"gml_linearring", &FeedBuilder::start_gml_linearring},
      {"gml_pos", &FeedBuilder::start_gml_pos},
      {"gml_poslist", &FeedBuilder::start_gml_pos},
      {"admin_generatoragent", &FeedBuilder::start_admin_generatoragent},
      {"admin_errorreportsto", &FeedBuilder::start_admin_errorreportsto},
  };
  return kHandlers;
}

const std::unordered_map<std::string, FeedBuilder::EndHandler>& FeedBuilder::end_handlers() {
  static const std::unordered_map<std::string, EndHandler> kHandlers = {
      {"channel", &FeedBuilder::end_channel},
      {"feed", &FeedBuilder::end_channel},
      {"image", &FeedBuilder::end_image},
      {"textinput", &FeedBuilder::end_textinput},
      {"author", &FeedBuilder::end_author},
      {"managingeditor", &FeedBuilder::end_author},
      {"contributor", &FeedBuilder::end_contributor},
      {"name", &FeedBuilder::end_name},
      {"width", &FeedBuilder::end_width},
      {"height", &FeedBuilder::end_height},
      {"url", &FeedBuilder::end_url},
      {"homepage", &FeedBuilder::end_url},
      {"uri", &FeedBuilder::end_url},
      {"email", &FeedBuilder::end_email},
      {"subtitle", &FeedBuilder::end_subtitle},
      {"tagline", &FeedBuilder::end_subtitle},
      {"rights", &FeedBuilder::end_rights},
      {"copyright", &FeedBuilder::end_rights},
      {"item", &FeedBuilder::end_item},
      {"entry", &FeedBuilder::end_item},
      {"language", &FeedBuilder::end_language},
      {"webmaster", &FeedBuilder::end_webmaster},
      {"published", &FeedBuilder::end_published},
      {"issued", &FeedBuilder::end_published},
      {"pubdate", &FeedBuilder::end_published},
      {"updated", &FeedBuilder::end_updated},
      {"modified", &FeedBuilder::end_updated},
      {"lastbuilddate", &FeedBuilder::end_updated},
      {"created", &FeedBuilder::end_created},
      {"expirationdate", &FeedBuilder::end_expirationdate},
      {"category", &FeedBuilder::end_category},
      {"keywords", &FeedBuilder::end_category},
      {"link", &FeedBuilder::end_link},
      {"guid", &FeedBuilder::end_guid},
      {"id", &FeedBuilder::end_guid},
      {"title", &FeedBuilder::end_title},
      {"description", &FeedBuilder::end_description},
      {"abstract", &FeedBuilder::end_description},
      {"info", &FeedBuilder::end_info},
      {"feedburner_browserfriendly", &FeedBuilder::end_info},
      {"generator", &FeedBuilder::end_generator},
      {"summary", &FeedBuilder::end_summary},
      {"source", &FeedBuilder::end_source},
      {"content", &FeedBuilder::end_content},
      {"body", &FeedBuilder::end_content},
      {"xhtml_body", &FeedBuilder::end_content},
      {"content_encoded", &FeedBuilder::end_content},
      {"fullitem", &FeedBuilder::end_content},
      {"newlocation", &FeedBuilder::end_newlocation},
      {"tags", &FeedBuilder::end_tags},
      {"dc_author", &FeedBuilder::end_author},
      {"dc_creator", &FeedBuilder::end_author},
      {"dc_date", &FeedBuilder::end_updated},
      {"dc_description", &FeedBuilder::end_description},
      {"dc_language", &FeedBuilder::end_language},
      {"dc_publisher", &FeedBuilder::end_webmaster},
      {"dc_rights", &FeedBuilder::end_rights},
      {"dc_subject", &FeedBuilder::end_category},
      {"dc_title", &FeedBuilder::end_title},
      {"dcterms_created", &FeedBuilder::end_created},
      {"dcterms_issued", &FeedBuilder::end_published},
      {"dcterms_modified", &FeedBuilder::end_updated},
      {"dcterms_valid", &FeedBuilder::end_dcterms_valid},
      {"dc_contributor", &FeedBuilder::end_dc_contributor},
      {"creativecommons_license", &FeedBuilder::end_creativecommons_license},
      {"creativeCommons_license", &FeedBuilder::end_creativecommons_license},
      {"itunes_author", &FeedBuilder::end_author},
      {"itunes_category", &FeedBuilder::end_category},
      {"itunes_name", &FeedBuilder::end_name},
      {"itunes_email", &FeedBuilder::end_email},
      {"itunes_subtitle", &FeedBuilder::end_subtitle},
      {"itunes_summary", &FeedBuilder::end_summary},
      {"itunes_owner", &FeedBuilder::end_itunes_owner},
      {"itunes_keywords", &FeedBuilder::end_itunes_keywords},
      {"itunes_block", &FeedBuilder::end_itunes_block},
      {"itunes_explicit", &FeedBuilder::end_itunes_explicit},
      {"media_category", &FeedBuilder::end_category},
      {"media_keywords", &FeedBuilder::end_media_keywords},
      {"media_title", &FeedBuilder::end_media_title},
      {"media_rating", &FeedBuilder::end_media_rating},
      {"media_credit", &FeedBuilder::end_media_credit},
      {"media_description", &FeedBuilder::end_description},
      {"media_restriction", &FeedBuilder::end_media_restriction},
      {"media_license", &FeedBuilder::end_media_license},
      {"media_thumbnail", &FeedBuilder::end_media_thumbnail},
      {"media_player", &FeedBuilder::end_media_player},
      {"georss_point", &FeedBuilder::end_georss_point},
      {"georss_line", &FeedBuilder::end_georss_line},
      {"georss_polygon", &FeedBuilder::end_georss_polygon},
      {"georss_box", &FeedBuilder::end_georss_box},
      {"where", &FeedBuilder::end_where},
      {"georss_where", &FeedBuilder::end_where},
      {"gml_pos", &FeedBuilder::end_gml_pos},
      {"gml_poslist", &FeedBuilder::end_gml_poslist},
      {"gml_point", &FeedBuilder::end_geom},
      {"gml_linestring", &FeedBuilder::end_geom},
      {"gml_linearring", &FeedBuilder::end_geom},
      {"gml_exterior", &FeedBuilder::end_geom},
      {"gml_polygon", &FeedBuilder::end_geom},
  };
  return kHandlers;
}

}  // namespace sentinel::intel::feedbuild
