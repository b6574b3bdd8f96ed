// muc_score: runs the built-in extractor over MUC-3/4 messages and scores
// its templates against the answer keys per slot, like the MUC scorer
// (docs/EXTRACTION.md, "Scoring"). Prints a table and, with --json, the
// same figures as JSON.
//
//   muc_score --texts tests/data/muc34/tst1/tst1-muc3 --keys tests/data/muc34/tst1/key-tst1.v7
//             [--texts ... --keys ...] [--data tests/data/muc34] [--mapping type|muc4]
//             [--json OUT] [--errors] [--slot-errors date|location]
//             [--relevance-model FILE|none] [--dump-candidates FILE] [--fold-models DIR]
//
// The extractor is set up for the MUC domain: the MUC place lists and
// DATA/places-extra.tsv, DATA/organisations.txt, DATA/relevance_model.tsv,
// the nine countries of interest as home regions, political-violence rules.
#include <CLI/CLI.hpp>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/json_writer.h"
#include "intel/builtin_extractor.h"
#include "intel/date_resolver.h"
#include "intel/gazetteer.h"
#include "intel/muc_eval.h"

using namespace sentinel;
using namespace sentinel::intel;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void print_row(const char* name, const muc::SlotScore& s) {
  std::printf("%-14s %6.0f %6.0f %6.0f %6.0f %6.0f %6.0f %6.0f  %5.3f %5.3f %5.3f\n", name, s.correct, s.partial,
              s.incorrect, s.missing, s.spurious, s.possible(), s.actual(), s.recall(), s.precision(), s.f1());
}

void json_slot(JsonWriter& w, std::string_view name, const muc::SlotScore& s) {
  w.key(name).begin_object();
  w.member("correct", s.correct).member("partial", s.partial).member("incorrect", s.incorrect);
  w.member("missing", s.missing).member("spurious", s.spurious);
  w.member("possible", s.possible()).member("actual", s.actual());
  w.member("recall", s.recall()).member("precision", s.precision()).member("f1", s.f1());
  w.end_object();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Score the built-in extractor against MUC-3/4 answer keys"};
  std::vector<std::string> texts, keys;
  std::string data = "tests/data/muc34";
  std::string mapping = "type";
  std::string json_out;
  bool errors = false;
  std::string dump;
  std::string model;
  std::string slot_errors;
  std::string fold_models;
  bool slot_all = false;
  bool weekday_exact = false;
  bool today_before = false;
  bool no_lead_place = false;
  bool dateline_city = false;
  // Chosen by 5-fold cross-validation on DEV (tests/data/muc34/train_relevance.py).
  double min_conf = 0.25;
  app.add_option("--texts", texts, "MUC text file(s)")->required();
  app.add_option("--keys", keys, "answer-key file(s)")->required();
  app.add_option("--data", data, "folder with the place lists and organisations.txt");
  app.add_option("--mapping", mapping, "template mapping: type (same type, best agreement) or muc4")
      ->check(CLI::IsMember({"type", "muc4"}));
  app.add_option("--json", json_out, "write the scores as JSON to this file ('-' = stdout)");
  app.add_flag("--errors", errors, "print each message's key and response templates (for tuning on DEV)");
  app.add_flag("--weekday-exact", weekday_exact, "write weekday-derived dates as the resolved day");
  app.add_flag("--today-before", today_before, "write dates resolved to the dateline day as '- DAY'");
  app.add_flag("--no-lead-place", no_lead_place, "do not fall back to the place of the first sentence");
  app.add_flag("--dateline-city", dateline_city, "fall back to the dateline city before the country");
  app.add_option("--min-confidence", min_conf, "the extractor's reporting threshold (default 0.25, from CV on DEV)");
  app.add_option("--slot-errors", slot_errors, "print matched pairs whose date or location is not correct (tuning)")
      ->check(CLI::IsMember({"date", "location"}));
  app.add_option("--relevance-model", model, "relevance model file (default: DATA/relevance_model.tsv; 'none' = built-in weights)");
  app.add_option("--dump-candidates", dump,
                 "write every candidate incident (threshold 0) as 'label<TAB>message<TAB>cues' for fitting the "
                 "relevance model on DEV (label 1 = mapped to a key template)");
  app.add_flag("--slot-all", slot_all, "with --slot-errors: print the correct pairs too (COR)");
  app.add_option("--fold-models", fold_models,
                 "cross-validation on DEV: DIR/fold-N.tsv relevance models, each scoring the messages listed in "
                 "DIR/fold-N.ids (written by train_relevance.py; messages in no list use fold 0)");
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<std::string> places = {
        data + "/places/set-list-foreign-nation.v5", data + "/places/containing-areas-part1.v5",
        data + "/places/containing-areas-part2", data + "/places/places-synonyms.v3",
        data + "/places/places-extra.tsv"};
    auto gazetteer = std::make_shared<const Gazetteer>(Gazetteer::load(places));
    BuiltinExtractorOptions opt;
    opt.organisation_files = {data + "/organisations.txt"};
    opt.home_regions = {"EL SALVADOR", "GUATEMALA", "HONDURAS", "ARGENTINA", "BOLIVIA",
                        "CHILE",       "COLOMBIA",  "ECUADOR",  "PERU"};
    opt.political_violence_rules = true;
    opt.lead_place_fallback = !no_lead_place;
    opt.dateline_city_fallback = dateline_city;
    opt.min_confidence = min_conf;
    if (model.empty()) model = data + "/relevance_model.tsv";
    if (model != "none") opt.relevance_model_file = model;
    std::ofstream dump_out;
    if (!dump.empty()) {
      opt.min_confidence = 0;
      dump_out.open(dump);
      if (!dump_out) throw std::runtime_error(dump + ": cannot write");
    }
    // One extractor per relevance model: the single one, or one per
    // cross-validation fold, each scoring only its held-out messages.
    std::vector<std::unique_ptr<BuiltinExtractor>> extractors;
    std::map<std::string, size_t> fold_of;
    if (fold_models.empty()) {
      extractors.push_back(std::make_unique<BuiltinExtractor>(gazetteer, opt));
    }
    for (size_t f = 0; !fold_models.empty(); ++f) {
      std::string base = fold_models + "/fold-" + std::to_string(f);
      if (!std::filesystem::exists(base + ".tsv")) break;
      opt.relevance_model_file = base + ".tsv";
      extractors.push_back(std::make_unique<BuiltinExtractor>(gazetteer, opt));
      std::istringstream ids(read_file(base + ".ids"));
      for (std::string id; std::getline(ids, id);) fold_of[id] = f;
    }
    if (extractors.empty()) throw std::runtime_error(fold_models + ": no fold-0.tsv");
    muc::ResponseOptions ropt;
    ropt.weekday_as_before_anchor = !weekday_exact;
    ropt.anchor_day_as_before_anchor = today_before;

    std::vector<muc::Message> messages;
    for (const auto& t : texts) {
      auto m = muc::read_messages(read_file(t));
      messages.insert(messages.end(), m.begin(), m.end());
    }
    std::vector<muc::KeyTemplate> all_keys;
    for (const auto& k : keys) {
      auto parsed = muc::parse_keys(read_file(k));
      all_keys.insert(all_keys.end(), parsed.begin(), parsed.end());
    }
    std::map<std::string, std::vector<const muc::KeyTemplate*>> by_message;
    for (const auto& k : all_keys) by_message[k.message_id].push_back(&k);

    muc::Scorer scorer(mapping == "muc4" ? muc::Mapping::kMuc4 : muc::Mapping::kTypeMatch);
    double extract_seconds = 0;
    double cpu_seconds = 0;  // thread CPU time: the machine may be shared
    size_t bytes = 0;
    size_t unkeyed = 0;
    for (const auto& m : messages) {
      auto it = by_message.find(m.id);
      if (it == by_message.end()) {
        ++unkeyed;
        continue;
      }
      ArticleText a;
      a.text = m.text;
      auto t0 = std::chrono::steady_clock::now();
      timespec c0{}, c1{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
      auto fold = fold_of.find(m.id);
      const BuiltinExtractor& extractor = *extractors[fold == fold_of.end() ? 0 : fold->second];
      Extraction e = extractor.run(a);
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
      extract_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      cpu_seconds += static_cast<double>(c1.tv_sec - c0.tv_sec) + static_cast<double>(c1.tv_nsec - c0.tv_nsec) * 1e-9;
      bytes += m.text.size();
      auto dl = DateResolver::parse_dateline(m.text);
      int32_t anchor = dl && dl->has_date ? dl->day : 0;
      auto responses = muc::to_responses(e, anchor, ropt);
      std::vector<int> mapped = scorer.add(it->second, responses);
      if (!slot_errors.empty()) {
        for (size_t r = 0; r < responses.size(); ++r) {
          if (mapped[r] < 0) continue;
          const muc::KeyTemplate& k = *it->second[static_cast<size_t>(mapped[r])];
          bool date = slot_errors == "date";
          const auto& key = date ? k.dates : k.locations;
          const std::string& resp = date ? responses[r].date : responses[r].location;
          if (key.empty()) continue;
          muc::Match mt = resp.empty() ? muc::Match::kIncorrect
                          : date       ? muc::match_date(key, resp)
                                       : muc::match_location(key, resp);
          if (mt == muc::Match::kCorrect && !slot_all) continue;
          std::printf("%s %s KEY %s | RSP %s\n", m.id.c_str(),
                      mt == muc::Match::kCorrect ? "COR" : mt == muc::Match::kPartial ? "PAR" : "INC",
                      key.front().c_str(), resp.c_str());
        }
      }
      if (dump_out.is_open()) {
        // Responses are the incidents with a MUC type, in order.
        size_t r = 0;
        for (const Incident& inc : e.incidents) {
          if (muc_type_name(inc.type).empty()) continue;
          dump_out << (mapped[r] >= 0 ? 1 : 0) << '\t' << m.id << '\t';
          for (size_t c = 0; c < inc.confidence.cues.size(); ++c) dump_out << (c ? " " : "") << inc.confidence.cues[c];
          dump_out << '\t' << inc.confidence.type << '\t' << inc.confidence.place << '\t' << inc.confidence.time
                   << '\t' << inc.confidence.actors << '\t' << normalize_phrase(inc.evidence) << '\n';
          ++r;
        }
      }
      if (errors) {
        std::printf("=== %s\n", m.id.c_str());
        for (const auto* k : it->second) {
          if (!k->relevant) {
            std::printf("  KEY  *\n");
            continue;
          }
          std::string orgs, tg;
          for (const auto& f : k->perp_orgs) orgs += (orgs.empty() ? "" : " | ") + f.alternatives.front();
          for (const auto& f : k->phys_targets) tg += (tg.empty() ? "" : " | ") + f.alternatives.front();
          for (const auto& f : k->hum_targets) tg += (tg.empty() ? "" : " | ") + f.alternatives.front();
          std::printf("  KEY%s %s | %s | %s | org=%s | tgt=%s\n", k->optional ? "?" : " ",
                      k->types.empty() ? "-" : k->types.front().c_str(), k->dates.empty() ? "-" : k->dates.front().c_str(),
                      k->locations.empty() ? "-" : k->locations.front().c_str(), orgs.c_str(), tg.c_str());
        }
        size_t i = 0;
        for (const auto& r : responses) {
          std::string tg;
          for (const auto& s : r.phys_targets) tg += (tg.empty() ? "" : " | ") + s;
          for (const auto& s : r.hum_targets) tg += (tg.empty() ? "" : " | ") + s;
          std::printf("  RSP  %s | %s | %s | org=%s | tgt=%s | conf=%.2f\n", r.type.c_str(), r.date.c_str(),
                      r.location.c_str(), r.perp_orgs.empty() ? "" : r.perp_orgs.front().c_str(), tg.c_str(),
                      e.incidents.size() > i ? e.incidents[i].confidence.value : 0.0);
          if (i < e.incidents.size()) {
            std::string ev = e.incidents[i].evidence.substr(0, 220);
            for (char& c : ev) c = c == '\n' ? ' ' : c;
            std::printf("       ev: %s\n", ev.c_str());
          }
          ++i;
        }
      }
    }
    const auto& s = scorer.scores();
    std::printf("messages %d  key templates %d (optional %d)  responses %d  matched %d  (mapping: %s)\n",
                s.messages, s.key_templates, s.optional_templates, s.response_templates, s.matched_templates,
                mapping.c_str());
    std::printf("%-14s %6s %6s %6s %6s %6s %6s %6s  %5s %5s %5s\n", "slot", "COR", "PAR", "INC", "MIS", "SPU", "POS",
                "ACT", "REC", "PRE", "F1");
    print_row("incident type", s.type);
    print_row("date", s.date);
    print_row("location", s.location);
    print_row("perp org", s.perp_org);
    print_row("targets", s.targets);
    print_row(" phys targets", s.phys_targets);
    print_row(" hum targets", s.hum_targets);
    print_row("all slots", s.all);
    double per_msg_us = s.messages > 0 ? extract_seconds * 1e6 / s.messages : 0;
    double cpu_us = s.messages > 0 ? cpu_seconds * 1e6 / s.messages : 0;
    std::printf("extraction: %.1f us/message CPU, %.1f us wall (%.0f bytes/message avg), %zu messages without a key "
                "skipped\n",
                cpu_us, per_msg_us, s.messages > 0 ? static_cast<double>(bytes) / s.messages : 0.0, unkeyed);
    if (!json_out.empty()) {
      std::string out;
      JsonWriter w(out);
      w.begin_object();
      w.member("mapping", mapping).member("messages", s.messages).member("key_templates", s.key_templates);
      w.member("optional_templates", s.optional_templates).member("response_templates", s.response_templates);
      w.member("matched_templates", s.matched_templates);
      w.key("slots").begin_object();
      json_slot(w, "incident_type", s.type);
      json_slot(w, "date", s.date);
      json_slot(w, "location", s.location);
      json_slot(w, "perp_org", s.perp_org);
      json_slot(w, "targets", s.targets);
      json_slot(w, "phys_targets", s.phys_targets);
      json_slot(w, "hum_targets", s.hum_targets);
      json_slot(w, "all", s.all);
      w.end_object();
      w.member("extract_cpu_us_per_message", cpu_us).member("extract_wall_us_per_message", per_msg_us);
      w.end_object();
      out.push_back('\n');
      if (json_out == "-") {
        std::fwrite(out.data(), 1, out.size(), stdout);
      } else {
        std::ofstream(json_out) << out;
      }
    }
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "muc_score: %s\n", ex.what());
    return 1;
  }
  return 0;
}
