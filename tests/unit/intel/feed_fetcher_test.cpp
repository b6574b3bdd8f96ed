// FeedFetcher against a local HTTP server on an ephemeral port: conditional
// GET, redirects, size limit, timeouts and retries with backoff. Waits
// between attempts go to a recording sleeper, so no test sleeps.
#include "intel/feed_fetcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "net/http_server.h"

namespace sentinel::intel {
namespace feed_fetcher_test {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kFeed[] = "<rss version=\"2.0\"><channel><title>t</title></channel></rss>";

class FeedFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net::HttpServerOptions options;
    options.threads = 4;
    server_ = std::make_unique<net::HttpServer>(options);
  }

  void TearDown() override {
    release_.set_value();
    server_->stop();
  }

  void start() {
    server_->start();
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  FeedFetcher fetcher(FetchOptions options = {}) {
    options.connect_timeout = 5s;
    if (options.timeout == FetchOptions{}.timeout) options.timeout = 10s;
    return FeedFetcher(options, [this](std::chrono::milliseconds d) {
      std::lock_guard lock(mu_);
      sleeps_.push_back(d);
    });
  }

  std::vector<std::chrono::milliseconds> sleeps() {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

  std::unique_ptr<net::HttpServer> server_;
  std::string base_;
  std::promise<void> release_;  // lets blocked handlers finish at teardown
  std::mutex mu_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

TEST_F(FeedFetcherTest, ConditionalGetWithEtagAndLastModified) {
  std::atomic<int> full{0}, not_modified{0};
  std::string seen_inm, seen_ims;
  std::mutex seen_mu;
  server_->route("GET", "/feed", [&](net::HttpRequest& req) {
    {
      std::lock_guard lock(seen_mu);
      seen_inm = std::string(req.header("if-none-match"));
      seen_ims = std::string(req.header("if-modified-since"));
    }
    net::HttpResponse r;
    if (req.header("if-none-match") == "\"v1\"") {
      ++not_modified;
      r.status = 304;
      return r;
    }
    ++full;
    r.content_type = "application/rss+xml";
    r.body = kFeed;
    r.headers = {{"ETag", "\"v1\""}, {"Last-Modified", "Thu, 01 Jan 2004 19:48:21 GMT"}};
    return r;
  });
  start();
  FeedFetcher f = fetcher();

  FetchResult first = f.fetch(base_ + "/feed");
  ASSERT_TRUE(first.ok()) << first.error;
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, kFeed);
  EXPECT_EQ(first.validators.etag, "\"v1\"");
  EXPECT_EQ(first.validators.last_modified, "Thu, 01 Jan 2004 19:48:21 GMT");
  const std::string* ct = find_header(first.headers, "content-type");
  ASSERT_NE(ct, nullptr);
  EXPECT_THAT(*ct, HasSubstr("application/rss+xml"));
  EXPECT_EQ(first.attempts, 1);

  FetchResult second = f.fetch(base_ + "/feed", first.validators);
  ASSERT_TRUE(second.ok()) << second.error;
  EXPECT_TRUE(second.not_modified());
  EXPECT_EQ(second.body, "");
  EXPECT_EQ(second.validators.etag, "\"v1\"");  // kept for the next fetch
  EXPECT_EQ(full.load(), 1);
  EXPECT_EQ(not_modified.load(), 1);
  std::lock_guard lock(seen_mu);
  EXPECT_EQ(seen_inm, "\"v1\"");
  EXPECT_EQ(seen_ims, "Thu, 01 Jan 2004 19:48:21 GMT");
}

TEST_F(FeedFetcherTest, FollowsRedirectsUpToTheLimit) {
  server_->route("GET", "/old", [](net::HttpRequest&) {
    net::HttpResponse r;
    r.status = 301;
    r.headers = {{"Location", "/new"}};
    return r;
  });
  server_->route("GET", "/new", [](net::HttpRequest&) {
    net::HttpResponse r;
    r.content_type = "text/xml";
    r.body = kFeed;
    return r;
  });
  server_->route("GET", "/loop", [](net::HttpRequest&) {
    net::HttpResponse r;
    r.status = 302;
    r.headers = {{"Location", "/loop"}};
    return r;
  });
  start();
  FeedFetcher f = fetcher();
  FetchResult moved = f.fetch(base_ + "/old");
  ASSERT_TRUE(moved.ok()) << moved.error;
  EXPECT_EQ(moved.status, 200);
  EXPECT_EQ(moved.effective_url, base_ + "/new");
  EXPECT_EQ(moved.body, kFeed);

  FetchResult loop = f.fetch(base_ + "/loop");
  EXPECT_FALSE(loop.ok());
  EXPECT_FALSE(loop.retryable);
  EXPECT_THAT(loop.error, HasSubstr("redirects"));
  EXPECT_EQ(loop.attempts, 1);
}

TEST_F(FeedFetcherTest, RetriesServerErrorsWithExponentialBackoff) {
  std::atomic<int> calls{0};
  server_->route("GET", "/flaky", [&](net::HttpRequest&) {
    net::HttpResponse r;
    if (++calls <= 2) {
      r.status = 503;
      r.body = "busy";
      return r;
    }
    r.content_type = "text/xml";
    r.body = kFeed;
    return r;
  });
  start();
  FetchOptions options;
  options.initial_backoff = 100ms;
  options.backoff_multiplier = 3.0;
  FetchResult r = fetcher(options).fetch(base_ + "/flaky");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_THAT(sleeps(), ElementsAre(100ms, 300ms));
}

TEST_F(FeedFetcherTest, HonoursRetryAfterOn429AndGivesUpAfterMaxAttempts) {
  std::atomic<int> calls{0};
  server_->route("GET", "/limited", [&](net::HttpRequest&) {
    ++calls;
    net::HttpResponse r;
    r.status = 429;
    r.headers = {{"Retry-After", "7"}};
    return r;
  });
  start();
  FetchOptions options;
  options.max_attempts = 3;
  options.max_backoff = 5s;  // caps the server's 7 s
  FetchResult r = fetcher(options).fetch(base_ + "/limited");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.retryable);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_THAT(sleeps(), ElementsAre(5000ms, 5000ms));
}

TEST_F(FeedFetcherTest, ClientErrorsAreNotRetried) {
  std::atomic<int> calls{0};
  server_->route("GET", "/gone", [&](net::HttpRequest&) {
    ++calls;
    net::HttpResponse r;
    r.status = 404;
    return r;
  });
  start();
  FetchResult r = fetcher().fetch(base_ + "/gone");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.retryable);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(sleeps().empty());
}

TEST_F(FeedFetcherTest, RefusesBodiesOverTheSizeLimit) {
  server_->route("GET", "/big", [](net::HttpRequest&) {
    net::HttpResponse r;
    r.content_type = "text/xml";
    r.body = std::string(64 * 1024, 'x');
    return r;
  });
  start();
  FetchOptions options;
  options.max_bytes = 16 * 1024;
  FetchResult r = fetcher(options).fetch(base_ + "/big");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.retryable);
  EXPECT_THAT(r.error, HasSubstr("larger than 16384 bytes"));
  EXPECT_EQ(r.attempts, 1);
}

TEST_F(FeedFetcherTest, TimeoutsAreRetriedThenReported) {
  std::shared_future<void> released = release_.get_future().share();
  std::atomic<int> calls{0};
  server_->route("GET", "/slow", [&, released](net::HttpRequest&) {
    ++calls;
    released.wait_for(10s);  // until the test ends; the client gives up first
    net::HttpResponse r;
    r.body = kFeed;
    return r;
  });
  start();
  FetchOptions options;
  options.timeout = 200ms;
  options.max_attempts = 2;
  options.initial_backoff = 50ms;
  FetchResult r = fetcher(options).fetch(base_ + "/slow");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.retryable);
  EXPECT_THAT(r.error, HasSubstr("imeout"));
  EXPECT_EQ(r.attempts, 2);
  EXPECT_THAT(sleeps(), ElementsAre(50ms));
}

TEST_F(FeedFetcherTest, ConnectionRefusedIsRetryable) {
  start();
  std::string url = base_ + "/feed";
  server_->stop();  // nothing listens on the port any more
  FetchOptions options;
  options.max_attempts = 2;
  FetchResult r = fetcher(options).fetch(url);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.retryable);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.attempts, 2);
}

TEST_F(FeedFetcherTest, OnlyHttpSchemes) {
  start();
  FetchResult r = fetcher().fetch("file:///etc/passwd");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.retryable);
}

}  // namespace feed_fetcher_test
}  // namespace sentinel::intel
