// MUC-3/4 evaluation: reads the corpus texts and answer keys, turns an
// Extraction into MUC response templates, and scores responses against keys
// per slot the way the MUC scorer does (correct / partial / incorrect /
// missing / spurious -> recall, precision, F1 with partial counted half).
// The exact rules are in docs/EXTRACTION.md ("Scoring"); tools/muc_score.cpp
// is the command-line front end.
//
// Scored slots: INCIDENT: TYPE, DATE, LOCATION, PERP: ORGANIZATION ID, and
// the targets (PHYS TGT: ID plus HUM TGT: NAME/DESCRIPTION, also reported
// apart). Cold path (evaluation only); plain functions and values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "intel/extraction.h"

namespace sentinel::intel::muc {

/// One corpus message: its id ("TST1-MUC3-0001") and its text (from the
/// dateline on; the id line removed).
struct Message {
  std::string id;
  std::string text;
};

/// Splits a corpus file into messages. Lines like "DEV-MUC3-0001 (NOSC)"
/// or "TST2-MUC4-0048" start a message.
std::vector<Message> read_messages(std::string_view file_text);

/// One filler of a multi-valued key slot: its alternative strings (any one
/// is correct), whether generating it is optional ("?"), and, for
/// descriptions of named human targets, nothing else: the description's
/// alternatives are folded into the named target's.
struct KeyFiller {
  std::vector<std::string> alternatives;
  bool optional = false;
};

/// One answer-key template. `relevant` is false for the "*" template of a
/// message with no relevant incident.
struct KeyTemplate {
  std::string message_id;
  std::string number;      ///< the MESSAGE: TEMPLATE fill ("1", "2")
  bool optional = false;   ///< "(OPTIONAL)" after the number
  bool relevant = true;
  std::vector<std::string> types;      ///< alternatives ("BOMBING / ATTACK")
  std::vector<std::string> dates;      ///< alternatives, each "DD MMM YY", "A - B", "- D"; empty = null
  bool date_optional = false;
  std::vector<std::string> locations;  ///< alternatives, each a chain "COUNTRY: PLACE (TYPE)[ - PLACE (TYPE)]"
  std::vector<KeyFiller> perp_orgs;
  std::vector<KeyFiller> phys_targets;
  std::vector<KeyFiller> hum_targets;  ///< named targets (name + description alternatives) and unnamed descriptions
};

/// Parses a key file; throws std::runtime_error("key:LINE: reason") on a
/// malformed template.
std::vector<KeyTemplate> parse_keys(std::string_view file_text);

/// A system response template (already in MUC fill syntax).
struct ResponseTemplate {
  std::string type;      ///< "ATTACK"
  std::string date;      ///< "12 JAN 90", "12 JAN 90 - 14 JAN 90", "- 15 JAN 90", or empty
  std::string location;  ///< "EL SALVADOR: SAN SALVADOR (CITY)", or empty
  std::vector<std::string> perp_orgs;
  std::vector<std::string> phys_targets;
  std::vector<std::string> hum_targets;
};

/// How the dates of an Extraction are written as MUC fills.
struct ResponseOptions {
  /// MUC guideline (template-doc part 1, slot 2, note 1): a date known only
  /// from a weekday name is written "- <anchor>". When false, the resolved
  /// weekday is written as a single date.
  bool weekday_as_before_anchor = true;
  /// Likewise for vague spans ("last week"): "- <anchor>" when true, else
  /// the span "A - B".
  bool vague_as_before_anchor = true;
  /// A date resolved to the anchor day itself ("today", "this morning") as
  /// "- <anchor>" instead of the day (the guideline says the day; on DEV the
  /// day also scores better).
  bool anchor_day_as_before_anchor = false;
};

/// The response templates for one message: one per incident whose type has
/// a MUC counterpart. `anchor_day` is the dateline day (for "- D" forms).
std::vector<ResponseTemplate> to_responses(const Extraction& e, int32_t anchor_day, const ResponseOptions& options = {});

enum class Match : uint8_t { kCorrect, kPartial, kIncorrect };

/// Slot matchers (exposed for tests). Strings are compared after
/// normalisation: upper case, quotes and brackets' contents kept, leading
/// articles dropped, runs of spaces collapsed.
Match match_type(const std::vector<std::string>& key, std::string_view response);
Match match_date(const std::vector<std::string>& key, std::string_view response);
Match match_location(const std::vector<std::string>& key, std::string_view response);
Match match_string(const std::vector<std::string>& key_alternatives, std::string_view response);

/// Counts for one slot.
struct SlotScore {
  double correct = 0, partial = 0, incorrect = 0, missing = 0, spurious = 0;
  double possible() const { return correct + partial + incorrect + missing; }
  double actual() const { return correct + partial + incorrect + spurious; }
  double recall() const;
  double precision() const;
  double f1() const;
  SlotScore& operator+=(const SlotScore& o);
};

/// How response templates are paired with key templates in a message.
enum class Mapping : uint8_t {
  /// A pair needs the same incident type; among eligible pairs the one that
  /// agrees on most of the other slots is taken first (greedy).
  kTypeMatch,
  /// MUC-4's stricter condition: same type and at least a partial match on
  /// the perpetrator organisation or a target.
  kMuc4,
};

struct Scores {
  SlotScore type, date, location, perp_org, targets, phys_targets, hum_targets;
  SlotScore all;  ///< every slot pooled
  int messages = 0;
  int key_templates = 0;       ///< relevant key templates (optional ones included)
  int optional_templates = 0;
  int response_templates = 0;
  int matched_templates = 0;
};

/// Accumulates scores message by message.
class Scorer {
 public:
  explicit Scorer(Mapping mapping = Mapping::kTypeMatch) : mapping_(mapping) {}
  /// Scores one message: its key templates (all of them, the "*" one of an
  /// irrelevant message included) against the responses. Returns, for each
  /// response, the index in `keys` of the key template it was mapped to, or
  /// -1 (spurious).
  std::vector<int> add(const std::vector<const KeyTemplate*>& keys, const std::vector<ResponseTemplate>& responses);
  const Scores& scores() const { return scores_; }

 private:
  Mapping mapping_;
  Scores scores_;
};

}  // namespace sentinel::intel::muc
