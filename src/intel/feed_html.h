// Markup handling for the feed parser (internal to src/intel/feed_*.cpp):
//
//  - SgmlParser, a forgiving tag scanner with the exact tokenisation rules of
//    Python's sgmllib as feedparser configures it. It drives the lenient feed
//    parser (ill-formed feeds) and the HTML post-processors below.
//  - resolve_relative_uris / sanitize_html: rewrite embedded HTML the way
//    feedparser does (relative links made absolute; scripts, event handlers,
//    unsafe URL schemes and CSS removed; attributes normalised and sorted).
//
// Hand-written rather than gumbo: an HTML5 tree builder restructures markup
// (adds <html>/<body>, moves misnested tags, reserialises SVG/MathML), while
// the corpus expectations pin feedparser's token-by-token rewriting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sentinel::intel::feedhtml {

using Attrs = std::vector<std::pair<std::string, std::string>>;

/// Code point of an HTML 4 named entity ("nbsp" -> 0xA0), nullopt when unknown.
std::optional<uint32_t> html_entity(std::string_view name);

/// Windows-1252 meaning of a C1 control code point (0x80-0x9F), else 0.
uint32_t cp1252_code_point(uint32_t cp);

/// Tag scanner. feed() preprocesses the text as feedparser does ("<x/>" to
/// "<x></x>", "&#39;"/"&#34;" to quotes, stray "<!" escaped) and reports every
/// token to the virtual handlers; unterminated constructs at the end become
/// text. Tag and attribute names are lower-cased; attribute values keep their
/// entity references. One instance parses one document.
class SgmlParser {
 public:
  virtual ~SgmlParser() = default;
  void feed(std::string_view data);

 protected:
  /// `xhtml`: "<tag ... />" also reports an end tag.
  explicit SgmlParser(bool xhtml) : xhtml_(xhtml) {}

  virtual void unknown_starttag(const std::string& tag, Attrs& attrs) = 0;
  virtual void unknown_endtag(const std::string& tag) = 0;
  virtual void handle_data(std::string_view text) = 0;
  virtual void handle_charref(const std::string& ref) = 0;
  virtual void handle_entityref(const std::string& ref) = 0;
  virtual void handle_comment(std::string_view) {}
  virtual void handle_pi(std::string_view) {}
  virtual void handle_decl(std::string_view) {}

  /// "<!..." at `i`; returns the index after it, or -1 when incomplete.
  virtual long parse_declaration(size_t i);
  /// "<!--" at `i`; returns the index after it, or -1 when unterminated.
  virtual long parse_comment(size_t i);

  const std::string& rawdata() const { return rawdata_; }

  /// Scans the declaration at `i` (reporting a DOCTYPE to handle_decl); the
  /// index after it, -1 when cut off by the end of the text, -2 when malformed.
  long scan_declaration(size_t i);

 private:
  void goahead();
  long parse_starttag(size_t i);
  long parse_endtag(size_t i);
  long parse_pi(size_t i);
  long scan_name(size_t i, std::string& name) const;

  bool xhtml_;
  std::string rawdata_;
  std::string lasttag_ = "???";
};

/// Rewrites each token back to markup (feedparser's _BaseHTMLProcessor).
class HtmlProcessor : public SgmlParser {
 public:
  explicit HtmlProcessor(std::string_view content_type)
      : SgmlParser(content_type == "application/xhtml+xml"), type_(content_type) {}
  const std::string& output() const { return out_; }

  /// Lower-cases names, keeps the last of duplicate names, lower-cases rel/type
  /// values, sorts by name.
  static Attrs normalize_attrs(const Attrs& attrs);

 protected:
  void unknown_starttag(const std::string& tag, Attrs& attrs) override;
  void unknown_endtag(const std::string& tag) override;
  void handle_data(std::string_view text) override { out_ += text; }
  void handle_charref(const std::string& ref) override;
  void handle_entityref(const std::string& ref) override;
  void handle_comment(std::string_view text) override;
  void handle_pi(std::string_view text) override;
  void handle_decl(std::string_view text) override;
  long parse_declaration(size_t i) override;

  void emit_starttag(const std::string& tag, const Attrs& attrs);
  void emit_endtag(const std::string& tag);

  std::string type_;
  std::string out_;
};

/// Makes the URL attributes of `html` (a href, img src, ...) absolute against
/// `base`; unsafe results keep the original value (the sanitizer drops them).
std::string resolve_relative_uris(std::string_view html, std::string_view base,
                                  std::string_view content_type);

/// Keeps only whitelisted elements, attributes, CSS and URL schemes; drops
/// script/style/applet content; keeps inline SVG and MathML.
std::string sanitize_html(std::string_view html, std::string_view content_type);

/// Heuristic for text declared as plain that is really HTML: it has an end tag
/// or entity reference, and every tag and entity is a known safe HTML one.
bool looks_like_html(std::string_view s);

}  // namespace sentinel::intel::feedhtml
