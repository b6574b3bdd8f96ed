#include "detect/correlation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "stream/bytes.h"

namespace sentinel::detect {
namespace correlation_test {

// Spherical geometry written here, independently of S2, on the same Earth
// radius S2Earth uses (6371.01 km).
constexpr double kEarthRadiusM = 6'371'010.0;
constexpr double kDeg = std::numbers::pi / 180.0;

double haversine_m(double lat1, double lon1, double lat2, double lon2) {
  const double dlat = (lat2 - lat1) * kDeg, dlon = (lon2 - lon1) * kDeg;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kDeg) * std::cos(lat2 * kDeg) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(a)));
}

struct LatLon {
  double lat, lon;
};

// The point `distance_m` from (lat, lon) along the initial bearing (degrees
// clockwise from north), longitude normalised to [-180, 180].
LatLon destination(double lat, double lon, double bearing_deg, double distance_m) {
  const double d = distance_m / kEarthRadiusM, th = bearing_deg * kDeg;
  const double p1 = lat * kDeg, l1 = lon * kDeg;
  const double p2 = std::asin(std::sin(p1) * std::cos(d) + std::cos(p1) * std::sin(d) * std::cos(th));
  double l2 = l1 + std::atan2(std::sin(th) * std::sin(d) * std::cos(p1), std::cos(d) - std::sin(p1) * std::sin(p2));
  double lon2 = l2 / kDeg;
  while (lon2 > 180) lon2 -= 360;
  while (lon2 < -180) lon2 += 360;
  return {p2 / kDeg, lon2};
}

const EventTime kT0 = event_time_from_ms(1'772'000'000'000);
constexpr double kChicagoLat = 41.8781, kChicagoLon = -87.6298;

CorrelationEntry entry(uint64_t seq, SourceId source, double lat, double lon, EventTime time = kT0) {
  CorrelationEntry e;
  e.seq = seq;
  e.time = time;
  e.lat = lat;
  e.lon = lon;
  e.source = source;
  e.type = static_cast<TypeId>(seq % 7);
  e.severity = static_cast<Severity>(seq % 3);
  e.confidence = static_cast<float>(seq % 100) / 100.0f;
  e.has_confidence = seq % 2 == 0;
  e.id = "ev-" + std::to_string(seq);
  return e;
}

std::vector<uint64_t> seqs(const std::vector<const CorrelationEntry*>& found) {
  std::vector<uint64_t> out;
  for (const CorrelationEntry* e : found) out.push_back(e->seq);
  return out;
}

std::vector<uint64_t> query(const CorrelationIndex& index, const CorrelationEntry& e) {
  std::vector<const CorrelationEntry*> found;
  index.neighbours(e, found);
  return seqs(found);
}

std::string saved(const CorrelationIndex& index) {
  ByteWriter w;
  index.save(w);
  return w.take();
}

TEST(Correlation, DistanceJustInsideAndJustOutsideTheRadius) {
  CorrelationIndex index{CorrelationConfig{}};
  uint64_t seq = 1;
  // Every compass direction, so the neighbours lie in different cells.
  for (double bearing = 0; bearing < 360; bearing += 45) {
    const LatLon in = destination(kChicagoLat, kChicagoLon, bearing, 499.99);
    const LatLon out = destination(kChicagoLat, kChicagoLon, bearing, 500.01);
    ASSERT_NEAR(haversine_m(kChicagoLat, kChicagoLon, in.lat, in.lon), 499.99, 1e-6);
    ASSERT_NEAR(haversine_m(kChicagoLat, kChicagoLon, out.lat, out.lon), 500.01, 1e-6);
    CorrelationIndex pair{CorrelationConfig{}};
    ASSERT_TRUE(pair.insert(entry(seq, 2, in.lat, in.lon)));
    ASSERT_TRUE(pair.insert(entry(seq + 1, 2, out.lat, out.lon)));
    EXPECT_EQ(query(pair, entry(0, 1, kChicagoLat, kChicagoLon)), std::vector<uint64_t>{seq}) << "bearing " << bearing;
    ASSERT_TRUE(index.insert(entry(seq, 2, in.lat, in.lon)));
    ASSERT_TRUE(index.insert(entry(seq + 1, 2, out.lat, out.lon)));
    seq += 2;
  }
  EXPECT_EQ(query(index, entry(0, 1, kChicagoLat, kChicagoLon)),
            (std::vector<uint64_t>{1, 3, 5, 7, 9, 11, 13, 15}));
}

TEST(Correlation, RadiusComesFromTheConfig) {
  CorrelationConfig config;
  config.radius_m = 2000;
  CorrelationIndex index{config};
  const LatLon a = destination(kChicagoLat, kChicagoLon, 30, 1999.9);
  const LatLon b = destination(kChicagoLat, kChicagoLon, 30, 2000.1);
  ASSERT_TRUE(index.insert(entry(1, 2, a.lat, a.lon)));
  ASSERT_TRUE(index.insert(entry(2, 2, b.lat, b.lon)));
  EXPECT_EQ(query(index, entry(0, 1, kChicagoLat, kChicagoLon)), std::vector<uint64_t>{1});
}

TEST(Correlation, TimeWindowIsInclusiveInBothDirections) {
  CorrelationIndex index{CorrelationConfig{}};
  const Millis w = CorrelationConfig{}.window;
  ASSERT_EQ(w, Millis(15 * 60'000));
  const LatLon near = destination(kChicagoLat, kChicagoLon, 90, 100);
  ASSERT_TRUE(index.insert(entry(1, 2, near.lat, near.lon, kT0 - w)));                // exactly -15 min
  ASSERT_TRUE(index.insert(entry(2, 2, near.lat, near.lon, kT0 - w - Millis(1))));    // just before
  ASSERT_TRUE(index.insert(entry(3, 2, near.lat, near.lon, kT0 + w)));                // exactly +15 min
  ASSERT_TRUE(index.insert(entry(4, 2, near.lat, near.lon, kT0 + w + Millis(1))));    // just after
  ASSERT_TRUE(index.insert(entry(5, 2, near.lat, near.lon, kT0)));
  EXPECT_EQ(query(index, entry(0, 1, kChicagoLat, kChicagoLon, kT0)), (std::vector<uint64_t>{1, 3, 5}));
  // From the other side: the entry 15 min later sees the one at kT0 but not the one before.
  EXPECT_EQ(query(index, entry(0, 1, kChicagoLat, kChicagoLon, kT0 + w)), (std::vector<uint64_t>{3, 4, 5}));
}

TEST(Correlation, ZeroWindowMeansSameMillisecond) {
  CorrelationConfig config;
  config.window = Millis(0);
  CorrelationIndex index{config};
  ASSERT_TRUE(index.insert(entry(1, 2, kChicagoLat, kChicagoLon, kT0)));
  ASSERT_TRUE(index.insert(entry(2, 2, kChicagoLat, kChicagoLon, kT0 + Millis(1))));
  EXPECT_EQ(query(index, entry(0, 1, kChicagoLat, kChicagoLon, kT0)), std::vector<uint64_t>{1});
}

TEST(Correlation, SameSourceIsNotACorroboration) {
  CorrelationIndex index{CorrelationConfig{}};
  ASSERT_TRUE(index.insert(entry(1, 7, kChicagoLat, kChicagoLon)));
  ASSERT_TRUE(index.insert(entry(2, 8, kChicagoLat, kChicagoLon)));
  ASSERT_TRUE(index.insert(entry(3, 7, kChicagoLat, kChicagoLon)));
  EXPECT_EQ(query(index, entry(10, 7, kChicagoLat, kChicagoLon)), std::vector<uint64_t>{2});
  EXPECT_EQ(query(index, entry(11, 8, kChicagoLat, kChicagoLon)), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(query(index, entry(12, 9, kChicagoLat, kChicagoLon)), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(Correlation, ResultsAreOrderedBySeqNotByInsertionOrPlace) {
  CorrelationIndex index{CorrelationConfig{}};
  const std::vector<uint64_t> order = {50, 7, 31, 2, 99, 13};
  for (size_t i = 0; i < order.size(); ++i) {
    const LatLon p = destination(kChicagoLat, kChicagoLon, 60.0 * static_cast<double>(i), 80.0 * static_cast<double>(i));
    // Later seqs get earlier times, so neither time nor cell order matches seq order.
    ASSERT_TRUE(index.insert(entry(order[i], static_cast<SourceId>(2 + i % 2), p.lat, p.lon,
                                   kT0 - Millis(static_cast<int64_t>(order[i]) * 1000))));
  }
  EXPECT_EQ(query(index, entry(0, 1, kChicagoLat, kChicagoLon)), (std::vector<uint64_t>{2, 7, 13, 31, 50, 99}));
}

TEST(Correlation, DuplicateInsertIsANoOp) {
  CorrelationIndex index{CorrelationConfig{}};
  ASSERT_TRUE(index.insert(entry(1, 2, kChicagoLat, kChicagoLon)));
  CorrelationEntry again = entry(5, 2, kChicagoLat + 0.001, kChicagoLon, kT0 + Millis(1000));
  again.id = "ev-1";  // same (source, id), other fields changed
  EXPECT_FALSE(index.insert(again));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(query(index, entry(0, 1, kChicagoLat, kChicagoLon)), std::vector<uint64_t>{1});
  // The same id from another source is another event.
  CorrelationEntry other = entry(6, 3, kChicagoLat, kChicagoLon);
  other.id = "ev-1";
  EXPECT_TRUE(index.insert(other));
  EXPECT_EQ(index.size(), 2u);
}

TEST(Correlation, InvalidLocationIsRejected) {
  CorrelationIndex index{CorrelationConfig{}};
  EXPECT_FALSE(index.insert(entry(1, 2, 91, 0)));
  EXPECT_FALSE(index.insert(entry(2, 2, 0, 180.5)));
  EXPECT_FALSE(index.insert(entry(3, 2, std::nan(""), 0)));
  EXPECT_FALSE(index.insert(entry(4, 2, 0, INFINITY)));
  EXPECT_EQ(index.size(), 0u);
  ASSERT_TRUE(index.insert(entry(5, 2, 0, 0)));
  EXPECT_TRUE(query(index, entry(6, 1, std::nan(""), 0)).empty());
}

TEST(Correlation, ExpiryDropsEntriesOlderThanTheHorizon) {
  CorrelationIndex index{CorrelationConfig{}};
  for (uint64_t i = 0; i < 10; ++i) {
    const LatLon p = destination(kChicagoLat, kChicagoLon, 36.0 * static_cast<double>(i), 300);
    ASSERT_TRUE(index.insert(entry(i + 1, 2, p.lat, p.lon, kT0 + Millis(static_cast<int64_t>(i) * 60'000))));
  }
  const CorrelationEntry probe = entry(100, 1, kChicagoLat, kChicagoLon, kT0 + Millis(5 * 60'000));
  EXPECT_EQ(query(index, probe).size(), 10u);
  index.expire(kT0 + Millis(4 * 60'000));  // entries at minutes 0..3 go; minute 4 stays (not < horizon)
  EXPECT_EQ(index.size(), 6u);
  EXPECT_EQ(query(index, probe), (std::vector<uint64_t>{5, 6, 7, 8, 9, 10}));
  index.expire(kT0);  // an earlier horizon changes nothing
  EXPECT_EQ(index.size(), 6u);
  // An expired entry's (source, id) may be inserted again.
  EXPECT_TRUE(index.insert(entry(1, 2, kChicagoLat, kChicagoLon, kT0 + Millis(4 * 60'000))));
  EXPECT_EQ(index.size(), 7u);
  index.expire(kMaxEventTime);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(query(index, probe).empty());
}

TEST(Correlation, PointersStayValidWhileOtherEntriesComeAndGo) {
  CorrelationIndex index{CorrelationConfig{}};
  ASSERT_TRUE(index.insert(entry(1, 2, kChicagoLat, kChicagoLon, kT0 + Millis(3'600'000))));
  std::vector<const CorrelationEntry*> found;
  index.neighbours(entry(0, 1, kChicagoLat, kChicagoLon, kT0 + Millis(3'600'000)), found);
  ASSERT_EQ(found.size(), 1u);
  for (uint64_t i = 0; i < 5000; ++i) {
    ASSERT_TRUE(index.insert(entry(i + 10, 3, kChicagoLat, kChicagoLon, kT0 + Millis(static_cast<int64_t>(i)))));
  }
  index.expire(kT0 + Millis(4000));
  for (uint64_t i = 0; i < 6000; ++i) {  // reuses the freed slots, then grows
    ASSERT_TRUE(index.insert(entry(i + 10'000, 3, kChicagoLat, kChicagoLon, kT0 + Millis(5000))));
  }
  EXPECT_EQ(found[0]->id, "ev-1");
  EXPECT_EQ(found[0]->seq, 1u);
}

// The index against a brute-force scan with the independent haversine, around
// places where S2 cells behave differently: a city, a cube-face edge (the
// equator at 45°E), a cube vertex (35.26°N 45°E, where three faces meet), the
// antimeridian and next to the pole.
struct Place {
  const char* name;
  double lat, lon;
};

void PrintTo(const Place& place, std::ostream* os) { *os << place.name; }

class CorrelationBruteForce : public ::testing::TestWithParam<Place> {};

TEST_P(CorrelationBruteForce, MatchesAnExhaustiveScan) {
  const Place place = GetParam();
  const CorrelationConfig config;
  CorrelationIndex index{config};
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> bearing(0, 360), dist(0, 1500), minutes(-25, 25);
  std::uniform_int_distribution<int> source(1, 3);
  std::vector<CorrelationEntry> all;
  for (uint64_t i = 0; i < 3000; ++i) {
    const LatLon p = destination(place.lat, place.lon, bearing(rng), dist(rng));
    all.push_back(entry(i + 1, static_cast<SourceId>(source(rng)), p.lat, p.lon,
                        kT0 + Millis(static_cast<int64_t>(minutes(rng) * 60'000))));
    ASSERT_TRUE(index.insert(all.back()));
  }
  size_t compared = 0, total_found = 0;
  for (uint64_t q = 0; q < 300; ++q) {
    const LatLon p = destination(place.lat, place.lon, bearing(rng), dist(rng));
    const CorrelationEntry probe = entry(100'000 + q, static_cast<SourceId>(source(rng)), p.lat, p.lon,
                                        kT0 + Millis(static_cast<int64_t>(minutes(rng) * 60'000)));
    std::vector<uint64_t> expected;
    bool ambiguous = false;
    for (const CorrelationEntry& e : all) {
      const double d = haversine_m(probe.lat, probe.lon, e.lat, e.lon);
      if (std::fabs(d - config.radius_m) < 1e-6) ambiguous = true;  // rounding may decide either way
      const int64_t dt = std::llabs(to_ms(e.time) - to_ms(probe.time));
      if (e.source != probe.source && d <= config.radius_m && dt <= config.window.count()) expected.push_back(e.seq);
    }
    if (ambiguous) continue;
    ++compared;
    const std::vector<uint64_t> got = query(index, probe);
    total_found += got.size();
    ASSERT_EQ(got, expected) << place.name << " probe " << q;
    // A bounded query is the newest `cap` of the full answer, still ascending.
    for (const size_t cap : {size_t{0}, size_t{1}, size_t{7}, size_t{32}, size_t{5000}}) {
      std::vector<const CorrelationEntry*> found;
      index.neighbours(probe, cap, found);
      const size_t keep = std::min(cap, expected.size());
      const std::vector<uint64_t> newest(expected.end() - static_cast<std::ptrdiff_t>(keep), expected.end());
      ASSERT_EQ(seqs(found), newest) << place.name << " probe " << q << " cap " << cap;
    }
  }
  EXPECT_GT(compared, 290u);
  EXPECT_GT(total_found, 1000u);  // the comparison is not between empty lists
}

INSTANTIATE_TEST_SUITE_P(Correlation, CorrelationBruteForce,
                         ::testing::Values(Place{"chicago", kChicagoLat, kChicagoLon}, Place{"face_edge", 0.0, 45.0},
                                           Place{"cube_vertex", 35.264389682754654, 45.0},
                                           Place{"antimeridian", -10.0, 180.0}, Place{"pole", 89.995, 0.0}),
                         [](const ::testing::TestParamInfo<Place>& info) { return std::string(info.param.name); });

// Bounded queries over a stream like the pipeline's: seq in arrival order,
// times out of order within a few minutes, expiry as time moves on, and
// entries inserted out of seq order or sharing a seq (which the index must
// still order by (seq, source, id)).
TEST(Correlation, BoundedQueriesFollowTheStreamThroughExpiry) {
  const CorrelationConfig config;
  CorrelationIndex index{config};
  std::mt19937_64 rng(777);
  std::uniform_real_distribution<double> bearing(0, 360), dist(0, 900);
  std::uniform_int_distribution<int64_t> disorder(0, 180'000);
  std::uniform_int_distribution<int> source(1, 3);
  std::vector<CorrelationEntry> live;
  size_t checked = 0;
  for (uint64_t i = 0; i < 6000; ++i) {
    const LatLon p = destination(kChicagoLat, kChicagoLon, bearing(rng), dist(rng));
    // Every 50th entry repeats the previous seq; every 97th arrives with an
    // older seq than the one before it.
    const uint64_t seq = i % 50 == 0 && i > 0 ? i : i % 97 == 0 && i > 1 ? i - 1 : i + 1;
    CorrelationEntry e = entry(seq, static_cast<SourceId>(source(rng)), p.lat, p.lon,
                               kT0 + Millis(static_cast<int64_t>(i) * 1'000 - disorder(rng)));
    e.id = "id-" + std::to_string(i);
    if (i % 10 == 0) {
      std::vector<const CorrelationEntry*> full, bounded;
      index.neighbours(e, full);
      index.neighbours(e, 32, bounded);
      const size_t keep = std::min<size_t>(32, full.size());
      ASSERT_EQ(std::vector<const CorrelationEntry*>(full.end() - static_cast<std::ptrdiff_t>(keep), full.end()),
                bounded)
          << "event " << i;
      checked += keep == 32 ? 1 : 0;
    }
    ASSERT_TRUE(index.insert(e));
    if (i % 100 == 99) index.expire(kT0 + Millis(static_cast<int64_t>(i) * 1'000 - 20 * 60'000));
  }
  EXPECT_GT(checked, 400u);  // most queries had more neighbours than the cap
  EXPECT_LT(index.size(), 6000u);
}

TEST(Correlation, AcrossACubeFaceEdge) {
  // Face 0 (+x) ends at 45°E on the equator, where face 1 (+y) begins.
  CorrelationIndex index{CorrelationConfig{}};
  const LatLon west = destination(0, 45, 270, 200);
  const LatLon east = destination(0, 45, 90, 250);
  ASSERT_LT(west.lon, 45);
  ASSERT_GT(east.lon, 45);
  ASSERT_TRUE(index.insert(entry(1, 2, east.lat, east.lon)));
  ASSERT_TRUE(index.insert(entry(2, 3, west.lat, west.lon)));
  EXPECT_EQ(query(index, entry(10, 3, west.lat, west.lon)), std::vector<uint64_t>{1});
  EXPECT_EQ(query(index, entry(11, 2, east.lat, east.lon)), std::vector<uint64_t>{2});
}

CorrelationIndex populated(uint64_t n, uint64_t seed) {
  CorrelationIndex index{CorrelationConfig{}};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> bearing(0, 360), dist(0, 3000), minutes(0, 30);
  std::uniform_int_distribution<int> source(1, 4);
  for (uint64_t i = 0; i < n; ++i) {
    const LatLon p = destination(kChicagoLat, kChicagoLon, bearing(rng), dist(rng));
    index.insert(entry(i + 1, static_cast<SourceId>(source(rng)), p.lat, p.lon,
                       kT0 + Millis(static_cast<int64_t>(minutes(rng) * 60'000))));
  }
  return index;
}

TEST(Correlation, SaveLoadRoundTripBehavesIdentically) {
  CorrelationIndex original = populated(2000, 7);
  original.expire(kT0 + Millis(5 * 60'000));
  const std::string bytes = saved(original);

  CorrelationIndex restored{CorrelationConfig{}};
  ASSERT_TRUE(restored.insert(entry(999'999, 1, 0, 0)));  // load replaces, never merges
  ByteReader in(bytes);
  ASSERT_TRUE(restored.load(in));
  EXPECT_TRUE(in.done());
  EXPECT_EQ(restored.size(), original.size());
  EXPECT_EQ(saved(restored), bytes);

  // Drive both the same way: same answers, same state.
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> bearing(0, 360), dist(0, 3000), minutes(0, 40);
  for (uint64_t i = 0; i < 500; ++i) {
    const LatLon p = destination(kChicagoLat, kChicagoLon, bearing(rng), dist(rng));
    const CorrelationEntry e = entry(10'000 + i, static_cast<SourceId>(1 + i % 4), p.lat, p.lon,
                                     kT0 + Millis(static_cast<int64_t>(minutes(rng) * 60'000)));
    std::vector<const CorrelationEntry*> a, b;
    original.neighbours(e, a);
    restored.neighbours(e, b);
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k]->seq, b[k]->seq);
      EXPECT_EQ(a[k]->id, b[k]->id);
      EXPECT_EQ(a[k]->time, b[k]->time);
      EXPECT_EQ(a[k]->lat, b[k]->lat);
      EXPECT_EQ(a[k]->lon, b[k]->lon);
      EXPECT_EQ(a[k]->confidence, b[k]->confidence);
      EXPECT_EQ(a[k]->has_confidence, b[k]->has_confidence);
      EXPECT_EQ(a[k]->source, b[k]->source);
      EXPECT_EQ(a[k]->type, b[k]->type);
      EXPECT_EQ(a[k]->severity, b[k]->severity);
    }
    EXPECT_EQ(original.insert(e), restored.insert(e));
    if (i % 100 == 99) {
      original.expire(kT0 + Millis(static_cast<int64_t>(i / 100) * 5 * 60'000));
      restored.expire(kT0 + Millis(static_cast<int64_t>(i / 100) * 5 * 60'000));
    }
  }
  EXPECT_EQ(saved(original), saved(restored));
}

TEST(Correlation, SavedBytesDependOnStateNotOnInsertionOrder) {
  std::vector<CorrelationEntry> entries;
  for (uint64_t i = 0; i < 200; ++i) {
    const LatLon p = destination(kChicagoLat, kChicagoLon, static_cast<double>(i) * 7.0, static_cast<double>(i) * 11.0);
    entries.push_back(entry(i + 1, static_cast<SourceId>(1 + i % 3), p.lat, p.lon, kT0 + Millis(static_cast<int64_t>(i % 17) * 1000)));
  }
  CorrelationIndex forward{CorrelationConfig{}}, backward{CorrelationConfig{}};
  for (const CorrelationEntry& e : entries) forward.insert(e);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) backward.insert(*it);
  EXPECT_EQ(saved(forward), saved(backward));
}

TEST(Correlation, CorruptedLoadFailsCleanly) {
  CorrelationIndex source = populated(50, 3);
  const std::string bytes = saved(source);
  CorrelationIndex target = populated(20, 4);
  const std::string before = saved(target);

  // Every truncation fails and leaves the index as it was.
  for (size_t n = 0; n < bytes.size(); ++n) {
    ByteReader in(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(target.load(in)) << "truncated to " << n;
  }
  EXPECT_EQ(saved(target), before);

  // Flipped bytes never crash; a failed load changes nothing, an accepted one
  // yields a consistent index (it saves and reloads to the same bytes).
  std::mt19937_64 rng(5);
  size_t rejected = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bad = bytes;
    const size_t pos = std::uniform_int_distribution<size_t>(0, bad.size() - 1)(rng);
    bad[pos] = static_cast<char>(bad[pos] ^ static_cast<char>(1u << (trial % 8)));
    CorrelationIndex probe = populated(20, 4);
    ByteReader in(bad);
    if (probe.load(in)) {
      CorrelationIndex again{CorrelationConfig{}};
      const std::string resaved = saved(probe);
      ByteReader in2(resaved);
      ASSERT_TRUE(again.load(in2));
      EXPECT_EQ(saved(again), saved(probe));
    } else {
      ++rejected;
      EXPECT_EQ(saved(probe), before);
    }
  }
  EXPECT_GT(rejected, 0u);

  // Specific corruptions: wrong magic, huge count, bad severity, duplicate entry.
  auto load_fails = [](std::string data) {
    CorrelationIndex index{CorrelationConfig{}};
    ByteReader in(data);
    return !index.load(in);
  };
  std::string magic = bytes;
  magic[0] ^= 1;
  EXPECT_TRUE(load_fails(magic));
  std::string count = bytes;
  count[8 + 7] = 0x7f;  // the entry count's top byte
  EXPECT_TRUE(load_fails(count));
  std::string severity = bytes;
  severity[16 + 8 + 8 + 8 + 8 + 8 + 1 + 2 + 4] = 3;  // first entry's severity byte
  EXPECT_TRUE(load_fails(severity));

  ByteWriter twice;
  twice.u32(0x52524f43);
  twice.u32(2);
  twice.u64(2);
  for (int k = 0; k < 2; ++k) {
    twice.u64(1);
    twice.i64(to_ms(kT0));
    twice.f64(kChicagoLat);
    twice.f64(kChicagoLon);
    twice.f64(0);
    twice.u8(0);
    twice.u16(2);
    twice.u32(0);
    twice.u8(0);
    twice.str("same");
  }
  EXPECT_TRUE(load_fails(twice.take()));
}

TEST(Correlation, RejectsBadOptions) {
  CorrelationConfig config;
  config.radius_m = 0;
  EXPECT_THROW(CorrelationIndex{config}, std::invalid_argument);
  config.radius_m = -5;
  EXPECT_THROW(CorrelationIndex{config}, std::invalid_argument);
  config.radius_m = std::nan("");
  EXPECT_THROW(CorrelationIndex{config}, std::invalid_argument);
  config.radius_m = 7'000'000;
  EXPECT_THROW(CorrelationIndex{config}, std::invalid_argument);
  config.radius_m = 500;
  config.window = Millis(-1);
  EXPECT_THROW(CorrelationIndex{config}, std::invalid_argument);
}

}  // namespace correlation_test
}  // namespace sentinel::detect
