// Parse flow (as Python feedparser's parse()): detect the encoding and
// convert to UTF-8, strip the DOCTYPE (keeping only simple entity
// declarations), then parse strictly; if the document is not well-formed,
// mark it bozo and parse it again with the lenient scanner.
//
// The strict pass is pugixml plus the checks a namespace-aware XML parser
// makes and pugixml does not (undefined entities, bare '&', text outside the
// root element, several roots, misplaced XML declarations, undeclared
// prefixes, duplicate attributes, characters XML forbids).
#include "intel/feed_parser.h"

#include <algorithm>
#include <map>
#include <optional>
#include <pugixml.hpp>

#include "intel/feed_builder.h"
#include "intel/feed_dates.h"
#include "intel/feed_html.h"
#include "intel/feed_text.h"
#include "intel/feed_urls.h"

namespace sentinel::intel {

namespace {

using feedbuild::FeedBuilder;
using feedhtml::Attrs;
using feedtext::is_space;

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kXlinkNamespace = "http://www.w3.org/1999/xlink";
constexpr std::string_view kMathmlNamespace = "http://www.w3.org/1998/Math/MathML";
constexpr std::string_view kSvgNamespace = "http://www.w3.org/2000/svg";

// ---------------------------------------------------------------------------
// DOCTYPE handling

struct DoctypeResult {
  std::string version;  // "rss091n" for Netscape's RSS 0.91 DTD
  std::string data;
  std::map<std::string, std::string> entities;
};

// Matches "^\s*<!KEYWORD([^>]*?)>" (multi-line) in `head`: calls `on_match`
// with the match bounds and the text between the keyword and '>'.
template <typename F>
void for_each_declaration(const std::string& head, std::string_view keyword, F on_match) {
  size_t line_start = 0;
  while (line_start <= head.size()) {
    size_t k = line_start;
    while (k < head.size() && is_space(static_cast<unsigned char>(head[k]))) ++k;
    size_t next_line = head.find('\n', line_start);
    if (head.compare(k, keyword.size(), keyword) == 0) {
      size_t gt = head.find('>', k + keyword.size());
      if (gt != std::string::npos) {
        on_match(line_start, gt + 1, head.substr(k + keyword.size(), gt - k - keyword.size()));
        // The next candidate is the first line start after the match.
        next_line = head.find('\n', gt + 1);
      }
    }
    if (next_line == std::string::npos) break;
    line_start = next_line + 1;
  }
}

// "\s+(\w+)\s+"(&#\w+;|[^&"]*)"" at the start of an ENTITY declaration.
bool safe_entity(std::string_view decl, std::string* name, std::string* value) {
  size_t i = 0;
  size_t start = i;
  while (i < decl.size() && is_space(static_cast<unsigned char>(decl[i]))) ++i;
  if (i == start) return false;
  size_t name_start = i;
  while (i < decl.size() && feedtext::is_word_byte(static_cast<unsigned char>(decl[i])) &&
         static_cast<unsigned char>(decl[i]) < 0x80) {
    ++i;
  }
  if (i == name_start) return false;
  size_t name_end = i;
  size_t ws = i;
  while (i < decl.size() && is_space(static_cast<unsigned char>(decl[i]))) ++i;
  if (i == ws || i >= decl.size() || decl[i] != '"') return false;
  ++i;
  size_t close = decl.find('"', i);
  if (close == std::string_view::npos) return false;
  std::string_view v = decl.substr(i, close - i);
  bool ok = v.find('&') == std::string_view::npos;
  if (!ok && feedtext::starts_with(v, "&#") && feedtext::ends_with(v, ";") && v.size() > 3) {
    ok = std::all_of(v.begin() + 2, v.end() - 1,
                     [](char c) { return feedtext::is_word_byte(static_cast<unsigned char>(c)); });
  }
  if (!ok) return false;
  if (name != nullptr) *name = std::string(decl.substr(name_start, name_end - name_start));
  if (value != nullptr) *value = std::string(v);
  return true;
}

// feedparser's replace_doctype: entity declarations are removed from the
// prolog; a single DOCTYPE is replaced by one declaring only the simple
// entities (no nested references, so no entity expansion attacks).
DoctypeResult replace_doctype(const std::string& text) {
  DoctypeResult result;
  size_t start = std::string::npos;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == '<' && static_cast<unsigned char>(text[i + 1]) < 0x80 &&
        feedtext::is_word_byte(static_cast<unsigned char>(text[i + 1]))) {
      start = i;
      break;
    }
  }
  // Python's "start and start.start() or -1": a document starting with its
  // root element has an empty prolog.
  size_t split = (start == std::string::npos || start == 0) ? 0 : start + 1;
  std::string head = text.substr(0, split);
  std::string rest = text.substr(split);

  std::vector<std::string> entity_decls;
  {
    std::string stripped;
    size_t copied = 0;
    for_each_declaration(head, "<!ENTITY", [&](size_t b, size_t e, std::string_view inner) {
      entity_decls.emplace_back(inner);
      stripped += head.substr(copied, b - copied);
      copied = e;
    });
    stripped += head.substr(copied);
    head = std::move(stripped);
  }
  std::vector<std::pair<size_t, size_t>> doctype_spans;
  std::string doctype;
  for_each_declaration(head, "<!DOCTYPE", [&](size_t b, size_t e, std::string_view inner) {
    if (doctype_spans.empty()) doctype = std::string(inner);
    doctype_spans.emplace_back(b, e);
  });
  if (feedtext::lower(doctype).find("netscape") != std::string::npos) result.version = "rss091n";

  std::string replacement;
  if (doctype_spans.size() == 1 && !entity_decls.empty()) {
    std::vector<std::string> safe;
    for (const auto& decl : entity_decls) {
      std::string name, value;
      if (safe_entity(decl, &name, &value)) {
        safe.push_back(decl);
        result.entities[name] = value;
      }
    }
    if (!safe.empty()) {
      replacement = "<!DOCTYPE feed [\n<!ENTITY";
      for (size_t i = 0; i < safe.size(); ++i) {
        if (i > 0) replacement += ">\n<!ENTITY ";
        replacement += safe[i];
      }
      replacement += ">\n]>";
    }
  }
  std::string new_head;
  size_t copied = 0;
  for (const auto& [b, e] : doctype_spans) {
    new_head += head.substr(copied, b - copied);
    new_head += replacement;
    copied = e;
  }
  new_head += head.substr(copied);
  result.data = new_head + rest;
  return result;
}

// ---------------------------------------------------------------------------
// Strict pass

std::string position_message(const std::string& text, size_t offset, std::string_view message) {
  size_t line = 1, column = 0;
  for (size_t i = 0; i < std::min(offset, text.size()); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 0;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
         std::string(message);
}

bool is_xml_char(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

bool is_name_start(unsigned char c) {
  return feedtext::is_ascii_alpha(c) || c == '_' || c == ':' || c >= 0x80;
}
bool is_name_char(unsigned char c) {
  return is_name_start(c) || feedtext::is_ascii_digit(c) || c == '-' || c == '.';
}

// Checks what pugixml does not and expands the DOCTYPE's simple entities.
// Returns the text to hand to pugixml, or an error message.
class XmlPrecheck {
 public:
  XmlPrecheck(const std::string& text, const std::map<std::string, std::string>& entities)
      : s_(text), entities_(entities) {}

  std::optional<std::string> run(std::string& out) {
    out.clear();
    out.reserve(s_.size());
    size_t i = 0;
    const size_t n = s_.size();
    while (i < n) {
      char c = s_[i];
      if (c == '<') {
        auto r = markup(i, out);
        if (!r) return error_;
        i = *r;
        continue;
      }
      if (c == '&') {
        auto r = reference(i, out, false);
        if (!r) return error_;
        if (depth_ == 0)
          return fail(i, roots_ == 0 ? "syntax error" : "junk after document element");
        i = *r;
        continue;
      }
      if (depth_ == 0 && !is_space(static_cast<unsigned char>(c))) {
        return fail(i, roots_ == 0 ? "syntax error" : "junk after document element");
      }
      if (!check_char(i)) return error_;
      out.push_back(c);
      ++i;
    }
    if (roots_ == 0) return fail(n, "no element found");
    return std::nullopt;
  }

 private:
  std::optional<std::string> fail(size_t offset, std::string_view message) {
    error_ = position_message(s_, offset, message);
    return error_;
  }

  std::nullopt_t failed(size_t offset, std::string_view message) {
    fail(offset, message);
    return std::nullopt;
  }

  // Characters XML 1.0 forbids (control characters, U+FFFE, U+FFFF).
  bool check_char(size_t i) {
    auto c = static_cast<unsigned char>(s_[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      fail(i, "not well-formed (invalid token)");
      return false;
    }
    if (c == 0xEF && i + 2 < s_.size() && static_cast<unsigned char>(s_[i + 1]) == 0xBF &&
        (static_cast<unsigned char>(s_[i + 2]) == 0xBE ||
         static_cast<unsigned char>(s_[i + 2]) == 0xBF)) {
      fail(i, "not well-formed (invalid token)");
      return false;
    }
    return true;
  }

  // A reference at s_[i] == '&': validated, copied, or (declared entity) expanded.
  std::optional<size_t> reference(size_t i, std::string& out, bool in_attribute) {
    const size_t n = s_.size();
    size_t k = i + 1;
    if (k < n && s_[k] == '#') {
      ++k;
      bool hex = k < n && s_[k] == 'x';
      if (hex) ++k;
      size_t start = k;
      while (k < n && (hex ? feedtext::is_hex_digit(static_cast<unsigned char>(s_[k]))
                           : feedtext::is_ascii_digit(static_cast<unsigned char>(s_[k])))) {
        ++k;
      }
      if (k == start || k >= n || s_[k] != ';' || k - start > 8) {
        fail(i, "not well-formed (invalid token)");
        return std::nullopt;
      }
      uint32_t cp =
          static_cast<uint32_t>(std::stoul(s_.substr(start, k - start), nullptr, hex ? 16 : 10));
      if (!is_xml_char(cp)) {
        fail(i, "reference to invalid character number");
        return std::nullopt;
      }
      out.append(s_, i, k + 1 - i);
      return k + 1;
    }
    if (k >= n || !is_name_start(static_cast<unsigned char>(s_[k]))) {
      fail(i, "not well-formed (invalid token)");
      return std::nullopt;
    }
    size_t start = k;
    while (k < n && is_name_char(static_cast<unsigned char>(s_[k]))) ++k;
    if (k >= n || s_[k] != ';') {
      fail(i, "not well-formed (invalid token)");
      return std::nullopt;
    }
    std::string name = s_.substr(start, k - start);
    if (name == "lt" || name == "gt" || name == "amp" || name == "quot" || name == "apos") {
      out.append(s_, i, k + 1 - i);
    } else if (auto it = entities_.find(name); it != entities_.end()) {
      const std::string& value = it->second;
      if (feedtext::starts_with(value, "&#")) {
        out += value;
      } else {
        out += in_attribute ? feedtext::xml_escape(value, true) : feedtext::xml_escape(value);
      }
    } else {
      fail(i, "undefined entity &" + name + ";");
      return std::nullopt;
    }
    return k + 1;
  }

  std::optional<size_t> copy_until(size_t i, std::string_view terminator, std::string& out,
                                   std::string_view what) {
    size_t end = s_.find(terminator, i);
    if (end == std::string::npos) {
      fail(i, "unclosed " + std::string(what));
      return std::nullopt;
    }
    for (size_t k = i; k < end; ++k) {
      if (!check_char(k)) return std::nullopt;
    }
    end += terminator.size();
    out.append(s_, i, end - i);
    return end;
  }

  std::optional<size_t> markup(size_t i, std::string& out) {
    const size_t n = s_.size();
    std::string_view rest = std::string_view(s_).substr(i);
    if (feedtext::starts_with(rest, "<!--")) return copy_until(i, "-->", out, "comment");
    if (feedtext::starts_with(rest, "<![CDATA[")) {
      if (depth_ == 0) return failed(i, "syntax error");
      return copy_until(i, "]]>", out, "CDATA section");
    }
    if (feedtext::starts_with(rest, "<?")) {
      size_t k = i + 2;
      while (k < n && is_name_char(static_cast<unsigned char>(s_[k]))) ++k;
      if (feedtext::iequals(std::string_view(s_).substr(i + 2, k - i - 2), "xml") && i != 0) {
        return failed(i, "XML or text declaration not at start of entity");
      }
      return copy_until(i, "?>", out, "processing instruction");
    }
    if (feedtext::starts_with(rest, "<!DOCTYPE")) {
      if (roots_ > 0 || depth_ > 0) return failed(i, "syntax error");
      // Up to the '>' outside quotes and the internal subset.
      size_t k = i + 9;
      int bracket = 0;
      char quote = 0;
      for (; k < n; ++k) {
        char c = s_[k];
        if (quote != 0) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '[') {
          ++bracket;
        } else if (c == ']') {
          --bracket;
        } else if (c == '>' && bracket <= 0) {
          break;
        }
      }
      if (k >= n) return failed(i, "unclosed DOCTYPE");
      out.append(s_, i, k + 1 - i);
      return k + 1;
    }
    if (feedtext::starts_with(rest, "<!")) return failed(i, "syntax error");
    if (feedtext::starts_with(rest, "</")) {
      size_t gt = s_.find('>', i);
      if (gt == std::string::npos) return failed(i, "unclosed token");
      if (--depth_ < 0) return failed(i, "mismatched tag");
      out.append(s_, i, gt + 1 - i);
      return gt + 1;
    }
    // Start tag: up to '>' outside attribute values.
    if (depth_ == 0 && ++roots_ > 1) return failed(i, "junk after document element");
    size_t k = i + 1;
    char quote = 0;
    while (k < n) {
      char c = s_[k];
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else if (c == '<') {
          return failed(k, "not well-formed (invalid token)");
        } else if (c == '&') {
          out.append(s_, i, k - i);
          auto r = reference(k, out, true);
          if (!r) return std::nullopt;
          i = *r;
          k = *r;
          continue;
        } else if (!check_char(k)) {
          return std::nullopt;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      } else if (c == '<') {
        return failed(k, "not well-formed (invalid token)");
      }
      ++k;
    }
    if (k >= n) return failed(i, "unclosed token");
    bool empty_element = s_[k - 1] == '/';
    out.append(s_, i, k + 1 - i);
    if (!empty_element) ++depth_;
    return k + 1;
  }

  const std::string& s_;
  const std::map<std::string, std::string>& entities_;
  std::string error_;
  int depth_ = 0;
  int roots_ = 0;
};

// Walks pugixml's tree and reports it to the builder the way a namespace-aware
// SAX parser (expat without qualified names) reports to feedparser.
class StrictWalker {
 public:
  explicit StrictWalker(FeedBuilder& builder) : b_(builder) {}

  std::optional<std::string> walk(const pugi::xml_node& root) {
    struct Frame {
      pugi::xml_node node;
      pugi::xml_node next_child;
      std::string tag;
      size_t scope_size;
    };
    std::vector<Frame> stack;
    auto start = [&](const pugi::xml_node& node) -> std::optional<std::string> {
      size_t scope_size = scopes_.size();
      std::string tag;
      if (auto err = start_element(node, tag)) return err;
      stack.push_back(Frame{node, node.first_child(), std::move(tag), scope_size});
      return std::nullopt;
    };
    if (auto err = start(root)) return err;
    while (!stack.empty()) {
      Frame& top = stack.back();
      pugi::xml_node child = top.next_child;
      if (!child) {
        b_.unknown_endtag(top.tag);
        scopes_.resize(top.scope_size);
        stack.pop_back();
        continue;
      }
      top.next_child = child.next_sibling();
      switch (child.type()) {
        case pugi::node_element:
          if (auto err = start(child)) return err;
          break;
        case pugi::node_pcdata:
        case pugi::node_cdata:
          b_.handle_data(child.value());
          break;
        default:
          break;
      }
    }
    return std::nullopt;
  }

 private:
  std::optional<std::string> resolve(std::string_view prefix, std::string& uri) const {
    if (prefix == "xml") {
      uri = kXmlNamespace;
      return std::nullopt;
    }
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      if (it->first == prefix) {
        uri = it->second;
        if (!prefix.empty() && uri.empty()) break;
        return std::nullopt;
      }
    }
    if (prefix.empty()) {
      uri.clear();
      return std::nullopt;
    }
    return "unbound prefix \"" + std::string(prefix) + "\"";
  }

  // The standard prefix of a namespace (lower-cased lookup), nullopt if unknown.
  static std::optional<std::string> known_prefix(std::string_view uri) {
    std::string lower = feedtext::lower(uri);
    if (const std::string* p = feedbuild::standard_prefix(lower)) return *p;
    return std::nullopt;
  }

  std::optional<std::string> start_element(const pugi::xml_node& node, std::string& tag) {
    // Namespace declarations first (SAX's startPrefixMapping).
    Attrs decls;
    for (const auto& a : node.attributes()) {
      std::string_view name = a.name();
      std::string value = a.value();
      if (name == "xmlns") {
        scopes_.emplace_back("", value);
        if (!value.empty()) b_.track_namespace(std::nullopt, value);
      } else if (feedtext::starts_with(name, "xmlns:")) {
        std::string prefix(name.substr(6));
        scopes_.emplace_back(prefix, value);
        if (!value.empty()) {
          b_.track_namespace(prefix, value);
          if (value == kXlinkNamespace) decls.emplace_back("xmlns:" + prefix, value);
        }
      }
    }
    std::string_view qname = node.name();
    std::string prefix, local;
    size_t colon = qname.find(':');
    if (colon != std::string_view::npos) {
      prefix = std::string(qname.substr(0, colon));
      local = std::string(qname.substr(colon + 1));
    } else {
      local = std::string(qname);
    }
    std::string ns;
    if (auto err = resolve(prefix, ns)) return err;
    std::string lower_ns = feedtext::lower(ns);
    if (lower_ns.find("backend.userland.com/rss") != std::string::npos) {
      ns = "http://backend.userland.com/rss";
      lower_ns = ns;
    }
    local = feedtext::lower(local);
    Attrs attrs = std::move(decls);
    if ((local == "math" && ns == kMathmlNamespace) || (local == "svg" && ns == kSvgNamespace)) {
      attrs.emplace_back("xmlns", ns);
    }
    std::optional<std::string> std_prefix = known_prefix(lower_ns);
    if (std_prefix && !std_prefix->empty()) {
      local = feedtext::lower(*std_prefix) + ":" + local;
    } else if (!std_prefix && !ns.empty()) {
      // Unknown namespace: the prefix the document declared for it, if any.
      for (const auto& [k, v] : b_.namespaces_in_use().as_dict()) {
        if (!k.empty() && v.is_string() && v.as_string() == ns) {
          local = k + ":" + local;
          break;
        }
      }
    }
    // Attributes, named by the standard prefix of their namespace.
    std::vector<std::string> seen;
    for (const auto& a : node.attributes()) {
      std::string_view name = a.name();
      if (name == "xmlns" || feedtext::starts_with(name, "xmlns:")) continue;
      if (std::find(seen.begin(), seen.end(), name) != seen.end())
        return "duplicate attribute \"" + std::string(name) + "\"";
      seen.emplace_back(name);
      std::string attr_name(name);
      size_t c = name.find(':');
      if (c != std::string_view::npos) {
        std::string attr_ns;
        if (auto err = resolve(name.substr(0, c), attr_ns)) return err;
        attr_name = std::string(name.substr(c + 1));
        auto p = known_prefix(attr_ns);
        if (p && !p->empty()) attr_name = *p + ":" + attr_name;
      }
      std::string key = feedtext::lower(attr_name);
      auto existing =
          std::find_if(attrs.begin(), attrs.end(), [&](const auto& kv) { return kv.first == key; });
      if (existing != attrs.end()) {
        existing->second = a.value();
      } else {
        attrs.emplace_back(std::move(key), a.value());
      }
    }
    tag = feedtext::lower(local);
    b_.unknown_starttag(tag, std::move(attrs));
    return std::nullopt;
  }

  FeedBuilder& b_;
  std::vector<std::pair<std::string, std::string>> scopes_;  // (prefix, uri), innermost last
};

std::optional<std::string> parse_strict(const std::string& text,
                                        const std::map<std::string, std::string>& entities,
                                        FeedBuilder& builder) {
  std::string prepared;
  XmlPrecheck precheck(text, entities);
  if (auto err = precheck.run(prepared)) return err;
  pugi::xml_document doc;
  pugi::xml_parse_result r =
      doc.load_buffer(prepared.data(), prepared.size(), pugi::parse_default | pugi::parse_ws_pcdata,
                      pugi::encoding_utf8);
  if (!r) return position_message(prepared, static_cast<size_t>(r.offset), r.description());
  pugi::xml_node root = doc.document_element();
  if (!root) return std::string("no element found");
  StrictWalker walker(builder);
  return walker.walk(root);
}

// ---------------------------------------------------------------------------
// Lenient pass

class LooseDriver : public feedhtml::SgmlParser {
 public:
  explicit LooseDriver(FeedBuilder& builder) : SgmlParser(true), b_(builder) {}

 protected:
  void unknown_starttag(const std::string& tag, Attrs& attrs) override {
    b_.unknown_starttag(tag, attrs);
  }
  void unknown_endtag(const std::string& tag) override { b_.unknown_endtag(tag); }
  void handle_data(std::string_view text) override { b_.handle_data(text, true); }
  void handle_charref(const std::string& ref) override { b_.handle_charref(ref); }
  void handle_entityref(const std::string& ref) override { b_.handle_entityref(ref); }

  long parse_declaration(size_t i) override {
    const std::string& raw = rawdata();
    if (raw.compare(i, 9, "<![CDATA[") == 0) {
      size_t k = raw.find("]]>", i);
      if (k == std::string::npos) return static_cast<long>(raw.size());  // unterminated: dropped
      b_.handle_data(feedtext::xml_escape(std::string_view(raw).substr(i + 9, k - i - 9)), false);
      return static_cast<long>(k + 3);
    }
    size_t k = raw.find('>', i);
    return k == std::string::npos ? -1 : static_cast<long>(k + 1);
  }

 private:
  FeedBuilder& b_;
};

// Lossy UTF-8 (invalid bytes become U+FFFD), for text no encoding could decode.
std::string lossy_utf8(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) feedtext::append_utf8(out, feedtext::next_code_point(s, i));
  return out;
}

}  // namespace

ParsedFeed parse_feed(std::string_view document, const FeedParseOptions& options) {
  ParsedFeed result;
  result.headers = options.headers;
  result.href = options.href;
  if (document.empty()) return result;

  DecodedFeed decoded = convert_to_utf8(document, options.headers);
  bool use_strict = !decoded.encoding.empty();
  result.encoding = decoded.encoding;
  if (!decoded.error.empty()) {
    result.bozo = true;
    result.bozo_exception = decoded.error;
  }
  if (decoded.utf8.empty()) decoded.utf8 = lossy_utf8(document);

  DoctypeResult doctype = replace_doctype(decoded.utf8);

  // Relative links resolve against Content-Location (made absolute against
  // the document URL), else the document URL.
  const std::string* content_location = find_header(options.headers, "content-location");
  std::string contentloc = content_location ? *content_location : std::string();
  std::string baseuri = make_safe_absolute_uri(options.href, contentloc);
  if (baseuri.empty()) baseuri = make_safe_absolute_uri(contentloc);
  if (baseuri.empty()) baseuri = options.href;
  const std::string* language = find_header(options.headers, "content-language");
  std::optional<std::string> baselang =
      language ? std::optional<std::string>(*language) : std::nullopt;

  std::optional<FeedBuilder> builder;
  if (use_strict) {
    builder.emplace(baseuri, baselang, false, std::map<std::string, std::string>{},
                    options.resolve_relative_uris, options.sanitize_html);
    if (auto err = parse_strict(doctype.data, doctype.entities, *builder)) {
      result.bozo = true;
      result.bozo_exception = *err;
      use_strict = false;
    }
  }
  if (!use_strict) {
    builder.emplace(baseuri, baselang, true, doctype.entities, options.resolve_relative_uris,
                    options.sanitize_html);
    LooseDriver driver(*builder);
    driver.feed(doctype.data);
  }
  result.feed = std::move(builder->feed());
  result.entries = std::move(builder->entries());
  result.namespaces = std::move(builder->namespaces_in_use());
  result.version = !doctype.version.empty() ? doctype.version : builder->version();
  return result;
}

// ---------------------------------------------------------------------------
// Plain text and articles

namespace {

class TextExtractor : public feedhtml::SgmlParser {
 public:
  TextExtractor() : SgmlParser(false) {}
  std::string text() const {
    // Collapse runs of spaces; keep single line breaks between blocks.
    std::string out;
    bool space = false, newline = false;
    for (char c : raw_) {
      if (c == '\n') {
        newline = true;
      } else if (is_space(static_cast<unsigned char>(c))) {
        space = true;
      } else {
        if (!out.empty()) {
          if (newline) {
            out += '\n';
          } else if (space) {
            out += ' ';
          }
        }
        space = newline = false;
        out += c;
      }
    }
    return out;
  }

 protected:
  void unknown_starttag(const std::string& tag, Attrs&) override {
    if (tag == "script" || tag == "style") ++skip_;
    if (is_block(tag)) raw_ += '\n';
  }
  void unknown_endtag(const std::string& tag) override {
    if ((tag == "script" || tag == "style") && skip_ > 0) --skip_;
    if (is_block(tag)) raw_ += '\n';
  }
  void handle_data(std::string_view text) override {
    if (skip_ == 0) raw_ += text;
  }
  void handle_charref(const std::string& ref) override {
    if (skip_ > 0) return;
    std::string r = feedtext::lower(ref);
    unsigned long cp = r[0] == 'x' ? std::strtoul(r.c_str() + 1, nullptr, 16)
                                   : std::strtoul(r.c_str(), nullptr, 10);
    if (uint32_t mapped =
            feedhtml::cp1252_code_point(static_cast<uint32_t>(std::min(cp, 0x10FFFFul))))
      cp = mapped;
    feedtext::append_utf8(raw_, cp > 0x10FFFF ? 0xFFFD : static_cast<uint32_t>(cp));
  }
  void handle_entityref(const std::string& ref) override {
    if (skip_ > 0) return;
    if (ref == "apos") {
      raw_ += '\'';
    } else if (auto cp = feedhtml::html_entity(ref)) {
      feedtext::append_utf8(raw_, *cp);
    } else {
      raw_ += "&" + ref;
    }
  }

 private:
  static bool is_block(std::string_view tag) {
    static constexpr std::string_view kBlocks[] = {
        "p",       "div",     "br",     "li",     "ul", "ol",    "h1",         "h2",
        "h3",      "h4",      "h5",     "h6",     "tr", "table", "blockquote", "pre",
        "section", "article", "header", "footer", "hr", "dd",    "dt",         "figcaption"};
    return std::find(std::begin(kBlocks), std::end(kBlocks), tag) != std::end(kBlocks);
  }
  std::string raw_;
  int skip_ = 0;
};

bool is_html_detail(const FeedValue* detail) {
  if (detail == nullptr) return false;
  std::string type = detail->get_string("type");
  return type == "text/html" || type == "application/xhtml+xml";
}

std::string detail_text(const std::string& value, const FeedValue* detail) {
  return is_html_detail(detail) ? html_to_text(value) : std::string(feedtext::strip(value));
}

int64_t parsed_ms(const FeedValue& entry) {
  for (std::string_view key : {"published_parsed", "updated_parsed", "created_parsed"}) {
    const FeedValue* t = entry.find(key);
    if (t == nullptr || !t->is_list() || t->as_list().size() != 9) continue;
    FeedTime ft{};
    for (size_t i = 0; i < 9; ++i) ft[i] = static_cast<int>(t->as_list()[i].as_int());
    return feed_time_to_unix(ft) * 1000;
  }
  return 0;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  TextExtractor t;
  t.feed(html);
  return t.text();
}

std::vector<Article> feed_articles(const ParsedFeed& feed, std::string_view feed_name) {
  std::vector<Article> out;
  std::string feed_language = feed.feed.get_string("language");
  for (const auto& entry : feed.entries) {
    Article a;
    a.feed = std::string(feed_name);
    a.url = entry.get_string("link");
    if (a.url.empty() && entry.find("guidislink") != nullptr &&
        entry.find("guidislink")->truthy()) {
      a.url = entry.get_string("id");
    }
    a.title = detail_text(entry.get_string("title"), entry.find("title_detail"));
    std::string best;
    auto consider = [&](const std::string& candidate) {
      if (candidate.size() > best.size()) best = candidate;
    };
    if (const FeedValue* content = entry.find("content");
        content != nullptr && content->is_list()) {
      for (const auto& c : content->as_list()) consider(detail_text(c.get_string("value"), &c));
    }
    consider(detail_text(entry.get_string("summary"), entry.find("summary_detail")));
    a.text = std::move(best);
    a.published_ms = parsed_ms(entry);
    a.language = entry.get_string("language");
    for (std::string_view key : {"content", "summary_detail", "title_detail"}) {
      if (!a.language.empty()) break;
      const FeedValue* d = entry.find(key);
      if (d != nullptr && d->is_list() && !d->as_list().empty()) d = &d->as_list().front();
      if (d != nullptr) a.language = d->get_string("language");
    }
    if (a.language.empty()) a.language = feed_language;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace sentinel::intel
