// FeedBuilder: turns a stream of markup events (start tag, end tag, text,
// references) into the feed/entries tree (internal to src/intel/feed_*.cpp).
// It is the format knowledge of the parser: RSS 0.9x/1.0/2.0, Atom 0.3/1.0,
// RDF, CDF and the common extensions (Dublin Core, iTunes, Media RSS,
// GeoRSS, Creative Commons, admin, content:encoded, xhtml:body), with the
// element-to-key mapping of Python's feedparser (its _FeedParserMixin and
// namespace handlers), so the result has feedparser's shape.
//
// Two drivers feed it: the strict XML walk (pugixml) and the lenient tag
// scanner (feedhtml::SgmlParser) for documents that are not well-formed. One
// builder handles one document; not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "intel/feed_html.h"
#include "intel/feed_value.h"

namespace sentinel::intel::feedbuild {

/// Standard prefix ("" for the core feed formats, "dc", "itunes", ...) for a
/// namespace URI (lower-cased), or nullptr when the namespace is not known.
const std::string* standard_prefix(std::string_view lower_uri);

class FeedBuilder {
 public:
  /// `baseuri`: URL relative links resolve against; `baselang`: the
  /// Content-Language; `loose`: events come from the lenient scanner (text
  /// keeps its entity references); `entities`: entities the DOCTYPE declared.
  FeedBuilder(std::string baseuri, std::optional<std::string> baselang, bool loose,
              std::map<std::string, std::string> entities, bool resolve_relative_uris,
              bool sanitize_html);

  void unknown_starttag(const std::string& tag, feedhtml::Attrs attrs);
  void unknown_endtag(const std::string& tag);
  /// Text; `escape` XML-escapes it when the current content is inline XHTML.
  void handle_data(std::string_view text, bool escape = true);
  void handle_charref(const std::string& ref);
  void handle_entityref(const std::string& ref);
  /// A namespace declaration (`prefix` nullopt for the default namespace).
  void track_namespace(const std::optional<std::string>& prefix, const std::string& uri);

  FeedValue& feed() { return feeddata_; }
  FeedValue::List& entries() { return entries_; }
  FeedValue& namespaces_in_use() { return namespaces_in_use_; }
  const std::string& version() const { return version_; }

 private:
  struct Element {
    std::string name;
    bool expecting_text = false;
    std::vector<std::string> pieces;
  };
  using StartHandler = void (FeedBuilder::*)(feedhtml::Attrs&);
  using EndHandler = void (FeedBuilder::*)();

  static const std::unordered_map<std::string, StartHandler>& start_handlers();
  static const std::unordered_map<std::string, EndHandler>& end_handlers();

  // Core machinery (feedparser's mixin).
  FeedValue& context();
  void push(std::string element, bool expecting_text);
  std::optional<std::string> pop(const std::string& element, bool strip_whitespace = true);
  void push_content(const std::string& tag, feedhtml::Attrs& attrs, const std::string& default_type,
                    bool expecting_text);
  std::optional<std::string> pop_content(const std::string& tag);
  std::string resolve_uri(const std::string& uri) const;
  std::string decode_entities(std::string data) const;
  std::string content_type_or(std::string_view fallback) const;
  void save(const std::string& key, FeedValue value, bool overwrite = false);
  void save_author(const std::string& key, const std::string& value,
                   const std::string& prefix = "author");
  void save_contributor(const std::string& key, const std::string& value);
  void sync_author_detail(const std::string& key = "author");
  void add_tag(const FeedValue& term, const FeedValue& scheme, const FeedValue& label);
  void save_where(const FeedValue& geometry);
  void gml_pos(bool list);
  static const std::string* attr(const feedhtml::Attrs& attrs, std::string_view name);
  std::optional<std::string> attribute(const feedhtml::Attrs& attrs, std::string_view name) const;
  static void enforce_href(feedhtml::Attrs& attrs);
  static FeedValue attrs_dict(const feedhtml::Attrs& attrs);

  // Element handlers.
  void start_rss(feedhtml::Attrs& a);
  void start_channel(feedhtml::Attrs& a);
  void cdf_common(feedhtml::Attrs& a);
  void start_feed(feedhtml::Attrs& a);
  void end_channel();
  void start_image(feedhtml::Attrs& a);
  void end_image();
  void start_textinput(feedhtml::Attrs& a);
  void end_textinput();
  void start_author(feedhtml::Attrs& a);
  void end_author();
  void start_contributor(feedhtml::Attrs& a);
  void end_contributor();
  void start_name(feedhtml::Attrs& a);
  void end_name();
  void start_width(feedhtml::Attrs& a);
  void end_width();
  void start_height(feedhtml::Attrs& a);
  void end_height();
  void start_url(feedhtml::Attrs& a);
  void end_url();
  void start_email(feedhtml::Attrs& a);
  void end_email();
  void start_subtitle(feedhtml::Attrs& a);
  void end_subtitle();
  void start_rights(feedhtml::Attrs& a);
  void end_rights();
  void start_item(feedhtml::Attrs& a);
  void end_item();
  void start_language(feedhtml::Attrs& a);
  void end_language();
  void start_webmaster(feedhtml::Attrs& a);
  void end_webmaster();
  void start_published(feedhtml::Attrs& a);
  void end_published();
  void start_updated(feedhtml::Attrs& a);
  void end_updated();
  void start_created(feedhtml::Attrs& a);
  void end_created();
  void start_expirationdate(feedhtml::Attrs& a);
  void end_expirationdate();
  void start_category(feedhtml::Attrs& a);
  void end_category();
  void start_cloud(feedhtml::Attrs& a);
  void start_link(feedhtml::Attrs& a);
  void end_link();
  void start_guid(feedhtml::Attrs& a);
  void end_guid();
  void start_title(feedhtml::Attrs& a);
  void end_title();
  void start_description(feedhtml::Attrs& a);
  void start_abstract(feedhtml::Attrs& a);
  void end_description();
  void start_info(feedhtml::Attrs& a);
  void end_info();
  void start_generator(feedhtml::Attrs& a);
  void end_generator();
  void start_summary(feedhtml::Attrs& a);
  void end_summary();
  void start_enclosure(feedhtml::Attrs& a);
  void start_source(feedhtml::Attrs& a);
  void end_source();
  void start_content(feedhtml::Attrs& a);
  void start_body(feedhtml::Attrs& a);
  void start_content_encoded(feedhtml::Attrs& a);
  void end_content();
  void start_newlocation(feedhtml::Attrs& a);
  void end_newlocation();
  void start_tags(feedhtml::Attrs& a);
  void end_tags();
  // Dublin Core
  void start_dcterms_valid(feedhtml::Attrs& a);
  void end_dcterms_valid();
  void start_dc_contributor(feedhtml::Attrs& a);
  void end_dc_contributor();
  // Creative Commons
  void start_cc_license(feedhtml::Attrs& a);
  void start_creativecommons_license(feedhtml::Attrs& a);
  void end_creativecommons_license();
  // iTunes
  void start_itunes_owner(feedhtml::Attrs& a);
  void end_itunes_owner();
  void end_itunes_keywords();
  void start_itunes_category(feedhtml::Attrs& a);
  void start_itunes_image(feedhtml::Attrs& a);
  void end_itunes_block();
  void end_itunes_explicit();
  // Media RSS
  void start_media_category(feedhtml::Attrs& a);
  void end_media_keywords();
  void end_media_title();
  void start_media_group(feedhtml::Attrs& a);
  void start_media_rating(feedhtml::Attrs& a);
  void end_media_rating();
  void start_media_credit(feedhtml::Attrs& a);
  void end_media_credit();
  void start_media_restriction(feedhtml::Attrs& a);
  void end_media_restriction();
  void start_media_license(feedhtml::Attrs& a);
  void end_media_license();
  void start_media_content(feedhtml::Attrs& a);
  void start_media_thumbnail(feedhtml::Attrs& a);
  void end_media_thumbnail();
  void start_media_player(feedhtml::Attrs& a);
  void end_media_player();
  // GeoRSS / GML
  void start_georss_geom(feedhtml::Attrs& a);
  void end_georss_point();
  void end_georss_line();
  void end_georss_polygon();
  void end_georss_box();
  void start_where(feedhtml::Attrs& a);
  void end_where();
  void parse_srs_attrs(feedhtml::Attrs& a);
  void start_gml_point(feedhtml::Attrs& a);
  void start_gml_linestring(feedhtml::Attrs& a);
  void start_gml_polygon(feedhtml::Attrs& a);
  void start_gml_exterior(feedhtml::Attrs& a);
  void start_gml_linearring(feedhtml::Attrs& a);
  void start_gml_pos(feedhtml::Attrs& a);
  void end_gml_pos();
  void end_gml_poslist();
  void end_geom();
  // admin
  void start_admin_generatoragent(feedhtml::Attrs& a);
  void start_admin_errorreportsto(feedhtml::Attrs& a);

  bool loose_;
  bool resolve_relative_uris_;
  bool sanitize_html_;
  std::map<std::string, std::string> entities_;

  FeedValue feeddata_ = FeedValue::dict();
  FeedValue::List entries_;
  FeedValue namespaces_in_use_ = FeedValue::dict();
  std::map<std::string, std::string> namespacemap_;  // declared prefix -> standard prefix
  std::string version_;

  std::string baseuri_;
  std::optional<std::string> lang_;
  std::vector<std::string> basestack_;
  std::vector<std::optional<std::string>> langstack_;
  std::vector<Element> elementstack_;

  int infeed_ = 0, inentry_ = 0, incontent_ = 0, intextinput_ = 0, inimage_ = 0;
  int inauthor_ = 0, incontributor_ = 0, inpublisher_ = 0, insource_ = 0;
  int svg_ok_ = 0;
  int title_depth_ = -1;
  int depth_ = 0;
  bool has_content_ = false;
  bool guidislink_ = false;
  bool isentrylink_ = false;
  std::string ingeometry_;  // "", "point", "linestring", "polygon"
  std::optional<std::string> summary_key_;
  FeedValue sourcedata_ = FeedValue::dict();
  FeedValue contentparams_ = FeedValue::dict();
  std::map<size_t, std::map<std::string, int>> property_depth_;  // entry index -> key -> depth
};

}  // namespace sentinel::intel::feedbuild
