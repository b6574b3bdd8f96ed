#include "server/intel_routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "intel/canonical_url.h"
#include "intel/extraction_json.h"
#include "intel/incident_types.h"
#include "intel/intel_service.h"
#include "server/access_log.h"

namespace sentinel {
namespace {

using nlohmann::json;
using namespace intel;

int64_t ms(WallTime t) { return t.time_since_epoch().count(); }
int64_t ms(EventTime t) { return t.time_since_epoch().count(); }
json ms_or_null(const std::optional<WallTime>& t) { return t ? json(ms(*t)) : json(nullptr); }
json ms_or_null(const std::optional<EventTime>& t) { return t ? json(ms(*t)) : json(nullptr); }
template <typename Tag>
json id_or_null(const std::optional<RowId<Tag>>& id) {
  return id ? json(id->value) : json(nullptr);
}

net::HttpResponse ok_json(const json& j, int status = 200) {
  net::HttpResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

/// The HTTP status of a store or service error: its field says what kind.
net::HttpResponse error_response(const Error& e) {
  int status = 400;
  if (e.field == kStoreNotFound) status = 404;
  if (e.field == kStoreConflict) status = 409;
  if (e.field == kStoreUnavailable) status = 503;
  if (e.field == "store") status = 500;
  return net::make_json_error(status, e.to_string());
}

/// Path segments after "/v1/intel/<collection>/": "12/approve" -> (12, "approve").
struct ItemPath {
  int64_t id = 0;
  std::string action;
  bool ok = false;
};
ItemPath item_path(std::string_view path, std::string_view prefix) {
  ItemPath p;
  if (!path.starts_with(prefix)) return p;
  path.remove_prefix(prefix.size());
  const size_t slash = path.find('/');
  const std::string_view id = path.substr(0, slash);
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), p.id);
  if (ec != std::errc() || end != id.data() + id.size() || p.id <= 0) return p;
  if (slash != std::string_view::npos) p.action = std::string(path.substr(slash + 1));
  p.ok = p.action.find('/') == std::string::npos;
  return p;
}

/// A JSON object body; an error response naming the problem otherwise.
std::variant<json, net::HttpResponse> object_body(const net::HttpRequest& req,
                                                  std::initializer_list<std::string_view> allowed) {
  json body = json::parse(req.body.empty() ? std::string_view("{}") : std::string_view(req.body), nullptr, false);
  if (body.is_discarded() || !body.is_object()) return net::make_json_error(400, "body: expected a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return net::make_json_error(400, key + ": unknown member");
    }
  }
  return body;
}

std::optional<size_t> size_param(std::string_view query, std::string_view key, size_t fallback, size_t max,
                                 std::string& error) {
  const auto v = query_param(query, key);
  if (!v) return fallback;
  size_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n > max) {
    error = fmt::format("{}: expected a whole number up to {}", key, max);
    return std::nullopt;
  }
  return n;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string item = url_decode(text.substr(0, comma));
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// ---- renderers ------------------------------------------------------------

json feed_json(const FeedRecord& f) {
  return {{"id", f.id.value},
          {"url", f.url},
          {"title", f.title},
          {"schedule_s", f.schedule.count() / 1000},
          {"status", std::string(feed_status_name(f.status))},
          {"last_fetch", ms_or_null(f.last_fetch)},
          {"next_fetch", ms(f.next_fetch)},
          {"last_error", f.last_error},
          {"consecutive_failures", f.consecutive_failures},
          {"etag", f.etag},
          {"last_modified", f.last_modified},
          {"created", ms(f.created)}};
}

json article_json(const StoredArticle& a) {
  return {{"id", a.id.value},
          {"title", a.title},
          {"url", a.url},
          {"canonical_url", a.canonical_url},
          {"text", a.text},
          {"language", a.language},
          {"published", ms_or_null(a.published)},
          {"fetched", ms(a.fetched)},
          {"feed", id_or_null(a.feed)},
          {"dedup",
           {{"rule", std::string(to_string(a.dedup.rule))},
            {"article", id_or_null(a.dedup.article)},
            {"incident", id_or_null(a.dedup.incident)},
            {"score", a.dedup.score}}}};
}

json extraction_json(const StoredExtraction& x) {
  json fields = json::object();
  const json result = json::parse(x.result_json, nullptr, false);
  if (!result.is_discarded() && result.contains("incidents") && result["incidents"].is_array() &&
      !result["incidents"].empty()) {
    fields = result["incidents"].front();
  }
  return {{"id", x.id.value},
          {"provider", x.provider},
          {"stage", x.stage},
          {"confidence", x.confidence},
          {"created", ms(x.created)},
          {"triage", {{"outcome", std::string(triage_outcome_name(x.triage))}, {"reasons", x.triage_reasons}}},
          {"fields", std::move(fields)},
          {"incidents", result.is_discarded() ? json::array() : result.value("incidents", json::array())}};
}

json curation_json(const CurationItemView& v) {
  json actions = json::array();
  for (const CurationAction& a : v.actions) {
    actions.push_back({{"kind", std::string(curation_action_name(a.kind))},
                       {"reason", a.reason},
                       {"field", a.field},
                       {"old_value", a.old_value},
                       {"new_value", a.new_value},
                       {"actor", a.actor},
                       {"at", ms(a.at)}});
  }
  return {{"id", v.item.id.value},
          {"state", std::string(curation_state_name(v.item.state))},
          {"confidence", v.item.confidence},
          {"created", ms(v.item.created)},
          {"decided", ms_or_null(v.item.decided)},
          {"decided_by", v.item.decided_by},
          {"incident", id_or_null(v.item.incident)},
          {"article", article_json(v.article)},
          {"extraction", extraction_json(v.extraction)},
          {"actions", std::move(actions)}};
}

json location(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json summary_json(const IncidentSummary& s) {
  return {{"id", s.id.value},         {"type", s.type},
          {"time", ms(s.time)},       {"place", s.place},
          {"lat", location(s.lat)},   {"lon", location(s.lon)},
          {"district", s.district},   {"status", std::string(incident_status_name(s.status))},
          {"confidence", s.confidence}, {"sources", s.source_count}};
}

json incident_json(const StoredIncident& in, const std::vector<IncidentChange>& history) {
  json j = {{"id", in.id.value},       {"type", in.type},
            {"time", ms(in.time)},     {"place", in.place},
            {"lat", location(in.lat)}, {"lon", location(in.lon)},
            {"district", in.district}, {"status", std::string(incident_status_name(in.status))},
            {"confidence", in.confidence}, {"extraction", id_or_null(in.extraction)},
            {"created", ms(in.created)}, {"updated", ms(in.updated)}};
  j["actors"] = json::array();
  for (const IncidentActor& a : in.actors) {
    j["actors"].push_back({{"role", std::string(actor_role_name(a.role))}, {"description", a.description}});
  }
  j["events"] = json::array();
  for (const IncidentEvent& e : in.events) {
    j["events"].push_back({{"time", ms_or_null(e.time)}, {"kind", e.kind}, {"description", e.description}});
  }
  if (in.case_info) {
    json charges = json::array();
    for (const Charge& c : in.case_info->charges) {
      charges.push_back({{"description", c.description}, {"statute", c.statute}, {"count", c.count}});
    }
    j["case"] = {{"case_number", in.case_info->case_number},
                 {"court", in.case_info->court},
                 {"charges", std::move(charges)},
                 {"disposition", in.case_info->disposition},
                 {"disposition_time", ms_or_null(in.case_info->disposition_time)}};
  } else {
    j["case"] = nullptr;
  }
  j["sources"] = json::array();
  for (const IncidentSource& s : in.sources) {
    j["sources"].push_back({{"article", s.article.value},
                            {"url", s.url},
                            {"via", std::string(to_string(s.via))},
                            {"added", ms(s.added)}});
  }
  j["sources_count"] = in.sources.size();
  j["history"] = json::array();
  for (const IncidentChange& c : history) {
    j["history"].push_back({{"at", ms(c.at)},
                            {"actor", c.actor},
                            {"field", c.field},
                            {"old_value", c.old_value},
                            {"new_value", c.new_value},
                            {"reason", c.reason}});
  }
  return j;
}

json triage_json(const TriageSettingsVersion& v) {
  json settings = json::parse(v.settings_json, nullptr, false);
  return {{"version", v.version},
          {"author", v.author},
          {"at", ms(v.at)},
          {"settings", settings.is_discarded() ? json::object() : settings}};
}

json queues_json(IntelService& service) {
  json queues = json::array();
  auto m = service.jobs().metrics();
  if (!m.ok()) return queues;
  for (const QueueMetrics& q : m.value()) {
    queues.push_back({{"queue", std::string(job_kind_name(q.kind))},
                      {"queued", q.by_state[static_cast<size_t>(JobState::kQueued)]},
                      {"running", q.by_state[static_cast<size_t>(JobState::kRunning)]},
                      {"done", q.by_state[static_cast<size_t>(JobState::kDone)]},
                      {"dead", q.by_state[static_cast<size_t>(JobState::kDead)]},
                      {"retried", q.retried},
                      {"recovered", q.recovered}});
  }
  return queues;
}

// ---- request parsing --------------------------------------------------------

/// The corrections object of an approval; every value typed as the API says.
std::variant<CurationCorrections, net::HttpResponse> parse_corrections(const json& c) {
  CurationCorrections out;
  if (!c.is_object()) return net::make_json_error(400, "corrections: expected an object");
  std::optional<double> lat, lon;
  for (const auto& [key, v] : c.items()) {
    const std::string where = "corrections." + key;
    if (key == "type" || key == "place" || key == "district") {
      if (!v.is_string()) return net::make_json_error(400, where + ": expected a string");
      (key == "type" ? out.type : key == "place" ? out.place : out.district) = v.get<std::string>();
    } else if (key == "time") {
      if (v.is_null()) continue;
      if (!v.is_number_integer()) return net::make_json_error(400, where + ": expected milliseconds since the epoch");
      out.time_ms = v.get<int64_t>();
    } else if (key == "lat" || key == "lon") {
      if (v.is_null()) continue;
      if (!v.is_number()) return net::make_json_error(400, where + ": expected a number");
      (key == "lat" ? lat : lon) = v.get<double>();
    } else if (key == "actors") {
      if (!v.is_array()) return net::make_json_error(400, where + ": expected an array of {role, description}");
      std::vector<IncidentActor> actors;
      for (const json& a : v) {
        if (!a.is_object() || !a.contains("role") || !a["role"].is_string() || !a.contains("description") ||
            !a["description"].is_string()) {
          return net::make_json_error(400, where + ": expected an array of {role, description}");
        }
        const std::string role = a["role"].get<std::string>();
        IncidentActor actor;
        bool known = false;
        for (ActorRole r : {ActorRole::kVictim, ActorRole::kSuspect, ActorRole::kOfficer, ActorRole::kWitness,
                            ActorRole::kAgency}) {
          if (actor_role_name(r) == role) {
            actor.role = r;
            known = true;
          }
        }
        if (!known) {
          return net::make_json_error(400, where + ": role " + role + " is not victim, suspect, officer, witness or agency");
        }
        actor.description = a["description"].get<std::string>();
        actors.push_back(std::move(actor));
      }
      out.actors = std::move(actors);
    } else if (key == "targets" || key == "perpetrator_org") {
      // Shown to the curator and kept with the extraction; the incident
      // model has no such fields, so a correction of them is recorded only.
      continue;
    } else {
      return net::make_json_error(400, where + ": unknown field");
    }
  }
  if (lat.has_value() != lon.has_value()) return net::make_json_error(400, "corrections: lat and lon go together");
  if (lat) out.location = std::make_pair(*lat, *lon);
  return out;
}

/// One record in the signed access audit log (the store keeps the full
/// history; this ties the decision to the token in the tamper-evident log).
void audit(ApiContext& ctx, std::string_view action, const Principal& who, int64_t item, json details) {
  details["action"] = action;
  details["by"] = who.name;
  ctx.access->record(event_time_from_ms(wall_clock_ms()), AuditDecision::kCuration, fmt::format("curation/{}", item),
                     details.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

// ---- job stream --------------------------------------------------------------

struct IntelJobStream::Impl {
  explicit Impl(IntelService& s) : service(s) {}
  IntelService& service;
  mutable std::mutex mutex;
  std::unordered_map<uint64_t, std::shared_ptr<net::WebSocketConnection>> clients;
  std::condition_variable cv;
  bool counts_dirty = false;
  bool stopping = false;
  std::thread thread;

  void broadcast(const std::shared_ptr<const std::string>& msg) {
    std::lock_guard lock(mutex);
    for (auto it = clients.begin(); it != clients.end();) {
      if (!it->second->is_open()) {
        it = clients.erase(it);
        continue;
      }
      it->second->send(msg);
      ++it;
    }
  }

  std::shared_ptr<const std::string> counts_message() {
    json j = {{"type", "jobs"}, {"queues", queues_json(service)}};
    return std::make_shared<const std::string>(j.dump());
  }

  void loop() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      cv.wait(lock, [&] { return stopping || counts_dirty; });
      if (stopping) break;
      counts_dirty = false;
      lock.unlock();
      broadcast(counts_message());
      // At most four count messages a second, however fast jobs move.
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      lock.lock();
    }
  }
};

IntelJobStream::IntelJobStream(IntelService& service) : impl_(std::make_unique<Impl>(service)) {}
IntelJobStream::~IntelJobStream() { stop(); }

void IntelJobStream::start() {
  impl_->stopping = false;
  impl_->thread = std::thread([p = impl_.get()] { p->loop(); });
}

void IntelJobStream::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void IntelJobStream::on_job_event(const JobEvent& event) {
  bool any = false;
  {
    std::lock_guard lock(impl_->mutex);
    any = !impl_->clients.empty();
    impl_->counts_dirty = any;
  }
  if (!any) return;
  impl_->broadcast(std::make_shared<const std::string>(render_job_event(event)));
  impl_->cv.notify_all();
}

net::WebSocketSession IntelJobStream::open_session() {
  net::WebSocketSession s;
  s.subprotocol = "sentinel.v1";
  Impl* p = impl_.get();
  s.on_open = [p](const std::shared_ptr<net::WebSocketConnection>& conn) {
    auto counts = p->counts_message();
    std::lock_guard lock(p->mutex);
    p->clients[conn->id()] = conn;
    conn->send(counts);
  };
  s.on_message = [](net::WebSocketConnection&, std::string_view) {};
  s.on_close = [p](net::WebSocketConnection& conn, uint16_t, std::string_view) {
    std::lock_guard lock(p->mutex);
    p->clients.erase(conn.id());
  };
  return s;
}

size_t IntelJobStream::clients() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->clients.size();
}

// ---- routes ------------------------------------------------------------------

void register_intel_routes(net::HttpServer& server, ApiContext& ctx, IntelService& service, IntelJobStream& stream) {
  ApiContext* c = &ctx;
  IntelService* s = &service;
  IncidentStore* store = &service.store();
  const auto route = [&](std::string method, std::string path, net::HttpHandler h) {
    add_route(server, ctx, std::move(method), std::move(path), std::move(h));
  };

  // Feeds.
  route("GET", "/v1/intel/feeds", guarded(ctx, Permission::kRead, [store](net::HttpRequest&, const Principal&) {
    auto feeds = store->list_feeds();
    if (!feeds.ok()) return error_response(feeds.error());
    json out = json::array();
    for (const FeedRecord& f : feeds.value()) out.push_back(feed_json(f));
    return ok_json({{"feeds", std::move(out)}});
  }));
  route("POST", "/v1/intel/feeds", guarded(ctx, Permission::kAdmin, [s](net::HttpRequest& req, const Principal& who) {
    auto parsed = object_body(req, {"url", "title", "schedule_s"});
    if (auto* r = std::get_if<net::HttpResponse>(&parsed)) return std::move(*r);
    const json& body = std::get<json>(parsed);
    if (!body.contains("url") || !body["url"].is_string()) return net::make_json_error(400, "url: expected a string");
    NewFeed f;
    f.url = body["url"].get<std::string>();
    if (body.contains("title")) {
      if (!body["title"].is_string()) return net::make_json_error(400, "title: expected a string");
      f.title = body["title"].get<std::string>();
    }
    if (body.contains("schedule_s")) {
      if (!body["schedule_s"].is_number_integer() || body["schedule_s"].get<int64_t>() < 60 ||
          body["schedule_s"].get<int64_t>() > 30LL * 86400) {
        return net::make_json_error(400, "schedule_s: expected whole seconds from 60 to 2592000");
      }
      f.schedule = Millis(body["schedule_s"].get<int64_t>() * 1000);
    }
    auto added = s->add_feed(f);
    if (!added.ok()) return error_response(added.error());
    spdlog::info("intel: feed {} added by {}", added.value().id.value, who.name);
    return ok_json(feed_json(added.value()), 201);
  }));
  route("POST", "/v1/intel/feeds/*", guarded(ctx, Permission::kAdmin, [s](net::HttpRequest& req, const Principal&) {
    const ItemPath p = item_path(req.path, "/v1/intel/feeds/");
    if (!p.ok) return net::make_json_error(404, "no such resource: " + req.path);
    if (p.action == "fetch") {
      auto job = s->fetch_now(FeedId{p.id});
      if (!job.ok()) return error_response(job.error());
      return ok_json({{"job", job.value().value}}, 202);
    }
    if (p.action == "status") {
      auto parsed = object_body(req, {"status"});
      if (auto* r = std::get_if<net::HttpResponse>(&parsed)) return std::move(*r);
      const json& body = std::get<json>(parsed);
      const auto status = body.contains("status") && body["status"].is_string()
                              ? parse_feed_status(body["status"].get<std::string>())
                              : std::nullopt;
      if (!status || *status == FeedStatus::kFailing) return net::make_json_error(400, "status: expected \"active\" or \"paused\"");
      auto f = s->set_feed_status(FeedId{p.id}, *status);
      if (!f.ok()) return error_response(f.error());
      return ok_json(feed_json(f.value()));
    }
    return net::make_json_error(404, "no such action: " + req.path);
  }));

  // Articles submitted by hand (a tip, a page a curator found).
  route("POST", "/v1/intel/articles", guarded(ctx, Permission::kCurate, [s, store](net::HttpRequest& req, const Principal& who) {
    auto parsed = object_body(req, {"url", "title", "text", "published"});
    if (auto* r = std::get_if<net::HttpResponse>(&parsed)) return std::move(*r);
    const json& body = std::get<json>(parsed);
    for (const char* key : {"url", "title", "text"}) {
      if (!body.contains(key) || !body[key].is_string()) return net::make_json_error(400, std::string(key) + ": expected a string");
    }
    NewArticle a;
    a.url = body["url"].get<std::string>();
    auto canonical = canonicalize_url(a.url);
    if (!canonical.ok()) return net::make_json_error(400, "url: " + canonical.error().reason);
    a.canonical_url = canonical.value();
    a.title = body["title"].get<std::string>();
    a.text = body["text"].get<std::string>();
    if (a.title.empty() && a.text.empty()) return net::make_json_error(400, "text: an article needs a title or a text");
    if (body.contains("published") && !body["published"].is_null()) {
      if (!body["published"].is_number_integer()) return net::make_json_error(400, "published: expected milliseconds since the epoch");
      a.published = event_time_from_ms(body["published"].get<int64_t>());
    }
    a.fetched = wall_now();
    auto ins = store->insert_article(a);
    if (!ins.ok()) return error_response(ins.error());
    if (!ins.value().inserted) {
      return ok_json({{"article", ins.value().id.value}, {"duplicate", "canonical_url"}, {"job", nullptr}});
    }
    auto job = s->jobs().enqueue(JobKind::kExtract, json{{"article", ins.value().id.value}}.dump(),
                                 fmt::format("article:{}", ins.value().id.value));
    if (!job.ok()) return error_response(job.error());
    spdlog::info("intel: article {} submitted by {}", ins.value().id.value, who.name);
    return ok_json({{"article", ins.value().id.value}, {"duplicate", nullptr}, {"job", job.value().id.value}}, 202);
  }));

  // Curation queue.
  route("GET", "/v1/intel/curation", guarded(ctx, Permission::kCurate, [store](net::HttpRequest& req, const Principal&) {
    CurationQuery q;
    if (auto state = query_param(req.query, "state")) {
      if (*state == "any") {
        q.state = std::nullopt;
      } else if (auto st = parse_curation_state(*state)) {
        q.state = *st;
      } else {
        return net::make_json_error(400, "state: expected open, approved, rejected or any");
      }
    }
    std::string error;
    const auto limit = size_param(req.query, "limit", 50, 1000, error);
    const auto offset = size_param(req.query, "offset", 0, 100'000'000, error);
    if (!limit || !offset || *limit == 0) return net::make_json_error(400, error.empty() ? "limit: must be at least 1" : error);
    q.limit = *limit;
    q.offset = *offset;
    auto page = store->curation_page(q);
    if (!page.ok()) return error_response(page.error());
    json items = json::array();
    for (const CurationItemView& v : page.value().items) items.push_back(curation_json(v));
    return ok_json({{"items", std::move(items)}, {"total", page.value().total}});
  }));
  route("GET", "/v1/intel/curation/*", guarded(ctx, Permission::kCurate, [store](net::HttpRequest& req, const Principal&) {
    const ItemPath p = item_path(req.path, "/v1/intel/curation/");
    if (!p.ok || !p.action.empty()) return net::make_json_error(404, "no such resource: " + req.path);
    auto v = store->get_curation_item(CurationItemId{p.id});
    if (!v.ok()) return error_response(v.error());
    if (!v.value()) return net::make_json_error(404, fmt::format("no curation item {}", p.id));
    return ok_json(curation_json(*v.value()));
  }));
  route("POST", "/v1/intel/curation/*", guarded(ctx, Permission::kCurate, [s, store, c](net::HttpRequest& req, const Principal& who) {
    const ItemPath p = item_path(req.path, "/v1/intel/curation/");
    if (!p.ok) return net::make_json_error(404, "no such resource: " + req.path);
    const CurationItemId id{p.id};
    auto item_now = [&]() -> json {
      auto v = store->get_curation_item(id);
      return v.ok() && v.value() ? curation_json(*v.value()) : json(nullptr);
    };
    if (p.action == "approve") {
      auto parsed = object_body(req, {"corrections", "note"});
      if (auto* r = std::get_if<net::HttpResponse>(&parsed)) return std::move(*r);
      const json& body = std::get<json>(parsed);
      CurationCorrections corrections;
      if (body.contains("corrections") && !body["corrections"].is_null()) {
        auto c = parse_corrections(body["corrections"]);
        if (auto* r = std::get_if<net::HttpResponse>(&c)) return std::move(*r);
        corrections = std::get<CurationCorrections>(c);
      }
      std::string note;
      if (body.contains("note")) {
        if (!body["note"].is_string()) return net::make_json_error(400, "note: expected a string");
        note = body["note"].get<std::string>();
      }
      auto incident = s->approve(id, corrections, who.name, note);
      if (!incident.ok()) return error_response(incident.error());
      audit(*c, "approve", who, p.id, {{"incident", incident.value().value}, {"note_bytes", note.size()}});
      auto stored = store->get_incident(incident.value());
      auto history = store->incident_history(incident.value());
      json inc = stored.ok() && stored.value() && history.ok() ? incident_json(*stored.value(), history.value()) : json(nullptr);
      return ok_json({{"item", item_now()}, {"incident", std::move(inc)}});
    }
    if (p.action == "reject") {
      auto parsed = object_body(req, {"reason"});
      if (auto* r = std::get_if<net::HttpResponse>(&parsed)) return std::move(*r);
      const json& body = std::get<json>(parsed);
      if (!body.contains("reason") || !body["reason"].is_string()) return net::make_json_error(400, "reason: is required");
      const std::string reason = body["reason"].get<std::string>();
      if (Status st = s->reject(id, reason, who.name); !st.ok()) return error_response(st.error());
      audit(*c, "reject", who, p.id, {{"reason_bytes", reason.size()}});
      return ok_json({{"item", item_now()}});
    }
    if (p.action == "correct") {
      auto parsed = object_body(req, {"field", "value", "old_value"});
      if (auto* r = std::get_if<net::HttpResponse>(&parsed)) return std::move(*r);
      const json& body = std::get<json>(parsed);
      if (!body.contains("field") || !body["field"].is_string() || body["field"].get<std::string>().empty()) {
        return net::make_json_error(400, "field: is required");
      }
      if (!body.contains("value")) return net::make_json_error(400, "value: is required");
      const std::string field = body["field"].get<std::string>();
      std::string old_value;
      if (body.contains("old_value")) {
        old_value = value_text(body["old_value"]);
      } else if (auto v = store->get_curation_item(id); v.ok() && v.value()) {
        // The value before, as the extraction has it, for the item's history.
        const json fields = extraction_json(v.value()->extraction)["fields"];
        if (fields.is_object() && fields.contains(field)) old_value = value_text(fields[field]);
      }
      if (Status st = s->correct(id, field, old_value, value_text(body["value"]), who.name); !st.ok()) {
        return error_response(st.error());
      }
      audit(*c, "correct", who, p.id, {{"field", field}});
      return ok_json({{"item", item_now()}});
    }
    return net::make_json_error(404, "no such action: " + req.path);
  }));

  // Incidents.
  route("GET", "/v1/intel/incidents", guarded(ctx, Permission::kRead, [store](net::HttpRequest& req, const Principal&) {
    IncidentQuery q;
    auto time_param = [&](std::string_view key, std::optional<EventTime>& out) -> bool {
      const auto v = query_param(req.query, key);
      if (!v || v->empty()) return true;
      int64_t n = 0;
      const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc() || end != v->data() + v->size()) return false;
      out = event_time_from_ms(n);
      return true;
    };
    if (!time_param("from", q.from)) return net::make_json_error(400, "from: expected milliseconds since the epoch");
    if (!time_param("to", q.to)) return net::make_json_error(400, "to: expected milliseconds since the epoch");
    if (auto v = query_param(req.query, "type")) q.types = split_list(*v);
    if (auto v = query_param(req.query, "district")) q.districts = split_list(*v);
    if (auto v = query_param(req.query, "status")) {
      for (const std::string& name : split_list(*v)) {
        auto st = parse_incident_status(name);
        if (!st) return net::make_json_error(400, "status: " + name + " is not open, closed or retracted");
        q.statuses.push_back(*st);
      }
    }
    std::string error;
    const auto limit = size_param(req.query, "limit", 500, 10'000, error);
    const auto offset = size_param(req.query, "offset", 0, 100'000'000, error);
    if (!limit || !offset || *limit == 0) return net::make_json_error(400, error.empty() ? "limit: must be at least 1" : error);
    q.limit = *limit;
    q.offset = *offset;
    auto page = store->list_incidents(q);
    if (!page.ok()) return error_response(page.error());
    json items = json::array();
    for (const IncidentSummary& i : page.value().items) items.push_back(summary_json(i));
    return ok_json({{"items", std::move(items)},
                    {"total", page.value().total},
                    {"by_type", page.value().by_type},
                    {"by_district", page.value().by_district}});
  }));
  route("GET", "/v1/intel/incidents/*", guarded(ctx, Permission::kRead, [store](net::HttpRequest& req, const Principal&) {
    const ItemPath p = item_path(req.path, "/v1/intel/incidents/");
    if (!p.ok || !p.action.empty()) return net::make_json_error(404, "no such resource: " + req.path);
    auto in = store->get_incident(IncidentId{p.id});
    if (!in.ok()) return error_response(in.error());
    if (!in.value()) return net::make_json_error(404, fmt::format("no incident {}", p.id));
    auto history = store->incident_history(IncidentId{p.id});
    if (!history.ok()) return error_response(history.error());
    return ok_json(incident_json(*in.value(), history.value()));
  }));
  route("POST", "/v1/intel/incidents/*", guarded(ctx, Permission::kCurate, [s, store, c](net::HttpRequest& req, const Principal& who) {
    const ItemPath p = item_path(req.path, "/v1/intel/incidents/");
    if (!p.ok || p.action != "status") return net::make_json_error(404, "no such resource: " + req.path);
    auto parsed = object_body(req, {"status", "reason"});
    if (auto* r = std::get_if<net::HttpResponse>(&parsed)) return std::move(*r);
    const json& body = std::get<json>(parsed);
    const auto status = body.contains("status") && body["status"].is_string()
                            ? parse_incident_status(body["status"].get<std::string>())
                            : std::nullopt;
    if (!status) return net::make_json_error(400, "status: expected open, closed or retracted");
    if (!body.contains("reason") || !body["reason"].is_string() || body["reason"].get<std::string>().empty()) {
      return net::make_json_error(400, "reason: is required");
    }
    if (Status st = s->set_incident_status(IncidentId{p.id}, *status, who.name, body["reason"].get<std::string>()); !st.ok()) {
      return error_response(st.error());
    }
    c->access->record(event_time_from_ms(wall_clock_ms()), AuditDecision::kCuration, fmt::format("incident/{}", p.id),
                      json{{"action", "status"}, {"status", body["status"]}, {"by", who.name}}.dump());
    auto in = store->get_incident(IncidentId{p.id});
    auto history = store->incident_history(IncidentId{p.id});
    if (!in.ok() || !in.value() || !history.ok()) return net::make_json_error(500, "the incident changed but cannot be read back");
    return ok_json(incident_json(*in.value(), history.value()));
  }));

  // Triage settings.
  route("GET", "/v1/intel/triage", guarded(ctx, Permission::kRead, [s](net::HttpRequest&, const Principal&) {
    auto v = s->triage_settings();
    if (!v.ok()) return error_response(v.error());
    return ok_json(triage_json(v.value()));
  }));
  route("PUT", "/v1/intel/triage", guarded(ctx, Permission::kAdmin, [s, c](net::HttpRequest& req, const Principal& who) {
    auto parsed = object_body(req, {"settings"});
    if (auto* r = std::get_if<net::HttpResponse>(&parsed)) return std::move(*r);
    const json& body = std::get<json>(parsed);
    if (!body.contains("settings") || !body["settings"].is_object()) return net::make_json_error(400, "settings: expected an object");
    auto v = s->set_triage_rules(body["settings"].dump(), who.name);
    if (!v.ok()) return net::make_json_error(400, "settings." + v.error().to_string());
    std::string reasons = json{{"by", who.name}, {"version", v.value().version}}.dump();
    c->access->record(event_time_from_ms(wall_clock_ms()), AuditDecision::kSettingsChange, "intel.triage", reasons);
    return ok_json(triage_json(v.value()));
  }));

  // Jobs.
  route("GET", "/v1/intel/jobs", guarded(ctx, Permission::kRead, [s, store](net::HttpRequest& req, const Principal&) {
    JobListQuery q;
    q.limit = 50;
    if (auto v = query_param(req.query, "queue")) {
      if (!parse_job_kind(*v)) return net::make_json_error(400, "queue: expected fetch, enrich or extract");
      q.queue = *v;
    }
    if (auto v = query_param(req.query, "state")) {
      auto st = parse_job_state(*v);
      if (!st) return net::make_json_error(400, "state: expected queued, running, done or dead");
      q.state = *st;
    }
    auto recent = store->list_jobs(q);
    if (!recent.ok()) return error_response(recent.error());
    json jobs = json::array();
    for (const Job& j : recent.value()) {
      jobs.push_back(json::parse(render_job_event(JobEvent{JobChange::kEnqueued, j})));
      jobs.back().erase("change");
      jobs.back().erase("type");
    }
    return ok_json({{"queues", queues_json(*s)}, {"recent", std::move(jobs)}});
  }));
  server.websocket("/v1/intel/jobs/stream", [c, &stream](net::HttpRequest& req) -> std::variant<net::WebSocketSession, net::HttpResponse> {
    auto auth = authenticate(*c, req, Permission::kRead);
    if (auto* r = std::get_if<net::HttpResponse>(&auth)) return std::move(*r);
    net::WebSocketSession session = stream.open_session();
    const auto offered = net::websocket_subprotocols(req);
    if (std::find(offered.begin(), offered.end(), session.subprotocol) == offered.end()) session.subprotocol.clear();
    return session;
  });
}

}  // namespace sentinel
