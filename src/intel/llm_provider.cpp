#include "intel/llm_provider.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <thread>

#include "core/time.h"
#include "intel/feed_dates.h"
#include "intel/feed_encoding.h"
#include "intel/curl_transfer.h"
#include "intel/feed_text.h"
#include "intel/llm_answer.h"
#include "intel/llm_schema.h"
#include "intel/intel_log.h"

namespace sentinel::intel {

namespace {

using nlohmann::json;


// 408 Request Timeout, 429 Too Many Requests, 5xx (Anthropic's 529
// "overloaded" included): the service may answer later.
bool transient_status(long status) { return status == 408 || status == 429 || status >= 500; }

// The message of an API error body ({"error":{"type":..,"message":..}} in
// both APIs), cut to a line; "" when the body has none.
std::string api_error_message(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "";
  auto e = j.find("error");
  if (e == j.end()) return "";
  std::string out;
  if (e->is_object()) {
    if (auto t = e->find("type"); t != e->end() && t->is_string()) out = t->get<std::string>();
    if (auto m = e->find("message"); m != e->end() && m->is_string()) {
      out += (out.empty() ? "" : ": ") + m->get<std::string>();
    }
  } else if (e->is_string()) {
    out = e->get<std::string>();
  }
  if (out.size() > 200) out = out.substr(0, 200) + "...";
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

std::string seconds_text(std::chrono::milliseconds d) {
  return std::to_string((d.count() + 999) / 1000) + " s";
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string extraction_system_prompt() {
  static const std::string prompt =
      "You extract incident reports from news articles for Sentinel, a public-safety monitoring "
      "system. Read the article and answer with exactly one JSON object and nothing else (no prose, "
      "no Markdown), conforming to this JSON Schema:\n" +
      extraction_schema().dump() +
      "\nRules:\n"
      "- type: the main incident the article reports, from the schema's list; \"none\" when the "
      "article reports no incident (opinion, statistics, policy, an old case only mentioned).\n"
      "- time: when the incident happened, as YYYY-MM-DD or YYYY-MM-DDTHH:MM in the place's local "
      "time; resolve relative dates (\"yesterday\", \"on Tuesday\") against the publication time; "
      "null when the article does not say.\n"
      "- place: the most specific place the article names for the incident, as written (street and "
      "block, neighbourhood, city, country); null when none. Do not invent coordinates.\n"
      "- actors: people and groups in the incident with their role; describe them without adding "
      "facts (\"a 17-year-old man\", \"Chicago police\").\n"
      "- perpetrator_org: the organisation held responsible, or null.\n"
      "- targets: what the incident was aimed at or hit (physical things or people).\n"
      "- confidence: 0 to 1, how sure you are that this is a factual, specific, recent incident "
      "report with the values above.\n"
      "- evidence: the sentence that shows the incident type (optional).";
  return prompt;
}

std::string article_prompt(const ArticleText& article, size_t max_bytes) {
  std::string out = "Title: ";
  out += article.title;
  out += "\nPublished: ";
  out += article.published_ms != 0 ? format_rfc3339(event_time_from_ms(article.published_ms)) : "unknown";
  if (!article.url.empty()) {
    out += "\nURL: ";
    out += article.url;
  }
  out += "\n\nText:\n";
  std::string_view text = utf8_prefix(article.text, max_bytes);
  out += text;
  if (text.size() < article.text.size()) out += "\n[text cut]";
  return out;
}

LlmProvider::LlmProvider(LlmProviderOptions options, LlmDependencies deps, std::string_view default_base_url)
    : options_(std::move(options)),
      deps_(std::move(deps)),
      name_(options_.name.empty() ? options_.kind : options_.name),
      base_url_(strip_slash(options_.base_url.empty() ? std::string(default_base_url) : options_.base_url)),
      breaker_(options_.breaker, deps_.clock) {
  if (options_.model.empty()) throw std::invalid_argument("llm.model: required");
  if (!feedtext::starts_with(base_url_, "http://") && !feedtext::starts_with(base_url_, "https://")) {
    throw std::invalid_argument("llm.base_url: must start with http:// or https://");
  }
  if (options_.connect_timeout.count() <= 0 || options_.timeout.count() <= 0) {
    throw std::invalid_argument("llm.timeout: connect and total timeouts must be positive");
  }
  if (options_.max_answer_bytes == 0) throw std::invalid_argument("llm.max_answer_bytes: must be positive");
  if (options_.max_tokens <= 0) throw std::invalid_argument("llm.max_tokens: must be positive");
  if (!options_.api_key_env.empty()) {
    const char* key = std::getenv(options_.api_key_env.c_str());
    if (key == nullptr || *key == '\0') {
      throw std::invalid_argument("llm.api_key_env: environment variable " + options_.api_key_env +
                                  " is not set");
    }
    api_key_ = key;
  }
  if (!deps_.sleeper) deps_.sleeper = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  curl::init_once();
}

LlmProvider::~LlmProvider() = default;

Error LlmProvider::scrub(Error e) const {
  if (!api_key_.empty()) e.reason = feedtext::replace_all(std::move(e.reason), api_key_, "[redacted]");
  return e;
}

Result<std::string> LlmProvider::call_once(const HttpCall& call, long* status_out,
                                           std::chrono::milliseconds* retry) const {
  const std::string prefix = name_ + ": ";
  curl::Easy curl(curl_easy_init());
  if (!curl) return make_error(std::string(kExtractTransient), prefix + "cannot create an HTTP client handle");
  curl::Transfer transfer;
  transfer.max_bytes = options_.max_answer_bytes;
  curl_slist* raw = nullptr;
  raw = curl_slist_append(raw, "Content-Type: application/json");
  raw = curl_slist_append(raw, "Accept: application/json");
  raw = curl_slist_append(raw, "Expect:");  // no 100-continue round trip
  for (const auto& h : call.headers) raw = curl_slist_append(raw, h.c_str());
  curl::Slist headers(raw);
  const std::string url = base_url_ + call.path;

  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // an API does not redirect a POST
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, call.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_answer_bytes));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl::on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, curl::on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);

  CURLcode code = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  *status_out = status;
  if (code != CURLE_OK) {
    if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      return make_error(std::string(kExtractPermanent),
                        prefix + "response larger than " + std::to_string(options_.max_answer_bytes) + " bytes");
    }
    // curl_easy_strerror, not the error buffer: the buffer can quote the URL.
    return make_error(std::string(curl::is_transient(code) ? kExtractTransient : kExtractPermanent),
                      prefix + curl_easy_strerror(code));
  }
  if (status >= 200 && status < 300) return std::move(transfer.body);
  std::string reason = prefix + "HTTP " + std::to_string(status);
  if (std::string m = api_error_message(transfer.body); !m.empty()) reason += " (" + m + ")";
  if (status == 429 || status == 503 || status == 529) {
    if (auto after = curl::retry_after(transfer.headers)) {
      *retry = *after;
      reason += ", retry after " + seconds_text(*after);
    }
  }
  return make_error(std::string(transient_status(status) ? kExtractTransient : kExtractPermanent), reason);
}

Result<std::string> LlmProvider::complete(std::string_view system, std::string_view user) {
  if (!breaker_.allow()) {
    return make_error(std::string(kExtractCircuitOpen),
                      name_ + ": circuit open, retry in " + seconds_text(breaker_.retry_in()));
  }
  const HttpCall call = build_call(system, user);
  std::chrono::milliseconds retry{-1};
  long status = 0;
  Result<std::string> body = call_once(call, &status, &retry);
  // A short Retry-After on 429 is waited out once, inside the same permit.
  if (!body.ok() && status == 429 && retry.count() >= 0 && retry <= options_.retry_after_cap) {
    intel_log()->info("{}: rate limited, retrying after {} ms", name_, retry.count());
    deps_.sleeper(retry);
    retry = std::chrono::milliseconds{-1};
    body = call_once(call, &status, &retry);
  }
  if (!body.ok()) {
    if (body.error().field == kExtractTransient) {
      breaker_.record_failure();
    } else {
      breaker_.record_success();
    }
    Error e = scrub(body.error());
    intel_log()->warn("llm provider {}", e.reason);
    return e;
  }
  breaker_.record_success();
  Result<std::string> text = answer_text(*body);
  if (!text.ok()) return scrub(text.error());
  return text;
}

Result<JsonAnswer> LlmProvider::complete_json(std::string_view system, std::string_view user,
                                              const nlohmann::json& schema) {
  Result<std::string> text = complete(system, user);
  if (!text.ok()) return text.error();
  Result<json> answer = parse_model_answer(*text, schema);
  if (!answer.ok()) {
    Error e{answer.error().field, name_ + ": " + answer.error().reason};
    intel_log()->warn("llm provider {}", e.reason);
    return scrub(std::move(e));
  }
  return JsonAnswer{answer->dump(), name_, {}};
}

Result<Extraction> LlmProvider::extract(const ArticleText& article) {
  if (feedtext::is_blank(article.text) && feedtext::is_blank(article.title)) {
    return make_error(std::string(kExtractPermanent), name_ + ": the article has no text");
  }
  Result<std::string> text =
      complete(extraction_system_prompt(), article_prompt(article, options_.max_article_bytes));
  if (!text.ok()) return text.error();
  Result<json> answer = parse_model_answer(*text, extraction_schema());
  if (!answer.ok()) {
    Error e{answer.error().field, name_ + ": " + answer.error().reason};
    intel_log()->warn("llm provider {}", e.reason);
    return scrub(std::move(e));
  }
  AnswerContext context{deps_.gazetteer.get(), article.published_ms, deps_.utc_offset_minutes};
  return extraction_from_answer(*answer, context, name_);
}

// ---- Anthropic ---------------------------------------------------------------

AnthropicProvider::AnthropicProvider(LlmProviderOptions options, LlmDependencies deps)
    : LlmProvider(std::move(options), std::move(deps), "https://api.anthropic.com") {
  if (api_key().empty()) throw std::invalid_argument("llm.api_key_env: required for anthropic");
}

LlmProvider::HttpCall AnthropicProvider::build_call(std::string_view system, std::string_view user) const {
  json body = {{"model", options().model},
               {"max_tokens", options().max_tokens},
               {"temperature", 0},
               {"system", std::string(system)},
               {"messages", json::array({json{{"role", "user"}, {"content", std::string(user)}}})}};
  return HttpCall{"/v1/messages",
                  {"x-api-key: " + api_key(), "anthropic-version: 2023-06-01"},
                  body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

Result<std::string> AnthropicProvider::answer_text(std::string_view response_body) const {
  const std::string prefix = std::string(name()) + ": ";
  json j = json::parse(response_body.begin(), response_body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(std::string(kExtractPermanent), prefix + "response is not a JSON object");
  }
  auto content = j.find("content");
  if (content == j.end() || !content->is_array() || content->empty() || !(*content)[0].is_object()) {
    return make_error(std::string(kExtractPermanent), prefix + "response has no content");
  }
  const json& first = (*content)[0];
  auto text = first.find("text");
  if (first.value("type", "") != "text" || text == first.end() || !text->is_string()) {
    return make_error(std::string(kExtractPermanent), prefix + "content[0] is not text");
  }
  if (j.value("stop_reason", "") == "max_tokens") {
    return make_error(std::string(kExtractPermanent), prefix + "answer cut at max_tokens");
  }
  return text->get<std::string>();
}

// ---- OpenAI-compatible -----------------------------------------------------

OpenAiCompatibleProvider::OpenAiCompatibleProvider(LlmProviderOptions options, LlmDependencies deps)
    : LlmProvider(std::move(options), std::move(deps), "http://127.0.0.1:11434") {}

LlmProvider::HttpCall OpenAiCompatibleProvider::build_call(std::string_view system,
                                                           std::string_view user) const {
  json body = {{"model", options().model},
               {"messages", json::array({json{{"role", "system"}, {"content", std::string(system)}},
                                         json{{"role", "user"}, {"content", std::string(user)}}})},
               {"response_format", {{"type", "json_object"}}},
               {"temperature", 0}};
  HttpCall call{"/v1/chat/completions", {}, body.dump(-1, ' ', false, json::error_handler_t::replace)};
  if (!api_key().empty()) call.headers.push_back("Authorization: Bearer " + api_key());
  return call;
}

Result<std::string> OpenAiCompatibleProvider::answer_text(std::string_view response_body) const {
  const std::string prefix = std::string(name()) + ": ";
  json j = json::parse(response_body.begin(), response_body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(std::string(kExtractPermanent), prefix + "response is not a JSON object");
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
    return make_error(std::string(kExtractPermanent), prefix + "response has no choices");
  }
  const json& choice = (*choices)[0];
  auto message = choice.find("message");
  if (message == choice.end() || !message->is_object()) {
    return make_error(std::string(kExtractPermanent), prefix + "choices[0] has no message");
  }
  auto content = message->find("content");
  if (content == message->end() || !content->is_string()) {
    return make_error(std::string(kExtractPermanent), prefix + "choices[0].message has no text content");
  }
  if (choice.contains("finish_reason") && choice["finish_reason"] == "length") {
    return make_error(std::string(kExtractPermanent), prefix + "answer cut at the token limit");
  }
  return content->get<std::string>();
}

std::unique_ptr<LlmProvider> make_llm_provider(const LlmProviderOptions& options, LlmDependencies deps) {
  if (options.kind == "anthropic") return std::make_unique<AnthropicProvider>(options, std::move(deps));
  if (options.kind == "openai") return std::make_unique<OpenAiCompatibleProvider>(options, std::move(deps));
  throw std::invalid_argument("llm.kind: unknown provider kind \"" + options.kind +
                              "\" (expected anthropic or openai)");
}

}  // namespace sentinel::intel
