// Article: one news item as Sentinel's intel module sees it, from the feed
// (or a page fetch) through dedup, extraction and triage. A plain value: the
// stages copy or move it freely and none keeps a pointer into it.
#pragma once

#include <cstdint>
#include <string>

namespace sentinel::intel {

/// One article. `url` is the link as the feed gave it; `canonical_url` is
/// canonicalize_url(url) (src/intel/canonical_url.h), empty until computed or
/// when the link is not a valid URL. `published_ms` is milliseconds since the
/// Unix epoch (UTC), 0 when the feed gave no date. `feed` names the feed it
/// came from; `language` is a BCP 47 tag ("en", "es") or empty when unknown.
struct Article {
  std::string url;
  std::string canonical_url;
  std::string title;
  std::string text;
  int64_t published_ms = 0;
  std::string feed;
  std::string language;
};

}  // namespace sentinel::intel
