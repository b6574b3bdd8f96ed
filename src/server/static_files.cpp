#include "server/static_files.h"

#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sentinel {

namespace fs = std::filesystem;

namespace {
std::string content_type_of(const fs::path& p) {
  static const std::array<std::pair<const char*, const char*>, 12> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  }};
  const std::string ext = p.extension().string();
  for (const auto& [e, t] : kTypes) {
    if (ext == e) return t;
  }
  return "application/octet-stream";
}

std::string program_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}
}  // namespace

std::optional<std::string> find_web_root(const std::string& configured, const std::string& base_dir) {
  std::vector<fs::path> candidates;
  if (!configured.empty()) {
    fs::path p(configured);
    candidates.push_back(p.is_relative() ? fs::path(base_dir) / p : p);
  } else {
    const fs::path exe = program_dir();
    if (!exe.empty()) {
      // build/release/src/app/sentinel -> the source tree's web/dist
      for (fs::path d = exe; !d.empty() && d != d.root_path(); d = d.parent_path()) {
        candidates.push_back(d / "web" / "dist");
      }
    }
#ifdef SENTINEL_SOURCE_DIR
    candidates.push_back(fs::path(SENTINEL_SOURCE_DIR) / "web" / "dist");
#endif
  }
  for (const fs::path& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c / "index.html", ec)) return fs::weakly_canonical(c, ec).string();
  }
  return std::nullopt;
}

net::HttpResponse serve_static(const std::string& root, const std::string& path) {
  if (path.find('\0') != std::string::npos || path.find("..") != std::string::npos || path.empty() ||
      path.front() != '/') {
    return net::make_json_error(404, "not found");
  }
  fs::path rel = path == "/" ? fs::path("index.html") : fs::path(path.substr(1));
  std::error_code ec;
  const fs::path full = fs::weakly_canonical(fs::path(root) / rel, ec);
  const std::string full_s = full.string();
  if (ec || full_s.compare(0, root.size(), root) != 0 || !fs::is_regular_file(full, ec)) {
    return net::make_json_error(404, "not found: " + path);
  }
  std::ifstream in(full, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  net::HttpResponse r;
  r.content_type = content_type_of(full);
  r.body = body.str();
  // Vite names assets by content hash; index.html must be re-read every time.
  r.headers.emplace_back("Cache-Control", path.starts_with("/assets/") ? "public, max-age=31536000, immutable"
                                                                       : "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace sentinel
