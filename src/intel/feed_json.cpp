#include "intel/feed_json.h"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "intel/feed_dates.h"
#include "intel/feed_fetcher.h"
#include "intel/feed_text.h"

namespace sentinel::intel {

namespace {

using Json = nlohmann::ordered_json;

Json to_json(const FeedValue& v) {
  if (v.is_null()) return nullptr;
  if (v.is_bool()) return v.as_bool();
  if (v.is_int()) return v.as_int();
  if (v.is_double()) return v.as_double();
  if (v.is_string()) return v.as_string();
  if (v.is_list()) {
    Json a = Json::array();
    for (const auto& item : v.as_list()) a.push_back(to_json(item));
    return a;
  }
  Json o = Json::object();
  for (const auto& [k, item] : v.as_dict()) o[k] = to_json(item);
  return o;
}

}  // namespace

std::string feed_to_json(const ParsedFeed& feed, bool pretty) {
  Json j = Json::object();
  j["bozo"] = feed.bozo;
  if (feed.bozo) j["bozo_exception"] = feed.bozo_exception;
  j["version"] = feed.version;
  j["encoding"] = feed.encoding;
  j["namespaces"] = to_json(feed.namespaces);
  j["feed"] = to_json(feed.feed);
  Json entries = Json::array();
  for (const auto& e : feed.entries) entries.push_back(to_json(e));
  j["entries"] = std::move(entries);
  // Repeated headers are joined with ", " (one value per name, as HTTP allows).
  Json headers = Json::object();
  for (const auto& [k, v] : feed.headers) {
    if (headers.contains(k)) {
      headers[k] = headers[k].get<std::string>() + ", " + v;
    } else {
      headers[k] = v;
    }
  }
  j["headers"] = std::move(headers);
  if (!feed.href.empty()) j["href"] = feed.href;
  if (feed.status != 0) j["status"] = feed.status;
  if (const std::string* etag = find_header(feed.headers, "etag");
      etag != nullptr && !etag->empty()) {
    j["etag"] = *etag;
  }
  if (const std::string* lm = find_header(feed.headers, "last-modified");
      lm != nullptr && !lm->empty()) {
    j["modified"] = *lm;
    if (auto t = parse_feed_date(*lm)) {
      j["modified_parsed"] = Json(std::vector<int>(t->begin(), t->end()));
    } else {
      j["modified_parsed"] = nullptr;
    }
  }
  return j.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace);
}

int print_feed_json(const std::string& path, std::ostream& out, std::ostream& err) {
  ParsedFeed parsed;
  if (feedtext::starts_with(path, "http://") || feedtext::starts_with(path, "https://")) {
    FeedFetcher fetcher;
    FetchResult r = fetcher.fetch(path);
    if (!r.ok()) {
      err << "cannot fetch " << path << ": " << r.error << "\n";
      return 1;
    }
    FeedParseOptions options;
    options.headers = r.headers;
    options.href = r.effective_url;
    parsed = parse_feed(r.body, options);
    parsed.status = r.status;
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      err << "cannot read " << path << ": no such file or not readable\n";
      return 1;
    }
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
      err << "cannot read " << path << ": read error\n";
      return 1;
    }
    parsed = parse_feed(data);
  }
  out << feed_to_json(parsed) << "\n";
  return out.good() ? 0 : 1;
}

}  // namespace sentinel::intel
