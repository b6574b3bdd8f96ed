// The parse result as JSON, with the key names of Python feedparser's result
// (bozo, bozo_exception, version, encoding, namespaces, feed, entries,
// headers, href, status, etag, modified, modified_parsed), so that the feed
// corpus's Python expectations evaluate over it. Time tuples and coordinates
// are JSON arrays of numbers (tuples in Python).
#pragma once

#include <iosfwd>
#include <string>

#include "intel/feed_parser.h"

namespace sentinel::intel {

/// JSON text of `feed` (one line, or indented when `pretty`). Invalid UTF-8
/// in values is replaced with U+FFFD.
std::string feed_to_json(const ParsedFeed& feed, bool pretty = false);

/// `sentinel feeds parse FILE`: reads FILE (or fetches it when it is an
/// http:// or https:// URL, with the response headers deciding encoding and
/// base URL), parses it and writes the JSON and a newline to `out`. Returns
/// the exit code: 0 when a result was printed (even if bozo), 1 when the file
/// cannot be read or the URL fetched (the reason goes to `err`).
int print_feed_json(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace sentinel::intel
