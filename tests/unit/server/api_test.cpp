// The command-centre API end to end on an ephemeral port: auth and roles,
// the alert queue (list, filters, get, ack, feedback, audit trail), stats,
// map, CAP export, and the OpenAPI document kept true.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "alerts/audit_log.h"
#include "core/keys.h"
#include "core/config.h"
#include "net/http_client.h"
#include "server/api_routes.h"
#include "server/auth.h"
#include "server/live_service.h"

namespace sentinel {
namespace api_test {

namespace fs = std::filesystem;
using nlohmann::json;

std::string gunshot(const std::string& id, double lat = 41.8790) {
  return R"({"specversion":"1.0","id":")" + id +
         R"(","source":"sensor","type":"sensor.gunshot","time":"2026-03-01T22:15:00Z","lat":)" +
         std::to_string(lat) + R"(,"lon":-87.6298,"severity":"violent","confidence":0.9})";
}

/// (method, route) of every documented operation; "/v1/alerts/{id}/ack" is
/// served by the "/v1/alerts/*" prefix route. The /v1/intel routes exist
/// only when intel is enabled.
std::set<std::pair<std::string, std::string>> documented_routes(const json& doc, bool intel) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& [path, ops] : doc["paths"].items()) {
    if (!intel && path.starts_with("/v1/intel/")) continue;
    const size_t brace = path.find("/{");
    for (const auto& [method, op] : ops.items()) {
      out.emplace(method, brace == std::string::npos ? path : path.substr(0, brace) + "/*");
    }
  }
  return out;
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sentinel-api-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    keys_ = generate_keypair((dir_ / "keys").string());
    tokens_file_ = (dir_ / "tokens.jsonl").string();
    std::ofstream out(tokens_file_);
    out << TokenStore::file_line("desk-1", Role::kAnalyst, TokenStore::hash(analyst_)) << "\n";
    out << TokenStore::file_line("gateway", Role::kIngest, TokenStore::hash(ingest_)) << "\n";
    out << TokenStore::file_line("root", Role::kAdmin, TokenStore::hash(admin_)) << "\n";
    out << TokenStore::file_line("curator-1", Role::kCurator, TokenStore::hash(curator_)) << "\n";
  }
  void start(Config config = {}) {
    config.audit.key = keys_.secret_path;
    config.server.tokens = tokens_file_;
    LiveService::Options o;
    o.out_dir = (dir_ / "out").string();
    o.listen = "127.0.0.1:0";
    service_ = std::make_unique<LiveService>(config, o);
    service_->start();
  }
  void TearDown() override {
    if (service_) service_->stop();
    fs::remove_all(dir_);
  }
  net::HttpResponse call(const std::string& method, const std::string& target, const std::string& token,
                         const std::string& body = "") {
    net::HttpHeaders h;
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    return net::http_request("127.0.0.1", service_->port(), method, target, body, h);
  }
  json get_json(const std::string& target, const std::string& token) {
    auto r = call("GET", target, token);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body);
  }
  /// Waits until GET /v1/alerts lists `n` alerts.
  json wait_for_alerts(size_t n) {
    json page;
    for (int i = 0; i < 500; ++i) {
      page = get_json("/v1/alerts", analyst_);
      if (page["alerts"].size() >= n) return page;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "alerts never reached " << n << ": " << page.dump();
    return page;
  }
  std::string access_log() const {
    for (const auto& e : fs::directory_iterator(dir_ / "out")) {
      if (e.path().filename().string().starts_with("access-")) return e.path().string();
    }
    return "";
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path dir_;
  KeyPairPaths keys_;
  std::string tokens_file_;
  std::string analyst_ = TokenStore::generate(), ingest_ = TokenStore::generate(), admin_ = TokenStore::generate(),
              curator_ = TokenStore::generate();
  std::unique_ptr<LiveService> service_;
};

TEST_F(ApiTest, MissingWrongAndUnderprivilegedTokensAreRefusedAndAudited) {
  start();
  auto r = call("GET", "/v1/alerts", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("www-authenticate").substr(0, 6), "Bearer");
  EXPECT_EQ(call("GET", "/v1/alerts", TokenStore::generate()).status, 401);
  EXPECT_EQ(call("GET", "/v1/alerts", "not-a-token").status, 401);
  EXPECT_EQ(call("POST", "/v1/events", analyst_, gunshot("x1")).status, 403);  // analysts do not ingest
  EXPECT_EQ(call("GET", "/v1/alerts", ingest_).status, 403);                   // gateways do not read
  EXPECT_EQ(call("POST", "/v1/tokens", analyst_, R"({"name":"n","role":"admin"})").status, 403);
  EXPECT_EQ(call("GET", "/metrics", "").status, 401);
  EXPECT_EQ(call("GET", "/healthz", "").status, 200);  // probes need no token
  EXPECT_EQ(call("GET", "/v1/openapi.json", "").status, 200);
  service_->stop();
  const std::string log = access_log();
  ASSERT_FALSE(log.empty());
  const std::string text = read(log);
  size_t denied = 0;
  for (size_t at = 0; (at = text.find(R"("decision":"access_denied")", at)) != std::string::npos; ++at) ++denied;
  EXPECT_EQ(denied, 7u) << text;
  EXPECT_NE(text.find(R"("status":403)"), std::string::npos);
  EXPECT_NE(text.find(R"("token":"desk-1")"), std::string::npos) << "403s name the token";
  EXPECT_EQ(text.find(analyst_), std::string::npos) << "tokens never reach the log";
  const VerifyResult v = verify_audit_log(log, load_public_key(keys_.public_path));
  EXPECT_TRUE(v.ok) << v.to_string();
}

TEST_F(ApiTest, AnAlertPostedIsListedAcknowledgedGivenFeedbackAndAudited) {
  start();
  ASSERT_EQ(call("POST", "/v1/events", ingest_, gunshot("g1")).status, 200);
  json page = wait_for_alerts(1);
  ASSERT_EQ(page["alerts"].size(), 1u);
  const json a = page["alerts"][0];
  const std::string id = a["alert_id"];
  EXPECT_EQ(a["type"], "sensor");
  EXPECT_EQ(a["acked_at"], nullptr);
  EXPECT_NE(a["ack_due"], nullptr) << "every band but P3 has an SLA by default";
  EXPECT_EQ(page["next_cursor"], nullptr);

  EXPECT_EQ(get_json("/v1/alerts/" + id, analyst_)["alert_id"], id);
  EXPECT_EQ(call("GET", "/v1/alerts/a-0000000000000000", analyst_).status, 404);
  EXPECT_EQ(get_json("/v1/alerts?type=spike", analyst_)["alerts"].size(), 0u);
  EXPECT_EQ(get_json("/v1/alerts?type=sensor&acked=false", analyst_)["alerts"].size(), 1u);
  auto bad = call("GET", "/v1/alerts?priority=P9", analyst_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("priority"), std::string::npos) << bad.body;
  EXPECT_EQ(call("GET", "/v1/alerts?colour=red", analyst_).status, 400);
  EXPECT_EQ(call("GET", "/v1/alerts?limit=0", analyst_).status, 400);

  auto ack = call("POST", "/v1/alerts/" + id + "/ack", analyst_);
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(json::parse(ack.body)["acked_by"], "desk-1");
  auto again = call("POST", "/v1/alerts/" + id + "/ack", admin_);
  EXPECT_EQ(json::parse(again.body)["acked_by"], "desk-1") << "the first ack stays";
  EXPECT_EQ(get_json("/v1/alerts?acked=false", analyst_)["alerts"].size(), 0u);

  EXPECT_EQ(call("POST", "/v1/alerts/" + id + "/feedback", analyst_, R"({"verdict":"maybe"})").status, 400);
  EXPECT_EQ(call("POST", "/v1/alerts/" + id + "/feedback", analyst_, "not json").status, 400);
  auto fb = call("POST", "/v1/alerts/" + id + "/feedback", analyst_, R"({"verdict":"true_positive","note":"unit 12 confirmed"})");
  ASSERT_EQ(fb.status, 200) << fb.body;
  EXPECT_EQ(json::parse(fb.body)["verdict"], "true_positive");

  const json trail = get_json("/v1/alerts/" + id + "/audit", analyst_);
  std::vector<std::string> decisions;
  for (const json& rec : trail["records"]) decisions.push_back(rec["decision"]);
  EXPECT_EQ(decisions, (std::vector<std::string>{"alert", "ack", "feedback"})) << trail.dump();

  const json stats = get_json("/v1/stats", analyst_);
  EXPECT_EQ(stats["alerts"], 1);
  EXPECT_EQ(stats["unacked"], 0);
  EXPECT_EQ(stats["latency"]["stages"].size(), 4u);
  EXPECT_EQ(stats["queue"]["backend"], "memory");

  auto cap = call("GET", "/v1/alerts/export?format=cap", analyst_);
  EXPECT_EQ(cap.status, 200);
  EXPECT_NE(cap.header("content-type").find("xml"), std::string::npos);
  EXPECT_NE(cap.body.find("urn:oasis:names:tc:emergency:cap:1.2"), std::string::npos);
  EXPECT_NE(cap.body.find(id), std::string::npos);
  EXPECT_EQ(call("GET", "/v1/alerts/export?format=pdf", analyst_).status, 400);
}

TEST_F(ApiTest, IngestIsRateLimitedPerToken) {
  Config c;
  c.server.ingest_rate = 1;
  c.server.ingest_burst = 2;
  start(c);
  // A body of three events puts the 2-event bucket one event in debt.
  EXPECT_EQ(call("POST", "/v1/events", ingest_, "[" + gunshot("r1") + "," + gunshot("r2") + "," + gunshot("r5") + "]").status, 200);
  auto r = call("POST", "/v1/events", ingest_, gunshot("r3"));
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_FALSE(r.header("retry-after").empty());
  EXPECT_EQ(call("POST", "/v1/events", admin_, gunshot("r4")).status, 200) << "other tokens are not held back";
}

TEST_F(ApiTest, AdminsCreateTokensThatWorkAtOnce) {
  start();
  auto r = call("POST", "/v1/tokens", admin_, R"({"name":"desk-2","role":"analyst"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string token = json::parse(r.body)["token"];
  EXPECT_EQ(get_json("/v1/whoami", token)["name"], "desk-2");
  EXPECT_EQ(call("POST", "/v1/tokens", admin_, R"({"name":"desk-2","role":"analyst"})").status, 409);
  EXPECT_EQ(read(tokens_file_).find(token), std::string::npos) << "only the hash is stored";
  EXPECT_NO_THROW((void)TokenStore::load(tokens_file_));
  EXPECT_TRUE(TokenStore::load(tokens_file_).find(token).has_value());
}

TEST_F(ApiTest, AdminsReadTheEffectiveConfigBesideTheDefaults) {
  Config c;
  c.thresholds.ml_anomaly = 0.8;
  start(c);
  const json cfg = get_json("/v1/config", admin_);
  std::map<std::string, json> by_key;
  for (const json& k : cfg["keys"]) by_key[k["key"]] = k;
  ASSERT_TRUE(by_key.contains("thresholds.ml_anomaly"));
  EXPECT_EQ(by_key["thresholds.ml_anomaly"]["value"], "0.8");
  EXPECT_EQ(by_key["thresholds.ml_anomaly"]["changed"], true);
  EXPECT_EQ(by_key["dedup.window"]["changed"], false);
  EXPECT_EQ(call("GET", "/v1/config", analyst_).status, 403);
}

// ---- the OpenAPI document is kept true --------------------------------------

/// Checks `v` against an OpenAPI 3.0 schema subset (type, nullable, enum,
/// required, properties, items, $ref); returns the first mismatch or "".
std::string check_schema(const json& doc, const json& schema, const json& v, const std::string& at) {
  if (schema.contains("$ref")) {
    const std::string ref = schema["$ref"];
    const std::string name = ref.substr(ref.rfind('/') + 1);
    return check_schema(doc, doc["components"]["schemas"][name], v, at);
  }
  if (v.is_null()) return schema.value("nullable", false) || !schema.contains("type") ? "" : at + ": null not allowed";
  if (schema.contains("type")) {
    const std::string t = schema["type"];
    const bool ok = (t == "object" && v.is_object()) || (t == "array" && v.is_array()) ||
                    (t == "string" && v.is_string()) || (t == "boolean" && v.is_boolean()) ||
                    (t == "integer" && v.is_number_integer()) || (t == "number" && v.is_number());
    if (!ok) return at + ": expected " + t + ", got " + v.dump().substr(0, 80);
  }
  if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end()) {
    return at + ": " + v.dump() + " is not in the enum";
  }
  if (v.is_object()) {
    if (schema.contains("required")) {
      for (const json& r : schema["required"]) {
        if (!v.contains(r.get<std::string>())) return at + ": missing required " + r.get<std::string>();
      }
    }
    if (schema.contains("properties")) {
      for (const auto& [k, sub] : schema["properties"].items()) {
        if (v.contains(k)) {
          if (std::string e = check_schema(doc, sub, v[k], at + "." + k); !e.empty()) return e;
        }
      }
    }
  }
  if (v.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::string e = check_schema(doc, schema["items"], v[i], at + "[" + std::to_string(i) + "]"); !e.empty()) return e;
    }
  }
  return "";
}

TEST_F(ApiTest, OpenApiDocumentListsEveryRouteAndDescribesTheAnswers) {
  start();
  const json doc = json::parse(openapi_document());
  EXPECT_EQ(json::parse(call("GET", "/v1/openapi.json", "").body), doc);
  // Every registered route is documented, and every documented one registered.
  std::set<std::pair<std::string, std::string>> registered;
  for (auto [method, path] : service_->routes()) {
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    registered.emplace(method, path);
  }
  EXPECT_EQ(registered, documented_routes(doc, /*intel=*/false));

  // Real answers match their documented schemas.
  ASSERT_EQ(call("POST", "/v1/events", ingest_, gunshot("o1")).status, 200);
  const std::string id = wait_for_alerts(1)["alerts"][0]["alert_id"];
  (void)call("POST", "/v1/alerts/" + id + "/ack", analyst_);
  struct Probe {
    std::string method, target, doc_path, token, body;
  };
  const std::vector<Probe> probes = {
      {"GET", "/v1/alerts?limit=10", "/v1/alerts", analyst_, ""},
      {"GET", "/v1/alerts/" + id, "/v1/alerts/{id}", analyst_, ""},
      {"GET", "/v1/alerts/nope", "/v1/alerts/{id}", analyst_, ""},
      {"POST", "/v1/alerts/" + id + "/ack", "/v1/alerts/{id}/ack", analyst_, ""},
      {"POST", "/v1/alerts/" + id + "/feedback", "/v1/alerts/{id}/feedback", analyst_, R"({"verdict":"false_positive"})"},
      {"POST", "/v1/alerts/" + id + "/feedback", "/v1/alerts/{id}/feedback", analyst_, R"({"verdict":1})"},
      {"GET", "/v1/alerts/" + id + "/audit", "/v1/alerts/{id}/audit", analyst_, ""},
      {"GET", "/v1/stats", "/v1/stats", analyst_, ""},
      {"GET", "/v1/map", "/v1/map", analyst_, ""},
      {"GET", "/v1/whoami", "/v1/whoami", analyst_, ""},
      {"GET", "/v1/config", "/v1/config", admin_, ""},
      {"GET", "/v1/config", "/v1/config", analyst_, ""},
      {"GET", "/v1/windows/global", "/v1/windows/global", analyst_, ""},
      {"POST", "/v1/events", "/v1/events", ingest_, gunshot("o2")},
      {"POST", "/v1/events", "/v1/events", ingest_, R"({"id":1})"},
      {"POST", "/v1/tokens", "/v1/tokens", admin_, R"({"name":"n1","role":"ingest"})"},
      {"GET", "/v1/stats", "/v1/stats", "", ""},
      {"GET", "/v1/stats", "/v1/stats", ingest_, ""},
      {"GET", "/healthz", "/healthz", "", ""},
      {"GET", "/readyz", "/readyz", "", ""},
  };
  for (const Probe& p : probes) {
    const net::HttpResponse r = call(p.method, p.target, p.token, p.body);
    std::string method = p.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    const json& op = doc["paths"][p.doc_path][method];
    const std::string status = std::to_string(r.status);
    ASSERT_TRUE(op["responses"].contains(status)) << p.method << " " << p.target << " answered " << r.status
                                                  << ", which the document does not list: " << r.body;
    const json& resp = op["responses"][status];
    if (!resp.contains("content") || !resp["content"].contains("application/json")) continue;
    const json body = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << p.target << ": not JSON: " << r.body;
    const std::string e = check_schema(doc, resp["content"]["application/json"]["schema"], body, p.target);
    EXPECT_EQ(e, "") << r.body.substr(0, 400);
  }
}

TEST_F(ApiTest, IntelRoutesCurateAnArticleIntoAnIncidentAsDocumented) {
  Config config;
  config.city.time_zone = "America/Chicago";
  config.intel.enabled = true;
  config.intel.database = (dir_ / "intel.db").string();
  config.intel.gazetteer = {std::string(SENTINEL_SOURCE_DIR) + "/examples/intel/gazetteer/chicago_community_areas.tsv",
                            std::string(SENTINEL_SOURCE_DIR) + "/examples/intel/gazetteer/chicago_streets.tsv"};
  config.intel.home_regions = {"CHICAGO"};
  config.intel.enrich_min_chars = 0;
  start(config);
  const json doc = json::parse(openapi_document());
  std::set<std::pair<std::string, std::string>> registered;
  for (auto [method, path] : service_->routes()) {
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    registered.emplace(method, path);
  }
  EXPECT_EQ(registered, documented_routes(doc, /*intel=*/true));

  // Every answer below is checked against the document.
  auto checked = [&](const std::string& method, const std::string& target, const std::string& doc_path,
                     const std::string& token, const std::string& body = "") {
    const net::HttpResponse r = call(method, target, token, body);
    std::string m = method;
    std::transform(m.begin(), m.end(), m.begin(), ::tolower);
    const json& op = doc["paths"][doc_path][m];
    const std::string status = std::to_string(r.status);
    EXPECT_TRUE(op["responses"].contains(status)) << method << " " << target << " answered " << r.status << ": " << r.body;
    json parsed = json::parse(r.body, nullptr, false);
    if (op["responses"].contains(status) && op["responses"][status].contains("content")) {
      EXPECT_FALSE(parsed.is_discarded()) << target << ": " << r.body;
      EXPECT_EQ(check_schema(doc, op["responses"][status]["content"]["application/json"]["schema"], parsed, target), "");
    }
    return std::make_pair(r.status, parsed);
  };

  // Everything to review, so a curator decides.
  auto triage = checked("PUT", "/v1/intel/triage", "/v1/intel/triage", admin_,
                        R"({"settings":{"approve":1.0,"reject":0.0}})");
  ASSERT_EQ(triage.first, 200);
  EXPECT_EQ(triage.second["version"], 2);
  EXPECT_EQ(checked("PUT", "/v1/intel/triage", "/v1/intel/triage", admin_, R"({"settings":{"approve":0.2,"reject":0.9}})").first, 400);
  EXPECT_EQ(checked("PUT", "/v1/intel/triage", "/v1/intel/triage", curator_, R"({"settings":{}})").first, 403);

  const std::string article = R"({"url":"https://news.example/a/1?utm_source=x","title":"Man wounded in Englewood shooting",)"
      R"("text":"A 24-year-old man was shot and wounded Tuesday night in the 1300 block of West 63rd Street in Englewood, police said. )"
      R"(A gunman in a passing car opened fire. No arrests were made.","published":1772636400000})";
  auto submitted = checked("POST", "/v1/intel/articles", "/v1/intel/articles", curator_, article);
  ASSERT_EQ(submitted.first, 202);
  EXPECT_EQ(checked("POST", "/v1/intel/articles", "/v1/intel/articles", curator_, article).second["duplicate"], "canonical_url");
  EXPECT_EQ(checked("POST", "/v1/intel/articles", "/v1/intel/articles", curator_, R"({"url":"ftp://x","title":"t","text":"x"})").first, 400);

  json queue;
  for (int i = 0; i < 500; ++i) {
    queue = checked("GET", "/v1/intel/curation", "/v1/intel/curation", curator_).second;
    if (queue["total"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(queue["total"], 1) << queue.dump();
  const json& item = queue["items"][0];
  EXPECT_EQ(item["extraction"]["fields"]["type"], "shooting");
  EXPECT_EQ(item["extraction"]["triage"]["outcome"], "review");
  const std::string item_path = "/v1/intel/curation/" + std::to_string(item["id"].get<int64_t>());
  EXPECT_EQ(checked("GET", "/v1/intel/curation", "/v1/intel/curation", analyst_).first, 403);
  EXPECT_EQ(checked("GET", item_path, "/v1/intel/curation/{id}", curator_).first, 200);
  EXPECT_EQ(checked("GET", "/v1/intel/curation/999", "/v1/intel/curation/{id}", curator_).first, 404);
  EXPECT_EQ(checked("POST", item_path + "/correct", "/v1/intel/curation/{id}/correct", curator_,
                    R"({"field":"place","value":"W 63rd St & S Loomis Blvd"})").first, 200);
  EXPECT_EQ(checked("POST", item_path + "/reject", "/v1/intel/curation/{id}/reject", curator_, R"({"reason":""})").first, 400);
  EXPECT_EQ(checked("POST", item_path + "/approve", "/v1/intel/curation/{id}/approve", curator_,
                    R"({"corrections":{"type":"no_such_type"}})").first, 400);
  auto approved = checked("POST", item_path + "/approve", "/v1/intel/curation/{id}/approve", curator_,
                          R"({"corrections":{"district":"West Englewood","actors":[{"role":"victim","description":"man, 24"}]},"note":"ok"})");
  ASSERT_EQ(approved.first, 200);
  EXPECT_EQ(approved.second["item"]["state"], "approved");
  EXPECT_EQ(approved.second["incident"]["district"], "West Englewood");
  EXPECT_EQ(checked("POST", item_path + "/reject", "/v1/intel/curation/{id}/reject", curator_, R"({"reason":"late"})").first, 409);

  const int64_t incident = approved.second["incident"]["id"];
  auto list = checked("GET", "/v1/intel/incidents?type=shooting&status=open", "/v1/intel/incidents", analyst_);
  ASSERT_EQ(list.first, 200);
  EXPECT_EQ(list.second["total"], 1);
  EXPECT_EQ(list.second["by_type"][0][0], "shooting");
  EXPECT_EQ(checked("GET", "/v1/intel/incidents?from=x", "/v1/intel/incidents", analyst_).first, 400);
  const std::string incident_path = "/v1/intel/incidents/" + std::to_string(incident);
  EXPECT_EQ(checked("GET", incident_path, "/v1/intel/incidents/{id}", analyst_).second["sources"].size(), 1u);
  EXPECT_EQ(checked("POST", incident_path + "/status", "/v1/intel/incidents/{id}/status", analyst_,
                    R"({"status":"closed","reason":"done"})").first, 403);
  auto closed = checked("POST", incident_path + "/status", "/v1/intel/incidents/{id}/status", curator_,
                        R"({"status":"closed","reason":"suspect charged"})");
  ASSERT_EQ(closed.first, 200);
  EXPECT_EQ(closed.second["status"], "closed");

  // Feeds: added (fetched at once: nothing listens there, so it fails and says so), paused.
  auto feed = checked("POST", "/v1/intel/feeds", "/v1/intel/feeds", admin_,
                      R"({"url":"http://127.0.0.1:9/feed.xml","title":"Nowhere","schedule_s":3600})");
  ASSERT_EQ(feed.first, 201);
  EXPECT_EQ(checked("POST", "/v1/intel/feeds", "/v1/intel/feeds", admin_, R"({"url":"http://127.0.0.1:9/feed.xml"})").first, 409);
  EXPECT_EQ(checked("POST", "/v1/intel/feeds", "/v1/intel/feeds", curator_, R"({"url":"http://x/"})").first, 403);
  const std::string feed_path = "/v1/intel/feeds/" + std::to_string(feed.second["id"].get<int64_t>());
  EXPECT_EQ(checked("POST", feed_path + "/status", "/v1/intel/feeds/{id}/status", admin_, R"({"status":"paused"})").second["status"], "paused");
  EXPECT_EQ(checked("POST", feed_path + "/fetch", "/v1/intel/feeds/{id}/fetch", admin_).first, 202);
  EXPECT_EQ(checked("GET", "/v1/intel/feeds", "/v1/intel/feeds", analyst_).second["feeds"].size(), 1u);
  EXPECT_EQ(checked("GET", "/v1/intel/triage", "/v1/intel/triage", analyst_).second["version"], 2);
  auto jobs = checked("GET", "/v1/intel/jobs", "/v1/intel/jobs", analyst_);
  EXPECT_EQ(jobs.second["queues"].size(), 3u);
  EXPECT_EQ(checked("GET", "/v1/intel/jobs?queue=nope", "/v1/intel/jobs", analyst_).first, 400);
  const std::string metrics = call("GET", "/metrics", analyst_).body;
  EXPECT_NE(metrics.find("sentinel_intel_platform_events_total 1"), std::string::npos);

  // The curator's decisions are in the signed access log, under the token's name.
  service_->stop();
  const std::string text = read(access_log());
  EXPECT_NE(text.find(R"("decision":"curation")"), std::string::npos);
  EXPECT_NE(text.find(R"("decision":"settings_change")"), std::string::npos);
  EXPECT_EQ(text.find(curator_), std::string::npos);
  const VerifyResult v = verify_audit_log(access_log(), load_public_key(keys_.public_path));
  EXPECT_TRUE(v.ok) << v.to_string();
}

}  // namespace api_test
}  // namespace sentinel
