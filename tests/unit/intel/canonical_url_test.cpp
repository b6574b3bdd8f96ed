#include "intel/canonical_url.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace sentinel::intel {
namespace canonical_url_test {

std::string canon(std::string_view url) {
  Result<std::string> r = canonicalize_url(url);
  EXPECT_TRUE(r.ok()) << url << ": " << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : "";
}

TEST(CanonicalUrl, TableOfRules) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // scheme and host case, default ports, fragment
      {"HTTPS://News.Example.COM/World/Story", "https://news.example.com/World/Story"},
      {"http://example.com:80/a", "http://example.com/a"},
      {"https://example.com:443/a", "https://example.com/a"},
      {"https://example.com:8443/a", "https://example.com:8443/a"},
      {"http://example.com:443/a", "http://example.com:443/a"},
      {"https://example.com/a#comments", "https://example.com/a"},
      {"https://example.com./a", "https://example.com/a"},
      // www. is kept, http and https stay apart
      {"https://www.example.com/a", "https://www.example.com/a"},
      {"http://www.example.com/a", "http://www.example.com/a"},
      // trailing slash
      {"https://example.com", "https://example.com/"},
      {"https://example.com/", "https://example.com/"},
      {"https://example.com/news/story/", "https://example.com/news/story"},
      {"https://example.com/news/story//", "https://example.com/news/story"},
      // dot segments
      {"https://example.com/a/./b/../c", "https://example.com/a/c"},
      // tracking parameters, sorting, empty parameters
      {"https://example.com/a?utm_source=tw&utm_medium=social&id=7", "https://example.com/a?id=7"},
      {"https://example.com/a?UTM_Campaign=x&b=2&a=1", "https://example.com/a?a=1&b=2"},
      {"https://example.com/a?fbclid=abc", "https://example.com/a"},
      {"https://example.com/a?gclid=1&mc_cid=2&mc_eid=3&ref=home&p=2", "https://example.com/a?p=2"},
      {"https://example.com/a?&&b=1&", "https://example.com/a?b=1"},
      {"https://example.com/a?b=2&b=1", "https://example.com/a?b=1&b=2"},
      {"https://example.com/a?flag&a=1", "https://example.com/a?a=1&flag"},
      {"https://example.com/a?%75tm_source=x&q=1", "https://example.com/a?q=1"},
      {"https://example.com/a?reference=1", "https://example.com/a?reference=1"},
      // percent-encoding
      {"https://example.com/%7euser/%41%2f%2F", "https://example.com/~user/A%2F%2F"},
      {"https://example.com/a%2db?q=%e2%82%ac", "https://example.com/a-b?q=%E2%82%AC"},
      {"https://example.com/caf\xc3\xa9", "https://example.com/caf%C3%A9"},
      {"https://example.com/a b", "https://example.com/a%20b"},
      {"https://example.com/100%", "https://example.com/100%25"},
      {"https://example.com/a?q=%zz", "https://example.com/a?q=%25zz"},
      // user info is dropped, whitespace trimmed
      {"https://user:secret@example.com/a", "https://example.com/a"},
      {"  https://example.com/a \n", "https://example.com/a"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(canon(in), want) << in;
}

TEST(CanonicalUrl, IsIdempotent) {
  for (const char* url : {"HTTPS://WWW.Example.com:443/News/./x/?utm_source=a&z=1&a=%7e#f",
                          "http://example.com/caf\xc3\xa9 au lait?b=%2f&a", "https://example.com"}) {
    std::string once = canon(url);
    EXPECT_EQ(canon(once), once) << url;
  }
}

TEST(CanonicalUrl, SyndicatedCopiesCollapse) {
  std::string base = canon("https://www.latamwire.example/1990/01/03/bomb-in-bogota");
  for (const char* copy : {"https://www.latamwire.example/1990/01/03/bomb-in-bogota?utm_source=twitter&utm_medium=social",
                           "https://WWW.LATAMWIRE.EXAMPLE:443/1990/01/03/bomb-in-bogota#comments",
                           "https://www.latamwire.example/1990/01/03/bomb-in-bogota/?ref=homepage&gclid=123",
                           "https://www.latamwire.example/1990/01/03/./bomb-in-bogota?mc_cid=1&mc_eid=2"}) {
    EXPECT_EQ(canon(copy), base) << copy;
  }
}

TEST(CanonicalUrl, RejectsWhatIsNotAnAbsoluteHttpUrl) {
  for (const char* bad : {"", "   ", "/relative/path", "example.com/a", "ftp://example.com/a", "mailto:a@example.com",
                          "javascript:alert(1)", "https://", "https:///path", "http://exa mple.com/",
                          "https://example.com:99999/"}) {
    Result<std::string> r = canonicalize_url(bad);
    EXPECT_FALSE(r.ok()) << "accepted '" << bad << "' as " << (r.ok() ? *r : "");
    if (!r.ok()) {
      EXPECT_EQ(r.error().field, "url");
    }
  }
  EXPECT_FALSE(canonicalize_url(std::string_view("https://example.com/\0a", 22)).ok());
}

TEST(CanonicalUrl, TrackingListIsVisible) {
  auto names = tracking_parameters();
  EXPECT_GE(names.size(), 10u);
  for (const char* must : {"fbclid", "gclid", "mc_cid", "mc_eid", "ref"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), must), names.end()) << must;
    EXPECT_TRUE(is_tracking_parameter(must));
  }
  EXPECT_TRUE(is_tracking_parameter("utm_anything"));
  EXPECT_TRUE(is_tracking_parameter("FBCLID"));
  EXPECT_FALSE(is_tracking_parameter("id"));
  EXPECT_FALSE(is_tracking_parameter("utm"));
}

}  // namespace canonical_url_test
}  // namespace sentinel::intel
