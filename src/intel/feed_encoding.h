// Character encoding of a feed document: detected from the byte order mark,
// the XML declaration and the HTTP Content-Type (with RFC 3023's rules for
// which wins), with statistical detection (uchardet) and common fallbacks
// when the declared encoding does not decode; the document is converted to
// UTF-8 with iconv.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sentinel::intel {

/// Response headers, names lower-cased, in arrival order.
using FeedHeaders = std::vector<std::pair<std::string, std::string>>;

/// The value of header `lower_name`, or nullptr when absent.
const std::string* find_header(const FeedHeaders& headers, std::string_view lower_name);

struct DecodedFeed {
  /// The document in UTF-8, its XML declaration rewritten (or added) to say
  /// encoding='utf-8'. Empty when no encoding could decode it.
  std::string utf8;
  /// The encoding the document was read as, spelled as the declaration,
  /// header or detector gave it ("utf-8", "iso-8859-1", "Big5"); "" when unknown.
  std::string encoding;
  /// Why the document counts as ill-formed ("" when it does not): the
  /// declared encoding was wrong, the Content-Type is not XML, or nothing decoded it.
  std::string error;
};

/// Detects and converts `data`. `headers` are the HTTP response headers, or
/// empty for a local file (then the XML declaration decides, UTF-8 by default).
/// Thread-safe.
DecodedFeed convert_to_utf8(std::string_view data, const FeedHeaders& headers);

/// Decodes `data` from `encoding` to UTF-8 with iconv; false when the
/// encoding is unknown or the bytes are invalid in it.
bool decode_to_utf8(std::string_view data, const std::string& encoding, std::string& out);

}  // namespace sentinel::intel
