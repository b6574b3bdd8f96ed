// PageEnricher against a local HTTP server: a short article gets its page's
// main text; 404 is permanent; 503 then 200 is retried (recording sleeper);
// an oversize page and a non-HTML answer are refused.
#include "intel/page_enricher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "net/http_server.h"

namespace sentinel::intel {
namespace page_enricher_test {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const char* const kPage = R"(<html><head><title>Carjacking in Lincoln Park</title></head><body>
<nav><a href="/">Home</a></nav>
<article><p>A woman was carjacked at gunpoint in the 2200 block of North Clark Street on Friday evening, police said.</p>
<p>Two men approached her as she parked, took her keys and drove off in her SUV, which was later found in Humboldt Park.</p>
<p>No arrests had been made by Saturday morning, and area detectives were investigating the carjacking.</p></article>
<footer>Copyright</footer></body></html>)";

class PageEnricherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net::HttpServerOptions o;
    o.threads = 2;
    server_ = std::make_unique<net::HttpServer>(o);
  }
  void TearDown() override { server_->stop(); }
  void start() {
    server_->start();
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  PageEnricher enricher(size_t max_bytes = 1u << 20) {
    PageEnricherOptions o;
    o.fetch.max_bytes = max_bytes;
    o.fetch.timeout = 5s;
    return PageEnricher(o, [this](std::chrono::milliseconds d) {
      std::lock_guard lock(mu_);
      sleeps_.push_back(d);
    });
  }
  Article snippet(const std::string& path) {
    Article a;
    a.url = base_ + path;
    a.title = "Carjacking in Lincoln Park";
    a.text = "A woman was carjacked in Lincoln Park.";
    return a;
  }
  static net::HttpResponse html(std::string body) {
    net::HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::move(body);
    return r;
  }

  std::unique_ptr<net::HttpServer> server_;
  std::string base_;
  std::mutex mu_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

TEST_F(PageEnricherTest, ShortArticleGetsThePageText) {
  std::string accept;
  std::mutex m;
  server_->route("GET", "/story", [&](net::HttpRequest& req) {
    std::lock_guard lock(m);
    accept = std::string(req.header("accept"));
    return html(kPage);
  });
  start();
  Result<std::optional<EnrichedPage>> r = enricher().enrich(snippet("/story"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->has_value());
  const EnrichedPage& page = **r;
  EXPECT_THAT(page.text, HasSubstr("2200 block of North Clark Street"));
  EXPECT_THAT(page.text, HasSubstr("\n\nTwo men approached her"));
  EXPECT_THAT(page.text, ::testing::Not(HasSubstr("Copyright")));
  EXPECT_EQ(page.title, "Carjacking in Lincoln Park");
  EXPECT_EQ(page.effective_url, base_ + "/story");
  EXPECT_EQ(page.attempts, 1);
  std::lock_guard lock(m);
  EXPECT_THAT(accept, HasSubstr("text/html"));
}

TEST_F(PageEnricherTest, LongArticleIsNotFetched) {
  std::atomic<int> hits{0};
  server_->route("GET", "/story", [&](net::HttpRequest&) {
    ++hits;
    return html(kPage);
  });
  start();
  Article a = snippet("/story");
  a.text = std::string(500, 'x');
  PageEnricher e = enricher();
  EXPECT_FALSE(e.needs_enrichment(a));
  Result<std::optional<EnrichedPage>> r = e.enrich(a);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(hits.load(), 0);
  // 499 characters (multi-byte ones count once) is short.
  std::string text;
  for (int i = 0; i < 499; ++i) text += "\xC3\xA9";
  a.text = text;
  EXPECT_TRUE(e.needs_enrichment(a));
}

TEST_F(PageEnricherTest, PageNoLongerThanTheSnippetChangesNothing) {
  server_->route("GET", "/tiny", [](net::HttpRequest&) { return html("<html><body><p>Short.</p></body></html>"); });
  start();
  Result<std::optional<EnrichedPage>> r = enricher().enrich(snippet("/tiny"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(r->has_value());
}

TEST_F(PageEnricherTest, NotFoundIsPermanentWithoutRetries) {
  start();  // no route: 404
  Result<std::optional<EnrichedPage>> r = enricher().enrich(snippet("/gone"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kEnrichPermanent);
  EXPECT_FALSE(enrich_error_is_transient(r.error()));
  EXPECT_THAT(r.error().reason, HasSubstr("HTTP status 404"));
  EXPECT_THAT(r.error().reason, HasSubstr("after 1 attempt)"));
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(PageEnricherTest, UnavailableIsRetriedWithBackoff) {
  std::atomic<int> hits{0};
  server_->route("GET", "/story", [&](net::HttpRequest&) {
    if (++hits == 1) {
      net::HttpResponse r = net::make_json_error(503, "busy");
      return r;
    }
    return html(kPage);
  });
  start();
  Result<std::optional<EnrichedPage>> r = enricher().enrich(snippet("/story"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->attempts, 2);
  EXPECT_THAT(sleeps_, ElementsAre(2000ms));  // the default initial backoff
}

TEST_F(PageEnricherTest, PersistentUnavailabilityIsTransient) {
  server_->route("GET", "/story", [](net::HttpRequest&) {
    net::HttpResponse r = net::make_json_error(503, "busy");
    r.headers = {{"Retry-After", "7"}};
    return r;
  });
  start();
  Result<std::optional<EnrichedPage>> r = enricher().enrich(snippet("/story"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kEnrichTransient);
  EXPECT_THAT(r.error().reason, HasSubstr("after 3 attempts"));
  EXPECT_THAT(sleeps_, ElementsAre(7000ms, 7000ms));  // Retry-After honoured
}

TEST_F(PageEnricherTest, OversizePageIsRefused) {
  server_->route("GET", "/big", [](net::HttpRequest&) { return html(std::string(64 * 1024, 'a')); });
  start();
  Result<std::optional<EnrichedPage>> r = enricher(16 * 1024).enrich(snippet("/big"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kEnrichPermanent);
  EXPECT_THAT(r.error().reason, HasSubstr("larger than 16384 bytes"));
}

TEST_F(PageEnricherTest, NonHtmlContentIsRefused) {
  server_->route("GET", "/doc.pdf", [](net::HttpRequest&) {
    net::HttpResponse r;
    r.content_type = "application/pdf";
    r.body = "%PDF-1.4 <p>not really</p>";
    return r;
  });
  start();
  Result<std::optional<EnrichedPage>> r = enricher().enrich(snippet("/doc.pdf"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kEnrichPermanent);
  EXPECT_THAT(r.error().reason, HasSubstr("not an HTML page (application/pdf)"));
}

TEST_F(PageEnricherTest, RefusedConnectionIsTransient) {
  start();
  std::string url = base_ + "/story";
  server_->stop();
  Article a = snippet("/story");
  a.url = url;
  Result<std::optional<EnrichedPage>> r = enricher().enrich(a);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, kEnrichTransient);
  EXPECT_EQ(sleeps_.size(), 2u);  // three attempts
}

}  // namespace page_enricher_test
}  // namespace sentinel::intel
