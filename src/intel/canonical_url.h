// Canonical URLs: one spelling per article, so the same story reached through
// a feed link with tracking parameters, a different case, a default port or a
// fragment is stored once (DESIGN.md section 7, "stored once (canonical URL)").
//
// Rules, in the order applied:
//  - surrounding whitespace trimmed; only absolute http and https URLs are
//    accepted (a relative link is the feed parser's to resolve first);
//  - scheme and host lower-cased; a trailing dot on the host removed;
//    user name and password dropped (never stored);
//  - default ports removed (:80 for http, :443 for https);
//  - dot segments resolved ("/a/./b/../c" -> "/a/c");
//  - percent-encoding normalised in path and query: escapes of unreserved
//    characters (A-Z a-z 0-9 - . _ ~) decoded, other escapes upper-cased,
//    a stray '%' becomes "%25", bytes that may not appear raw (space,
//    non-ASCII, controls, "<>\"^`{|}\\") are encoded;
//  - trailing slash: an empty path becomes "/"; a non-root path loses its
//    trailing slash ("/news/story/" -> "/news/story"), because news sites
//    serve and link both spellings of one article;
//  - fragment removed;
//  - tracking parameters removed (tracking_parameters() below, plus every
//    name starting "utm_"; names compared case-insensitively), empty
//    parameters dropped, the rest sorted by name then value (stable);
//    a query left empty loses its '?'.
//  - `www.` is KEPT: "www.example.com" and "example.com" are different DNS
//    names that need not serve the same site (and on shared hosting often do
//    not), so merging them would be a guess; an article reached under both
//    is caught by the title and content-fingerprint rules of ArticleDedup.
//    http and https are kept apart for the same reason.
//
// Threading: pure functions, safe from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sentinel::intel {

/// The exact (lower-case) parameter names removed besides the "utm_" prefix.
std::span<const std::string_view> tracking_parameters();

/// True when `name` (raw, possibly percent-encoded) is a tracking parameter.
bool is_tracking_parameter(std::string_view name);

/// The canonical spelling of `url`, or an Error (field "url") saying why it is
/// not an absolute http(s) URL. Idempotent: canonicalize_url(canonical) ==
/// canonical.
Result<std::string> canonicalize_url(std::string_view url);

}  // namespace sentinel::intel
