// URL resolution for feeds: relative links against xml:base, the document
// URL or Content-Location, with the same rules Python's urllib.parse.urljoin
// applies (RFC 3986 dot-segment removal, schemes without relative
// resolution left alone) and feedparser's whitelist of safe URI schemes
// (no javascript: or data: links come out of the parser).
#pragma once

#include <string>
#include <string_view>

namespace sentinel::intel {

/// Resolves `ref` against `base`. Returns `ref` unchanged when its scheme
/// differs from the base's or does not support relative references; "" when
/// `ref` has an unbalanced IPv6 bracket. Extra slashes after "scheme://" in
/// `ref` are dropped first ("http:///x" means "http://x").
std::string url_join(std::string_view base, std::string_view ref);

/// True for the schemes feed links may use (http, https, ftp, mailto, ...).
bool is_safe_uri_scheme(std::string_view scheme);

/// url_join(base, rel) when the result uses a safe scheme, else "". With an
/// empty `base` returns `rel`; with an empty `rel` returns `base` when its
/// scheme is safe or absent, else "".
std::string make_safe_absolute_uri(std::string_view base, std::string_view rel = {});

}  // namespace sentinel::intel
