#include "server/auth.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace sentinel {
namespace auth_test {

namespace fs = std::filesystem;

TEST(TokenStore, GeneratedTokensAreDistinctAndWellFormed) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string t = TokenStore::generate();
    EXPECT_TRUE(t.starts_with("snt_")) << t;
    EXPECT_EQ(t.size(), 4u + 43u) << t;
    EXPECT_TRUE(seen.insert(t).second);
  }
}

TEST(TokenStore, FindsByTokenAndNeverStoresIt) {
  TokenStore s;
  const std::string t = TokenStore::generate();
  const std::string h = TokenStore::hash(t);
  EXPECT_EQ(h.find(t), std::string::npos);
  EXPECT_TRUE(h.starts_with("blake2b256:"));
  ASSERT_TRUE(s.add("ops-1", Role::kAnalyst, h).ok());
  auto p = s.find(t);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->name, "ops-1");
  EXPECT_EQ(p->role, Role::kAnalyst);
  EXPECT_FALSE(s.find(TokenStore::generate()).has_value());
  EXPECT_FALSE(s.find("").has_value());
  EXPECT_FALSE(s.find(t.substr(0, t.size() - 1)).has_value());
  const std::string line = TokenStore::file_line("ops-1", Role::kAnalyst, h);
  EXPECT_EQ(line.find(t), std::string::npos);
}

TEST(TokenStore, RejectsDuplicateAndBadNamesAndHashes) {
  TokenStore s;
  const std::string h = TokenStore::hash(TokenStore::generate());
  ASSERT_TRUE(s.add("a", Role::kAdmin, h).ok());
  EXPECT_EQ(s.add("a", Role::kAdmin, TokenStore::hash(TokenStore::generate())).error().field, "name");
  EXPECT_EQ(s.add("b", Role::kAdmin, h).error().field, "hash");
  EXPECT_EQ(s.add("has space", Role::kAdmin, TokenStore::hash("x")).error().field, "name");
  EXPECT_EQ(s.add("", Role::kAdmin, TokenStore::hash("y")).error().field, "name");
  EXPECT_EQ(s.add("c", Role::kAdmin, "sha1:abc").error().field, "hash");
}

TEST(TokenStore, LoadsAFileAndNamesTheBadLine) {
  const fs::path f = fs::temp_directory_path() / ("sentinel-tokens-" + std::to_string(::getpid()));
  const std::string t = TokenStore::generate();
  {
    std::ofstream out(f);
    out << "# comment\n\n" << TokenStore::file_line("desk", Role::kAnalyst, TokenStore::hash(t)) << "\n";
  }
  TokenStore s = TokenStore::load(f.string());
  ASSERT_TRUE(s.find(t).has_value());
  {
    std::ofstream out(f, std::ios::app);
    out << R"({"name":"x","role":"boss","hash":")" << TokenStore::hash("z") << "\"}\n";
  }
  try {
    (void)TokenStore::load(f.string());
    ADD_FAILURE() << "an unknown role loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(":4: role"), std::string::npos) << e.what();
  }
  {
    std::ofstream out(f);
    out << "{not json\n";
  }
  EXPECT_THROW((void)TokenStore::load(f.string()), std::runtime_error);
  fs::remove(f);
  EXPECT_THROW((void)TokenStore::load(f.string()), std::runtime_error);
}

TEST(Roles, PermissionsFollowTheTable) {
  EXPECT_TRUE(role_allows(Role::kAnalyst, Permission::kRead));
  EXPECT_TRUE(role_allows(Role::kAnalyst, Permission::kOperate));
  EXPECT_FALSE(role_allows(Role::kAnalyst, Permission::kIngest));
  EXPECT_FALSE(role_allows(Role::kAnalyst, Permission::kAdmin));
  EXPECT_TRUE(role_allows(Role::kIngest, Permission::kIngest));
  EXPECT_FALSE(role_allows(Role::kIngest, Permission::kRead));
  for (Permission p : {Permission::kRead, Permission::kOperate, Permission::kIngest, Permission::kAdmin}) {
    EXPECT_TRUE(role_allows(Role::kAdmin, p));
  }
  EXPECT_EQ(parse_role("curator"), Role::kCurator);
  EXPECT_FALSE(parse_role("root").has_value());
}

TEST(PresentedToken, FromBearerHeaderOrWebSocketSubprotocol) {
  EXPECT_EQ(presented_token("Bearer snt_abc", ""), "snt_abc");
  EXPECT_EQ(presented_token("bearer   snt_abc  ", ""), "snt_abc");
  EXPECT_EQ(presented_token("Basic dXNlcjpwYXNz", ""), "");
  EXPECT_EQ(presented_token("", "sentinel.v1, bearer.snt_xyz"), "snt_xyz");
  EXPECT_EQ(presented_token("", "sentinel.v1"), "");
  EXPECT_EQ(presented_token("", ""), "");
}

TEST(RateLimiter, AdmitsTheBurstThenWaitsOutTheDebt) {
  RateLimiter r(100, 10);  // 100 units/s, burst 10
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ASSERT_TRUE(r.admit("a", t0));
  r.charge("a", 30, t0);  // a 30-event body: 20 in debt
  std::chrono::milliseconds wait{0};
  EXPECT_FALSE(r.admit("a", t0, &wait));
  EXPECT_EQ(wait.count(), 210);  // (1 - (-20)) / 100 s
  EXPECT_TRUE(r.admit("b", t0)) << "buckets are per token";
  EXPECT_FALSE(r.admit("a", t0 + std::chrono::milliseconds(150)));
  EXPECT_TRUE(r.admit("a", t0 + std::chrono::milliseconds(250)));
  EXPECT_THROW(RateLimiter(0, 1), std::invalid_argument);
}

}  // namespace auth_test
}  // namespace sentinel
