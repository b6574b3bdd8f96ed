// A local stand-in for the Anthropic Messages API and OpenAI-compatible chat
// completions, on net::HttpServer (port 0): answers come from a script (a
// queue of replies, then a responder function), and every request is
// recorded for the tests to inspect. Shared by the llm_*_test.cpp files.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "net/http_server.h"

namespace sentinel::intel::testing {

struct Reply {
  int status = 200;
  std::string body;
  net::HttpHeaders headers;
  std::chrono::milliseconds delay{0};  ///< wait before answering (released at teardown)
  std::string content_type = "application/json";
};

struct Recorded {
  std::string path;
  net::HttpHeaders headers;
  std::string body;

  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

/// A 200 answer in the Anthropic Messages shape whose text is `text`.
inline Reply anthropic_reply(const std::string& text) {
  nlohmann::json j = {{"id", "msg_test"},
                      {"type", "message"},
                      {"role", "assistant"},
                      {"model", "claude-test"},
                      {"content", nlohmann::json::array({{{"type", "text"}, {"text", text}}})},
                      {"stop_reason", "end_turn"}};
  return Reply{200, j.dump(), {}, {}};
}

/// A 200 answer in the chat-completions shape whose content is `text`.
inline Reply openai_reply(const std::string& text) {
  nlohmann::json j = {
      {"id", "chatcmpl-test"},
      {"object", "chat.completion"},
      {"choices", nlohmann::json::array({{{"index", 0},
                                          {"message", {{"role", "assistant"}, {"content", text}}},
                                          {"finish_reason", "stop"}}})}};
  return Reply{200, j.dump(), {}, {}};
}

/// An API error body as both APIs write it.
inline Reply error_reply(int status, const std::string& type, const std::string& message) {
  nlohmann::json j = {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}};
  return Reply{status, j.dump(), {}, {}};
}

class FakeLlmServer {
 public:
  using Responder = std::function<Reply(const Recorded&)>;

  FakeLlmServer() {
    net::HttpServerOptions options;
    options.threads = 4;
    server_ = std::make_unique<net::HttpServer>(options);
    released_ = release_.get_future().share();
    for (const char* path : {"/v1/messages", "/v1/chat/completions"}) {
      server_->route("POST", path, [this](net::HttpRequest& req) { return handle(req); });
    }
    server_->start();
  }
  ~FakeLlmServer() { stop(); }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    release_.set_value();
    server_->stop();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  uint16_t port() const { return server_->port(); }

  /// Replies used in order, one per request; after them, the responder.
  void push(Reply r) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(r));
  }
  void respond(Responder f) {
    std::lock_guard lock(mu_);
    responder_ = std::move(f);
  }
  std::vector<Recorded> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

 private:
  net::HttpResponse handle(net::HttpRequest& req) {
    Recorded rec{req.path, req.headers, req.body};
    Reply reply;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(rec);
      if (!script_.empty()) {
        reply = std::move(script_.front());
        script_.pop_front();
      } else if (responder_) {
        reply = responder_(rec);
      } else {
        reply = error_reply(500, "api_error", "no scripted reply");
      }
    }
    if (reply.delay.count() > 0) released_.wait_for(reply.delay);
    net::HttpResponse resp;
    resp.status = reply.status;
    resp.body = std::move(reply.body);
    resp.content_type = reply.content_type;
    resp.headers = std::move(reply.headers);
    return resp;
  }

  std::unique_ptr<net::HttpServer> server_;
  std::promise<void> release_;
  std::shared_future<void> released_;
  bool stopped_ = false;
  mutable std::mutex mu_;
  std::deque<Reply> script_;
  Responder responder_;
  std::vector<Recorded> requests_;
};

}  // namespace sentinel::intel::testing
