// Serves the built command-centre page (web/dist) from disk: "/" is
// index.html, other paths map to files under the root. Paths that leave the
// root (.., symlinks out, NUL) get 404, as do directories.
#pragma once

#include <optional>
#include <string>

#include "net/http_message.h"

namespace sentinel {

/// The page's directory: `configured` (relative to `base_dir`) when set, else
/// the first of <program dir>/../web/dist, <program dir>/../../web/dist,
/// <source dir>/web/dist that holds an index.html. nullopt when none does.
std::optional<std::string> find_web_root(const std::string& configured, const std::string& base_dir);

/// The response for GET `path` under `root`.
net::HttpResponse serve_static(const std::string& root, const std::string& path);

}  // namespace sentinel
