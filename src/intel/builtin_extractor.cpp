#include "intel/builtin_extractor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "intel/date_resolver.h"

namespace sentinel::intel {
namespace {

// ---------------------------------------------------------------------------
// Lexicon payloads: kind in the top byte, an index below.

enum Kind : uint8_t {
  kEvidence = 1,
  kOrg,
  kPerpWord,    // non-state perpetrators: guerrillas, gunmen, robbers
  kStateWord,   // soldiers, police: officers in city news, state actors in MUC
  kHumNoun,     // people who can be victims
  kPhysNoun,    // things that can be targets
  kClash,       // armed clash between forces
  kNegation,    // denial, rumour
  kBackground,  // "recall", "anniversary": history, not news
  kTitle,       // a title before a person's name
  kWitness,
  kDirection,   // north/south/east/west and abbreviations
  kPlaceKind,   // "department", "province", "city" after a place name
  kGeneric,     // plural/generic statements ("attacks against")
  kModal,       // hypothetical or future: "will", "would", "could", "if"
  kAccident,    // accidents and disasters: not crimes
  kWord,        // a word of the relevance model (article level)
  kSentenceWord,  // a word of the relevance model (the incident's sentence)
  kAerial,      // aircraft: their bombs make attacks, not bombings
  kClaim,       // "claimed responsibility"
  kDeath,       // a death: "died", "pronounced dead", "fatally" (makes a shooting a homicide)
  kKindCount,
};

static_assert(kKindCount <= 32, "kind_mask holds one bit per kind");

constexpr uint32_t pack(Kind k, uint32_t index) { return static_cast<uint32_t>(k) << 24 | index; }
constexpr Kind kind_of(uint32_t payload) { return static_cast<Kind>(payload >> 24); }
constexpr uint32_t index_of(uint32_t payload) { return payload & 0xffffffu; }
constexpr uint32_t bit(Kind k) { return 1u << k; }

// ---------------------------------------------------------------------------
// Relevance cues: what the text says around an incident that makes it more
// or less likely to be a real, recent, specific incident. Relevance is a
// logistic function of the cues that fire (weights: built-in defaults, or a
// model file fitted on labelled data, docs/EXTRACTION.md).

enum Cue : uint8_t {
  kCueBombing,
  kCueKidnapping,
  kCueArson,
  kCueRobbery,
  kCueHijacking,
  kCueStoppage,
  kCueAttack,        // generic violence (attack, homicide, shooting, assault)
  kCueOtherType,     // city types with no MUC counterpart
  kCueStrongTrigger, // an evidence word of weight >= 0.9
  kCueOutcomeOnly,   // only "killed", "wounded": no act named
  kCueAnaphoric,     // "the attack"
  kCueMultiSentence, // more than one sentence speaks of it
  kCuePerpWord,      // guerrillas, gunmen ... as agents
  kCueOrgGuerrilla,
  kCueOrgState,
  kCueOrgCriminal,
  kCueAgentState,    // soldiers, police as agents
  kCueVictimCivil,
  kCueVictimStateOnly,
  kCueVictimPerpOnly,
  kCuePhysTarget,
  kCueNoTarget,
  kCueClash,
  kCueNegation,
  kCueBackground,
  kCueGenericPhrase,
  kCueModal,
  kCueAccident,
  kCueSpeech,        // speech, statement, commentary, editorial
  kCueDateExplicit,
  kCueDateRelative,  // today, yesterday, N days ago
  kCuePlaceExplicit,
  kCuePlaceCountryOnly,
  kCuePlaceNone,
  kCueFirstParagraph,
  kCueQuoted,        // the sentence is inside quotation marks
  kCueLead,          // told in the article's first sentence
  kCueFirstIncident, // the first incident the article tells of
  kCueDateRecent,    // dated the anchor day or the day before
  kCueDateOld,       // dated more than two weeks before the anchor
  kCueNamedVictim,   // a victim named after a title ("MAYOR X")
  kCueClaimed,       // "claimed responsibility"
  kCueCasualties,    // a number of people ("3 PEASANTS", "KILLING 5")
  kCueForeignDateline,  // the dateline is outside the home regions
  kCueManyIncidents, // the article tells of four or more incidents
  kCueCount,
};

constexpr std::string_view kCueNames[kCueCount] = {
    "type_bombing",      "type_kidnapping",   "type_arson",          "type_robbery",        "type_hijacking",
    "type_stoppage",     "type_attack",       "type_other",          "strong_trigger",      "outcome_only",
    "anaphoric",         "multi_sentence",    "perp_word",           "org_guerrilla",       "org_state",
    "org_criminal",      "agent_state",       "victim_civil",        "victim_state_only",   "victim_perp_only",
    "phys_target",       "no_target",         "clash",               "negation",            "background",
    "generic_phrase",    "modal",             "accident",            "speech",              "date_explicit",
    "date_relative",     "place_explicit",    "place_country_only",  "place_none",          "first_paragraph",
    "quoted",            "lead",              "first_incident",      "date_recent",         "date_old",
    "named_victim",      "claimed",           "casualties",          "foreign_dateline",    "many_incidents"};

// Defaults, set by hand for news in general (no model file): a plain
// report of an act scores sigmoid(2.2) = 0.90; hedges and context pull it
// down. The political-violence cues (clash, agent_state, victim_*_only) are
// only emitted with political_violence_rules.
struct CueWeight {
  Cue cue;
  float weight;
};
constexpr double kDefaultBias = 2.2;
constexpr CueWeight kDefaultWeights[] = {
    {kCueStrongTrigger, 0.4f},  {kCueOutcomeOnly, -0.8f},    {kCueAnaphoric, -0.3f},     {kCueMultiSentence, 0.4f},
    {kCuePerpWord, 0.3f},       {kCueOrgGuerrilla, 0.5f},    {kCueOrgCriminal, 0.3f},    {kCueVictimCivil, 0.3f},
    {kCuePhysTarget, 0.3f},     {kCueNoTarget, -0.4f},       {kCueClash, -1.5f},         {kCueNegation, -0.8f},
    {kCueBackground, -1.2f},    {kCueGenericPhrase, -0.5f},  {kCueModal, -1.0f},         {kCueAccident, -2.5f},
    {kCueSpeech, -0.6f},        {kCueAgentState, -1.0f},     {kCueVictimPerpOnly, -3.0f}, {kCueVictimStateOnly, -0.8f},
    {kCuePlaceNone, -0.8f},     {kCueDateExplicit, 0.2f},    {kCueQuoted, -0.5f},
};

static_assert(kCueCount <= 64, "a CueSet holds one bit per cue");
using CueSet = uint64_t;
constexpr CueSet cue(Cue c) { return CueSet{1} << c; }
// Cues that describe a sentence's wording: a merged incident keeps those
// all its sentences share. The others (actors, targets) add up.
constexpr CueSet kSentenceCues = cue(kCueClash) | cue(kCueNegation) | cue(kCueBackground) | cue(kCueGenericPhrase) |
                                 cue(kCueModal) | cue(kCueAccident) | cue(kCueQuoted) | cue(kCueOutcomeOnly) |
                                 cue(kCueAnaphoric);

// Word lists. Lower case; matched on normalised tokens (gazetteer.h).
constexpr std::string_view kPerpWords[] = {
    "guerrilla", "guerrillas", "guerrilla column", "terrorist", "terrorists", "subversive", "subversives",
    "rebel", "rebels", "insurgents", "gunman", "gunmen", "hit men", "hitmen", "hired killers", "assailants",
    "attackers", "urban commandos", "commando", "commandos", "extremists", "armed men", "heavily armed men",
    "unidentified men", "unidentified individuals", "unknown individuals", "individuals", "criminals",
    "kidnappers", "killers", "assassins", "drug traffickers", "narcoterrorists", "death squad", "death squads",
    "paramilitary", "paramilitary groups", "suspect", "suspects", "offender", "offenders", "robber", "robbers",
    "shooter", "shooters", "thieves", "thief", "burglar", "burglars", "carjackers", "mafia", "sicarios",
    "terrorist group", "terrorist commando", "armed group", "armed band", "bandits", "the extraditables",
    "extraditables"};
constexpr std::string_view kStateWords[] = {
    "soldier", "soldiers", "troops", "army", "military", "police", "policeman", "policemen", "police officer",
    "police officers", "officer", "officers", "national guard", "national police", "treasury police",
    "security forces", "armed forces", "battalion", "patrol", "air force", "navy", "detective", "detectives",
    "deputies", "agents", "military patrol", "army patrol", "guardsmen", "marines", "sheriff", "troopers",
    "police department", "chicago police", "state police", "fbi"};
constexpr std::string_view kHumNouns[] = {
    "peasant", "peasants", "civilian", "civilians", "people", "persons", "person", "villager", "villagers",
    "student", "students", "woman", "women", "man", "men", "child", "children", "boy", "boys", "girl", "girls",
    "teenager", "teenagers", "teen", "mayor", "judge", "judges", "priest", "priests", "jesuit", "jesuits",
    "jesuit priests", "journalist", "journalists", "reporter", "reporters", "businessman", "businessmen",
    "industrialist", "union leader", "union leaders", "trade unionist", "leader", "leaders", "official",
    "officials", "councilman", "councilor", "minister", "ambassador", "diplomat", "diplomats", "legislator",
    "congressman", "senator", "candidate", "presidential candidate", "president", "governor", "lawyer",
    "attorney", "employee", "employees", "worker", "workers", "driver", "drivers", "passenger", "passengers",
    "passerby", "passersby", "family", "relatives", "wife", "son", "daughter", "teacher", "teachers", "nun",
    "nuns", "bishop", "archbishop", "doctor", "nurse", "guard", "guards", "bodyguard", "bodyguards", "victim",
    "victims", "resident", "residents", "inhabitants", "pedestrian", "pedestrians", "clerk", "cashier",
    "customer", "customers", "owner", "homeowner", "motorist", "magistrate", "prosecutor", "agronomist",
    "engineer", "engineers", "technician", "technicians", "tourists", "tourist", "missionary", "missionaries",
    "politician", "politicians", "deputy", "deputies", "councilmen", "citizens", "citizen", "campesinos",
    "indians", "natives", "settlers", "farmer", "farmers", "rancher", "landowner", "merchant", "merchants",
    "trader", "vendor", "security guard", "security guards", "watchman", "night watchman", "colonel",
    "general", "retired general", "captain", "lieutenant", "sergeant", "policeman", "policemen", "dead",
    "wounded"};
constexpr std::string_view kPhysNouns[] = {
    "house", "houses", "home", "homes", "residence", "residences", "building", "buildings", "office",
    "offices", "headquarters", "embassy", "bank", "banks", "branch", "store", "stores", "shop", "shops",
    "supermarket", "restaurant", "hotel", "church", "school", "university", "vehicle", "vehicles", "car",
    "cars", "bus", "buses", "truck", "trucks", "jeep", "train", "plane", "aircraft", "helicopter", "bridge",
    "bridges", "highway", "pipeline", "oil pipeline", "power line", "power lines", "electric tower",
    "electric towers", "power tower", "power towers", "high tension towers", "pylons", "towers", "substation",
    "power substation", "electric power substation", "power station", "power plant", "plant", "facilities",
    "installations", "installation", "factory", "warehouse", "police station", "telephone office",
    "telephone company", "radio station", "newspaper", "farm", "farms", "ranch", "estate", "hacienda",
    "premises", "company", "dam", "aqueduct", "water pipes", "market", "bar", "discotheque", "gas station",
    "service station", "kiosk", "booth", "polling station", "town hall", "mayors office", "courthouse",
    "ministry", "cooperative", "union headquarters", "apartment", "apartments", "garage", "business", "clinic",
    "hospital", "tanker", "tank truck", "locomotive", "wagons", "boat", "ship", "pipeline", "oil well",
    "electricity", "energy towers", "transmission towers", "telephone booth", "radio", "television station",
    "agency", "consulate", "mission", "club", "center", "plaza", "monument", "temple", "mormon temple",
    "chapel", "seminary", "convent", "library", "theater", "cinema", "stadium", "airport", "port", "railroad",
    "railway", "road", "roads", "posts", "post", "outpost", "outposts", "barracks", "installations", "convoy",
    "convoys", "garrison", "garrisons"};
constexpr std::string_view kClashWords[] = {
    "clash", "clashes", "clashed", "combat", "combats", "fighting", "skirmish", "skirmishes", "confrontation",
    "confrontations", "engagement", "battle", "battles", "offensive", "counteroffensive", "armed clash",
    "exchange of fire", "fought", "firefight", "crossfire", "shootout"};
constexpr std::string_view kNegationWords[] = {"denied", "denies", "deny", "rumor",  "rumors",  "rumours",
                                               "false", "unfounded", "hoax", "not true", "refuted"};
constexpr std::string_view kBackgroundWords[] = {
    "recall", "recalled", "anniversary", "commemorate", "commemorated", "commemoration", "last year",
    "years ago", "months ago", "trial", "sentenced", "convicted", "indicted", "investigation into", "in 1985",
    "in 1986", "in 1987", "in 1988", "history"};
constexpr std::string_view kTitleWords[] = {
    "president", "mayor", "judge", "father", "priest", "monsignor", "msgr", "archbishop", "bishop", "colonel",
    "col", "general", "gen", "major", "maj", "captain", "capt", "lieutenant", "lt", "sergeant", "sgt",
    "minister", "senator", "deputy", "councilman", "governor", "attorney", "doctor", "dr", "mr", "mrs", "ms",
    "engineer", "journalist", "candidate", "ambassador", "commander", "chief", "officer", "sister",
    "businessman", "industrialist", "lawyer", "reverend", "rev"};
constexpr std::string_view kWitnessWords[] = {"witness", "witnesses", "eyewitness", "eyewitnesses", "bystander",
                                              "bystanders", "neighbor", "neighbors", "neighbour", "neighbours"};
constexpr std::string_view kDirections[] = {"north", "south", "east", "west", "n", "s", "e", "w"};
constexpr std::string_view kPlaceKinds[] = {"department", "province", "city", "town", "municipality",
                                            "neighborhood", "district", "village", "region", "state",
                                            "jurisdiction", "hamlet", "canton", "community area"};
constexpr std::string_view kGenericWords[] = {"wave of", "series of", "campaign of", "attacks against",
                                              "acts of terrorism", "terrorist acts", "terrorist actions",
                                              "escalation", "violence"};

constexpr std::string_view kModalWords[] = {"will", "would", "could", "might", "should", "must", "if",
                                            "prevent", "plan", "plans", "planned", "intend", "intends",
                                            "in order to", "want to", "wants to", "trying to", "seek to"};
constexpr std::string_view kAerialWords[] = {"air force", "plane", "planes", "airplanes", "aircraft",
                                             "helicopter", "helicopters", "gunships", "a 37", "strafed",
                                             "strafing", "aerial", "air strikes", "airstrike", "fighter planes"};
constexpr std::string_view kClaimWords[] = {"claimed responsibility", "claim responsibility",
                                            "claims responsibility", "claimed credit", "responsibility for"};
// A death of the victim: with a shooting, assault or attack it makes the act
// a homicide (city news; MUC types are unaffected: both are ATTACK).
constexpr std::string_view kDeathWords[] = {
    "killed", "killing", "fatally", "fatal", "deadly", "dead", "died", "dies", "death", "slain",
    "pronounced dead", "shot dead", "shot and killed", "stabbed to death", "beaten to death"};
constexpr std::string_view kAccidentWords[] = {"accident", "accidents", "crash", "crashed", "collision",
                                               "earthquake", "flood", "floods", "accidental", "accidentally",
                                               "fell", "landslide", "hurricane", "storm", "overdose"};

// Words that end a target noun phrase when extending it to the left.
bool is_stop(std::string_view w) {
  static const std::unordered_set<std::string_view> kStop = {
      "the",   "a",     "an",    "of",    "in",     "on",     "at",    "by",     "to",     "and",   "or",
      "was",   "were",  "is",    "are",   "has",    "have",   "had",   "been",   "its",    "his",   "her",
      "their", "this",  "that",  "these", "those",  "which",  "who",   "whose",  "with",   "from",  "for",
      "into",  "near",  "after", "before", "during", "against", "two",  "three",  "four",   "five",  "six",
      "seven", "eight", "nine",  "ten",   "several", "other",  "some",  "many",   "one",    "also",  "said",
      "reported", "killed", "wounded", "injured", "attacked", "destroyed", "damaged", "burned", "another",
      "all",   "both",  "when",  "where", "while",  "as",     "but",   "not",    "no",     "it",    "they",
      "he",    "she",   "we",    "our",   "them",   "him",    "yesterday", "today", "last", "night", "about",
      "over",  "under", "than",  "there", "here",   "then",   "later", "up",     "out",    "down",  "off",
      "s",     "via",   "per",   "same",  "various", "such",  "any",   "each",   "every",  "most",  "more",
      // Verbs that precede objects in wire copy; they never modify a noun.
      "says",  "shows", "allows", "prevent", "explained", "told", "asked", "stated", "added", "claimed",
      "announced", "confirmed", "denied", "caused", "left", "found", "took", "made", "carried", "including",
      "include", "includes", "honor", "visit", "visited", "against", "toward", "towards", "within", "without",
      "because", "since", "until", "if", "would", "will", "could", "should", "must", "may", "might", "did",
      "do", "does", "be", "being", "so", "very", "only", "even", "just", "still", "already", "now"};
  return kStop.count(w) > 0;
}

// Words that make the act word after them a noun ("THE MURDER", "X'S
// MURDER" -> "x s murder").
bool is_determiner(std::string_view w) {
  return w == "the" || w == "a" || w == "an" || w == "s" || w == "this" || w == "his" || w == "her" ||
         w == "their" || w == "its";
}

// Rivers, volcanoes and the like: landmarks a report locates fighting or
// an act near, not the place MUC keys name (the town or department).
bool is_natural_feature(std::string_view kind) {
  static const std::unordered_set<std::string_view> kKinds = {"RIVER", "VOLCANO", "MOUNTAIN", "MOUNTAINS", "HILL",
                                                              "HILLS", "VALLEY",  "LAKE",     "GULF",      "CANYON"};
  return kKinds.count(kind) > 0;
}

// Things only armed forces have (a "CONVOY" or "BARRACKS" attacked is a
// military target whatever words surround it).
bool is_military_thing(std::string_view w) {
  return w == "barracks" || w == "garrison" || w == "outpost" || w == "convoy" || w == "garrisons" ||
         w == "outposts" || w == "convoys";
}

// Participles and adjectives of an outcome ("shot and wounded", "the
// injured"): never a person's description on their own.
bool is_outcome_word(std::string_view w) {
  return w == "wounded" || w == "injured" || w == "killed" || w == "hurt" || w == "dead" || w == "slain" ||
         w == "shot" || w == "stabbed" || w == "beaten";
}

// Words that, just before an evidence word, deny it ("no one was arrested",
// "was not hurt").
bool is_negator(std::string_view w) {
  return w == "no" || w == "not" || w == "nobody" || w == "never" || w == "none" || w == "without";
}

bool is_enforcement(IncidentType t) {
  return t == IncidentType::kWeapons || t == IncidentType::kDrugs || t == IncidentType::kArrest;
}

bool is_passive_aux(std::string_view w) { return w == "been" || w == "was" || w == "were" || w == "being"; }

// Hum nouns that are too generic to report as a target on their own.
bool is_weak_hum(std::string_view w) {
  return w == "man" || w == "men" || w == "person" || w == "persons" || w == "leader" || w == "leaders" ||
         w == "official" || w == "officials" || w == "family" || w == "owner" || w == "victim" || w == "victims";
}

bool is_ambiguous_place_word(std::string_view w) {
  static const std::unordered_set<std::string_view> kWords = {
      "central", "america", "alberto", "lopez",  "jimenez", "guevara", "molina",   "peralta", "carvajal",
      "uribe",   "manrique", "ocampo", "godinez", "galvez", "moreno",  "cortes",   "modelo",  "obrera",
      "regalado", "satelite", "victoria", "trinidad", "georgia", "florida", "maryland", "metropolis",
      "metropoli", "colonia", "valle", "pilar", "carmen", "dolores", "mercedes", "concepcion", "natividad",
      "purificacion", "asuncion", "remedios", "santuario", "libertad", "union", "north", "south", "east",
      "west", "center", "centre", "capital", "cesar", "tame",
      "chia", "anta", "tama", "teca", "tela", "uta", "oss", "izu", "suba", "buga", "boza", "leon"};
  return kWords.count(w) > 0;
}

// State words that name a body rather than its members.
bool is_agency_word(std::string_view w) {
  static const std::unordered_set<std::string_view> kWords = {
      "army",          "military",        "police",     "national guard", "national police", "treasury police",
      "security forces", "armed forces",  "air force",  "navy",           "police department", "chicago police",
      "state police",  "fbi"};
  return kWords.count(w) > 0;
}

// Words after a place name that make it part of another name.
bool is_name_suffix(std::string_view w) {
  static const std::unordered_set<std::string_view> kWords = {
      "battalion", "brigade", "command", "front", "street", "avenue", "highway", "road", "boulevard",
      "cartel",    "bridge",  "detachment", "regiment", "group", "company", "university", "hospital",
      "stadium",   "club",    "hotel",   "airport", "prison", "cathedral", "school", "st", "ave", "blvd",
      "division",  "zone",    "military", "garrison", "barracks", "base", "newspaper", "radio", "station"};
  return kWords.count(w) > 0;
}

int number_word_value(std::string_view w) {
  static constexpr std::string_view kNums[] = {"one",   "two", "three", "four",   "five",  "six",   "seven",
                                               "eight", "nine", "ten",  "eleven", "twelve", "dozens", "several"};
  for (size_t i = 0; i < std::size(kNums); ++i) {
    if (kNums[i] == w) return static_cast<int>(i) + 1;
  }
  return 0;
}

int32_t days_floor(int64_t ms) {
  int64_t d = ms / 86400000;
  if (ms % 86400000 < 0) --d;
  return static_cast<int32_t>(d);
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-std::clamp(z, -30.0, 30.0))); }

struct Sentence {
  uint32_t begin = 0, end = 0;
  uint32_t paragraph = 0;
  bool quoted = false;
};

struct Event {
  IncidentType type = IncidentType::kUnknown;
  float weight = 0;
  bool outcome_only = false;
  uint32_t sentence = 0;
  uint32_t trigger = 0;  // token
};

struct Candidate {
  Incident inc;
  uint32_t first_sentence = 0;
  uint32_t last_sentence = 0;
  uint32_t paragraph = 0;
  int32_t place_entry = -1;
  bool place_explicit = false;  // named in the incident's own sentences
  bool date_explicit = false;
  bool gated = false;           // outside the home regions, or history: never reported
  double type_strength = 0;
  bool has_perp = false;
  bool has_victim = false;
  bool has_officer = false;
  bool unnamed_victim = false;  // "the wounded": a victim without a description  // enforcement: the arresting officers or agency are named
  bool generic = false;    // a generic violent act or a bare outcome
  bool anaphoric = false;  // "the attack": refers back to an incident
  bool another = false;    // "another attack", "a second bomb": a new incident
  CueSet cues = 0;
  int events = 1;
};

// Per-thread scratch, reused across calls so the hot path allocates little.
struct Scratch {
  std::string buffer;
  TokenizedText tok;
  std::vector<uint32_t> ids;
  std::vector<PhraseMatcher::Hit> hits;
  std::vector<PlaceMention> places;
  std::vector<DateMention> dates;
  std::vector<uint32_t> sentence_of;
  std::vector<uint32_t> kind_mask;  // per token: bit(kind) of every hit covering it
  std::vector<Sentence> sentences;
  std::array<std::vector<PhraseMatcher::Hit>, kKindCount> by_kind;
  std::vector<uint8_t> word_seen;
};

bool by_begin(const PhraseMatcher::Hit& a, const PhraseMatcher::Hit& b) {
  return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
}

}  // namespace

struct BuiltinExtractor::Lexicon {
  PhraseMatcher matcher;
  std::vector<std::string> org_class;  // per organisation: guerrilla, state, criminal
  std::unordered_set<std::string> home;  // upper case
  DateResolver dates;
  double bias = kDefaultBias;
  std::array<double, kCueCount> cue_weight{};
  std::vector<double> word_weight;           // by kWord payload index
  std::vector<double> sentence_word_weight;  // by kSentenceWord payload index
};

namespace {

void load_orgs(std::string_view name, std::string_view content,
               std::vector<std::pair<std::string, uint32_t>>& phrases, std::vector<std::string>& classes) {
  size_t line_no = 0, start = 0;
  while (start < content.size()) {
    size_t nl = content.find('\n', start);
    std::string_view line = content.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? content.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    std::string cls = "guerrilla";
    size_t tab = line.find('\t');
    if (tab != std::string_view::npos) {
      cls = std::string(line.substr(tab + 1));
      line = line.substr(0, tab);
      if (cls != "guerrilla" && cls != "state" && cls != "criminal") {
        throw std::runtime_error(std::string(name) + ":" + std::to_string(line_no) + ": unknown class '" + cls +
                                 "' (want guerrilla, state or criminal)");
      }
    }
    auto org = static_cast<uint32_t>(classes.size());
    classes.push_back(cls);
    size_t s = 0;
    bool any = false;
    while (s <= line.size()) {
      size_t sep = line.find(" / ", s);
      std::string_view alt = line.substr(s, sep == std::string_view::npos ? std::string_view::npos : sep - s);
      std::string norm = normalize_phrase(alt);
      if (!norm.empty()) {
        phrases.emplace_back(norm, org);
        any = true;
      }
      if (sep == std::string_view::npos) break;
      s = sep + 3;
    }
    if (!any) throw std::runtime_error(std::string(name) + ":" + std::to_string(line_no) + ": empty organisation");
  }
}

std::string read_whole(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open " + std::string(what));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Relevance model file: "bias<TAB>w", "cue:NAME<TAB>w", "word:TOKEN<TAB>w"
// (the article's words), "sword:TOKEN<TAB>w" (the incident's first sentence).
void load_relevance_model(const std::string& path, BuiltinExtractor::Lexicon& lex,
                          std::vector<std::pair<std::string, double>>& words,
                          std::vector<std::pair<std::string, double>>& sentence_words) {
  std::string content = read_whole(path, "relevance model");
  lex.bias = 0;
  lex.cue_weight.fill(0);
  std::istringstream in(content);
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) throw std::runtime_error(path + ":" + std::to_string(line_no) + ": want NAME<TAB>WEIGHT");
    std::string name = line.substr(0, tab);
    char* end = nullptr;
    double v = std::strtod(line.c_str() + tab + 1, &end);
    if (end == line.c_str() + tab + 1 || !std::isfinite(v)) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": bad weight");
    }
    if (name == "bias") {
      lex.bias = v;
    } else if (name.rfind("cue:", 0) == 0) {
      std::string_view c = std::string_view(name).substr(4);
      auto it = std::find(std::begin(kCueNames), std::end(kCueNames), c);
      if (it == std::end(kCueNames)) {
        throw std::runtime_error(path + ":" + std::to_string(line_no) + ": unknown cue '" + std::string(c) + "'");
      }
      lex.cue_weight[static_cast<size_t>(it - std::begin(kCueNames))] = v;
    } else if (name.rfind("word:", 0) == 0) {
      words.emplace_back(name.substr(5), v);
    } else if (name.rfind("sword:", 0) == 0) {
      sentence_words.emplace_back(name.substr(6), v);
    } else {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": unknown entry '" + name + "'");
    }
  }
}

}  // namespace

BuiltinExtractor::BuiltinExtractor(std::shared_ptr<const Gazetteer> gazetteer, BuiltinExtractorOptions options)
    : gazetteer_(std::move(gazetteer)), options_(std::move(options)), lexicon_(std::make_unique<Lexicon>()) {
  if (!gazetteer_) throw std::invalid_argument("BuiltinExtractor: no gazetteer");
  Lexicon& lex = *lexicon_;
  auto ev = type_evidence();
  for (uint32_t i = 0; i < ev.size(); ++i) lex.matcher.add(ev[i].phrase, pack(kEvidence, i));
  auto add_list = [&](Kind k, auto& list) {
    for (uint32_t i = 0; i < std::size(list); ++i) lex.matcher.add(list[i], pack(k, i));
  };
  add_list(kPerpWord, kPerpWords);
  add_list(kStateWord, kStateWords);
  add_list(kHumNoun, kHumNouns);
  add_list(kPhysNoun, kPhysNouns);
  add_list(kClash, kClashWords);
  add_list(kNegation, kNegationWords);
  add_list(kBackground, kBackgroundWords);
  add_list(kTitle, kTitleWords);
  add_list(kWitness, kWitnessWords);
  add_list(kDirection, kDirections);
  add_list(kPlaceKind, kPlaceKinds);
  add_list(kGeneric, kGenericWords);
  add_list(kModal, kModalWords);
  add_list(kAccident, kAccidentWords);
  add_list(kAerial, kAerialWords);
  add_list(kClaim, kClaimWords);
  add_list(kDeath, kDeathWords);
  std::vector<std::pair<std::string, uint32_t>> org_phrases;
  for (const auto& f : options_.organisation_files) {
    load_orgs(f, read_whole(f, "organisation lexicon"), org_phrases, lex.org_class);
  }
  for (size_t i = 0; i < options_.organisation_texts.size(); ++i) {
    load_orgs("organisation_texts[" + std::to_string(i) + "]", options_.organisation_texts[i], org_phrases,
              lex.org_class);
  }
  for (const auto& [phrase, org] : org_phrases) lex.matcher.add(phrase, pack(kOrg, org));
  lex.cue_weight.fill(0);
  for (const auto& cw : kDefaultWeights) lex.cue_weight[cw.cue] = cw.weight;
  if (!options_.relevance_model_file.empty()) {
    std::vector<std::pair<std::string, double>> words, sentence_words;
    load_relevance_model(options_.relevance_model_file, lex, words, sentence_words);
    for (const auto& [word, weight] : words) {
      std::string norm = normalize_phrase(word);
      if (norm.empty() || norm.find(' ') != std::string::npos) continue;
      lex.matcher.add(norm, pack(kWord, static_cast<uint32_t>(lex.word_weight.size())));
      lex.word_weight.push_back(weight);
    }
    for (const auto& [word, weight] : sentence_words) {
      std::string norm = normalize_phrase(word);
      if (norm.empty() || norm.find(' ') != std::string::npos) continue;
      lex.matcher.add(norm, pack(kSentenceWord, static_cast<uint32_t>(lex.sentence_word_weight.size())));
      lex.sentence_word_weight.push_back(weight);
    }
  }
  lex.matcher.build();
  for (const auto& h : options_.home_regions) {
    std::string u;
    for (char c : h) u.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
    lex.home.insert(u);
  }
}

BuiltinExtractor::~BuiltinExtractor() = default;

Result<Extraction> BuiltinExtractor::extract(const ArticleText& article) {
  if (article.text.empty() && article.title.empty()) return make_error("text", "article has no title and no text");
  return run(article);
}

std::span<const std::string_view> BuiltinExtractor::cue_names() { return kCueNames; }

namespace {

// Everything one extraction call works with.
class Run {
 public:
  Run(const Gazetteer& g, const BuiltinExtractor::Lexicon& lex, const BuiltinExtractorOptions& opt, Scratch& s)
      : g_(g), lex_(lex), opt_(opt), s_(s) {}

  Extraction go(const ArticleText& a);

 private:
  const Gazetteer& g_;
  const BuiltinExtractor::Lexicon& lex_;
  const BuiltinExtractorOptions& opt_;
  Scratch& s_;

  bool anchor_known_ = false;
  int32_t anchor_ = 0;
  std::optional<Dateline> dateline_;
  int32_t dateline_entry_ = -1;
  std::string context_country_;
  bool speech_ = false;
  bool foreign_dateline_ = false;
  double text_score_ = 0;

  const std::vector<PhraseMatcher::Hit>& hits(Kind k) const { return s_.by_kind[k]; }
  // Hits of kind k inside tokens [begin, end) (hits sorted by begin).
  std::span<const PhraseMatcher::Hit> hits_in(Kind k, uint32_t begin, uint32_t end) const {
    const auto& v = s_.by_kind[k];
    auto lo = std::lower_bound(v.begin(), v.end(), begin,
                               [](const PhraseMatcher::Hit& h, uint32_t b) { return h.begin < b; });
    auto hi = lo;
    while (hi != v.end() && hi->begin < end) ++hi;
    return {lo, hi};
  }
  bool kind_at(uint32_t tok, uint32_t mask) const { return (s_.kind_mask[tok] & mask) != 0; }
  bool sentence_has(uint32_t s, Kind k) const {
    const Sentence& sen = s_.sentences[s];
    for (const auto& h : hits_in(k, sen.begin, sen.end)) {
      if (h.end <= sen.end) return true;
    }
    return false;
  }
  std::string_view w(size_t i) const { return s_.tok.norm_token(i); }
  uint32_t sentence_of(size_t tok) const { return s_.sentence_of[tok]; }
  bool in_home(const std::string& country) const { return lex_.home.empty() || lex_.home.count(country) > 0; }

  void build_sentences();
  void find_context_country();
  int32_t choose_candidate(const PlaceMention& m) const;
  bool foreign_unsupported(const PlaceEntry& pe, uint32_t tok_begin, uint32_t tok_end) const;
  bool place_for_sentences(uint32_t first, uint32_t last, Candidate& c);
  void fill_place(Candidate& c, int32_t entry, const PlaceMention* m);
  bool date_for_sentence(uint32_t s, uint32_t trigger, IncidentType type, OccurredTime& out) const;
  bool reports_statement(const DateMention& d) const;
  void fill_default_date(OccurredTime& t) const;
  void finish_time(OccurredTime& t) const;
  std::vector<Event> sentence_events(uint32_t s) const;
  bool negated(uint32_t tok) const;
  bool death_in(uint32_t first, uint32_t last) const;
  void assign_actors(const Event& e, Candidate& c) const;
  std::string noun_phrase(uint32_t begin, uint32_t end) const;
  std::string name_after_title(uint32_t title_end) const;
  int age_after(uint32_t noun_end) const;
  void score(Candidate& c) const;
  double sentence_score(uint32_t s) const;
  bool places_compatible(const Candidate& a, const Candidate& b) const;
  size_t h_text_size(const PhraseMatcher::Hit& h) const { return s_.tok.original(h.begin, h.end).size(); }
  void district_from_mentions(Candidate& c) const;
};

// A street address gets its district (community area) from a district
// named in the incident's sentences ("... 63rd Street in Englewood").
void Run::district_from_mentions(Candidate& c) const {
  if (c.inc.place.precision < PlacePrecision::kStreet || !c.inc.place.district.empty()) return;
  const Sentence& a = s_.sentences[c.first_sentence];
  const Sentence& b = s_.sentences[c.last_sentence];
  for (const auto& m : s_.places) {
    if (m.begin < a.begin || m.end > b.end) continue;
    for (uint32_t id : m.candidates) {
      const PlaceEntry& e = g_.entry(id);
      if (e.precision != PlacePrecision::kDistrict || e.country != c.inc.place.country) continue;
      c.inc.place.district = e.district.empty() ? e.name : e.district;
      c.inc.place.district_id = e.district_id;
      return;
    }
  }
}

// Two incidents' places can be one place: either is unknown, they are the
// same or one contains the other, or one is only a country or region of the
// other's country (the gazetteer rarely knows which department a village
// is in).
// Whether two candidates name a common target or victim of two words or
// more ("MAYOR OF ACHI", "CARLOS HUMBERTO FIGUEROA"): one-word descriptions
// ("PEASANTS", "VEHICLE") are too common to identify an incident.
bool shares_specific_target(const Candidate& a, const Candidate& b) {
  for (const auto& t1 : a.inc.targets) {
    if (t1.text.find(' ') == std::string::npos) continue;
    for (const auto& t2 : b.inc.targets) {
      if (t1.text == t2.text) return true;
    }
  }
  return false;
}

// Whether a later sentence's act names physical targets of its own, none of
// which the earlier incident has (not even by its head word): "a bomb went
// off at a branch of the Central Mortgage Bank ... another exploded at the
// Social Savings Bank" are two bombings.
bool distinct_physical_targets(const Candidate& earlier, const Candidate& later) {
  auto head = [](std::string_view t) { return t.substr(t.rfind(' ') + 1); };
  bool later_has = false, earlier_has = false;
  for (const auto& t2 : later.inc.targets) {
    if (t2.kind != TargetKind::kPhysical || t2.text.find(' ') == std::string::npos) continue;
    later_has = true;
    for (const auto& t1 : earlier.inc.targets) {
      if (t1.kind != TargetKind::kPhysical) continue;
      earlier_has = true;
      if (head(t1.text) == head(t2.text)) return false;
    }
  }
  return later_has && earlier_has;
}

bool Run::places_compatible(const Candidate& a, const Candidate& b) const {
  if (!a.place_explicit || !b.place_explicit || a.place_entry == b.place_entry) return true;
  if (a.place_entry < 0 || b.place_entry < 0) return a.inc.place.country == b.inc.place.country;
  auto ia = static_cast<uint32_t>(a.place_entry), ib = static_cast<uint32_t>(b.place_entry);
  if (g_.within(ia, ib) || g_.within(ib, ia)) return true;
  if (a.inc.place.country != b.inc.place.country) return false;
  // Different places of the same level are different incidents, and so
  // are a town, a neighbourhood or a site not within one another (on MUC
  // DEV the keys count them apart far more often than not); a region and a
  // town, or a street and a neighbourhood (streets cross districts), may be
  // one: the gazetteer's containment is too sparse to say.
  PlacePrecision pa = g_.entry(ia).precision, pb = g_.entry(ib).precision;
  auto local = [](PlacePrecision p) { return p >= PlacePrecision::kCity && p != PlacePrecision::kStreet; };
  if (local(pa) && local(pb)) return false;
  return pa != pb;
}

// The relevance weights of the distinct model words of sentence s.
double Run::sentence_score(uint32_t s) const {
  if (lex_.sentence_word_weight.empty()) return 0;
  const Sentence& sen = s_.sentences[s];
  double z = 0;
  auto span = hits_in(kSentenceWord, sen.begin, sen.end);
  for (size_t i = 0; i < span.size(); ++i) {
    bool dup = false;
    for (size_t j = 0; j < i && !dup; ++j) dup = span[j].payload == span[i].payload;
    if (!dup) z += lex_.sentence_word_weight[index_of(span[i].payload)];
  }
  return z;
}

void Run::build_sentences() {
  s_.sentences.clear();
  s_.sentence_of.resize(s_.tok.tokens.size());
  uint32_t paragraph = 0;
  Sentence cur;
  for (uint32_t i = 0; i < s_.tok.tokens.size(); ++i) {
    const Token& t = s_.tok.tokens[i];
    if ((t.flags & Token::kParagraphStart) && i > 0) ++paragraph;
    if (i == cur.begin) cur.paragraph = paragraph;
    s_.sentence_of[i] = static_cast<uint32_t>(s_.sentences.size());
    if (t.flags & Token::kSentenceEnd) {
      cur.end = i + 1;
      s_.sentences.push_back(cur);
      cur = Sentence{};
      cur.begin = i + 1;
    }
  }
  if (cur.begin < s_.tok.tokens.size()) {
    cur.end = static_cast<uint32_t>(s_.tok.tokens.size());
    s_.sentences.push_back(cur);
  }
  // Quoted sentences: an odd number of '"' before the sentence starts.
  size_t quotes = 0, pos = 0;
  for (auto& sen : s_.sentences) {
    size_t start = s_.tok.tokens[sen.begin].begin;
    for (; pos < start; ++pos) quotes += s_.tok.text[pos] == '"';
    // A quote mark right before the first word opens a quotation too.
    size_t back = start;
    while (back > 0 && (s_.tok.text[back - 1] == ' ' || s_.tok.text[back - 1] == '\n')) --back;
    sen.quoted = (quotes % 2 == 1) || (back > 0 && s_.tok.text[back - 1] == '"' && quotes % 2 == 1);
  }
}

void Run::find_context_country() {
  std::unordered_map<std::string, double> votes;
  if (dateline_) {
    if (!dateline_->country.empty()) {
      votes[dateline_->country] += 3;
    } else if (dateline_entry_ >= 0) {
      votes[g_.entry(static_cast<uint32_t>(dateline_entry_)).country] += 3;
    }
  }
  for (const auto& m : s_.places) {
    std::string only;
    bool single = true;
    for (uint32_t id : m.candidates) {
      const std::string& c = g_.entry(id).country;
      if (only.empty()) {
        only = c;
      } else if (c != only) {
        single = false;
      }
    }
    if (single && !only.empty()) votes[only] += in_home(only) ? 1.0 : 0.5;
  }
  double best = 0;
  for (const auto& [c, v] : votes) {
    if (v > best || (v == best && c < context_country_)) {
      best = v;
      context_country_ = c;
    }
  }
}

// Picks the entry a mention stands for: a country name is the country; then
// the context country, a kind word next to the name ("SAN MIGUEL
// DEPARTMENT"), home regions, and cities over regions.
int32_t Run::choose_candidate(const PlaceMention& m) const {
  std::string_view next = m.end < s_.tok.tokens.size() ? w(m.end) : std::string_view();
  std::string_view prev = m.begin > 0 ? w(m.begin - 1) : std::string_view();
  int32_t best = -1;
  double best_score = -1e9;
  for (uint32_t id : m.candidates) {
    const PlaceEntry& e = g_.entry(id);
    double sc = 0;
    if (!context_country_.empty() && e.country == context_country_) sc += 4;
    if (in_home(e.country)) sc += 2;
    bool region = e.precision == PlacePrecision::kRegion;
    if ((next == "department" || next == "province" || next == "state") && region) sc += 3;
    if ((prev == "department" || prev == "province") && region) sc += 3;
    if ((next == "city" || next == "town" || next == "municipality" || prev == "city" || prev == "town" ||
         prev == "municipality") &&
        e.precision == PlacePrecision::kCity) {
      sc += 2;
    }
    if ((next == "neighborhood" || next == "district" || next == "village") &&
        e.precision == PlacePrecision::kDistrict) {
      sc += 2;
    }
    if (e.precision == PlacePrecision::kCity) sc += 0.5;
    // The usual kinds before the rare ones ("ANTIOQUIA (DEPARTMENT)" before
    // "ANTIOQUIA (COUNTY)").
    if (e.kind_label == "DEPARTMENT" || e.kind_label == "CITY" || e.kind_label == "PROVINCE") sc += 0.3;
    if (e.demonym) sc -= 0.25;
    if (e.precision == PlacePrecision::kCountry && !e.demonym) sc += 10;
    if (sc > best_score) {
      best_score = sc;
      best = static_cast<int32_t>(id);
    }
  }
  return best;
}

void Run::fill_place(Candidate& c, int32_t entry, const PlaceMention* m) {
  const PlaceEntry& e = g_.entry(static_cast<uint32_t>(entry));
  Place& p = c.inc.place;
  p = Place{};
  p.name = e.demonym ? e.country : e.name;
  p.qualified = e.demonym ? e.country : g_.qualified_name(static_cast<uint32_t>(entry));
  p.country = e.country;
  p.precision = e.demonym ? PlacePrecision::kCountry : e.precision;
  p.lat = e.lat;
  p.lon = e.lon;
  p.district = e.district;
  p.district_id = e.district_id;
  if (p.district.empty() && e.parent != PlaceEntry::kNoParent) {
    const PlaceEntry& parent = g_.entry(e.parent);
    if (parent.precision == PlacePrecision::kDistrict || parent.precision == PlacePrecision::kRegion) {
      p.district = parent.name;
      p.district_id = parent.district_id;
    }
  }
  p.text = m != nullptr ? std::string(s_.tok.original(m->begin, m->end)) : std::string();
  c.place_entry = e.demonym ? -1 : entry;
  if (m == nullptr || e.precision != PlacePrecision::kStreet) return;
  // A block or house number before a street: "the 1300 block of West 63rd
  // Street", "1300 W. 63rd St.". West and south numbers are negative.
  uint32_t k = m->begin;
  bool negative = false;
  if (k > 0 && kind_at(k - 1, bit(kDirection))) {
    std::string_view d = w(k - 1);
    negative = d == "west" || d == "w" || d == "south" || d == "s";
    --k;
  }
  int number = -1;
  if (k >= 3 && w(k - 1) == "of" && (w(k - 2) == "block" || w(k - 2) == "blocks") &&
      (s_.tok.tokens[k - 3].flags & Token::kNumber)) {
    number = std::atoi(std::string(w(k - 3)).c_str());
  } else if (k >= 1 && (s_.tok.tokens[k - 1].flags & Token::kNumber)) {
    number = std::atoi(std::string(w(k - 1)).c_str());
  }
  if (number >= 0) {
    auto pt = g_.geocode_address(static_cast<uint32_t>(entry), negative ? -number : number);
    if (!pt && k == m->begin) pt = g_.geocode_address(static_cast<uint32_t>(entry), -number);
    if (pt) {
      p.lat = pt->first;
      p.lon = pt->second;
      p.precision = PlacePrecision::kSite;
      p.text = std::string(s_.tok.original(k >= 3 && w(k - 1) == "of" ? k - 3 : k - 1, m->end));
    }
    return;
  }
  // An intersection: "63rd and Halsted", "Halsted and 63rd streets".
  const PlaceMention* other = nullptr;
  for (const auto& o : s_.places) {
    if (&o == m) continue;
    bool after = o.begin == m->end + 1 && (w(m->end) == "and" || w(m->end) == "at");
    bool before = m->begin >= 1 && o.end + 1 == m->begin && (w(o.end) == "and" || w(o.end) == "at");
    if (after || before) other = &o;
  }
  if (other == nullptr) return;
  for (uint32_t id : other->candidates) {
    const PlaceEntry& o = g_.entry(id);
    if (o.precision != PlacePrecision::kStreet || !std::isfinite(o.lat_to) || !std::isfinite(e.lat_to)) continue;
    // Segment-segment intersection in the lon/lat plane (streets are straight
    // enough at a city's scale).
    double x1 = e.lon, y1 = e.lat, x2 = e.lon_to, y2 = e.lat_to;
    double x3 = o.lon, y3 = o.lat, x4 = o.lon_to, y4 = o.lat_to;
    double den = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4);
    if (std::fabs(den) < 1e-12) continue;
    double t = ((x1 - x3) * (y3 - y4) - (y1 - y3) * (x3 - x4)) / den;
    double u = -((x1 - x2) * (y1 - y3) - (y1 - y2) * (x1 - x3)) / den;
    if (t < -0.01 || t > 1.01 || u < -0.01 || u > 1.01) continue;
    p.lon = x1 + t * (x2 - x1);
    p.lat = y1 + t * (y2 - y1);
    p.precision = PlacePrecision::kSite;
    p.text = std::string(s_.tok.original(std::min(m->begin, other->begin), std::max(m->end, other->end)));
    return;
  }
}

// Chooses the most specific home-region place named in sentences
// [first, last]; returns whether one was found.
// A place below country level outside the article's context country is
// taken only when its country is named in the same sentences ("MENDOZA,
// ARGENTINA"): a bare foreign name is more often a homonym ("SANTA MARIA",
// in Honduras for the gazetteer, in a Peruvian report).
bool Run::foreign_unsupported(const PlaceEntry& pe, uint32_t tok_begin, uint32_t tok_end) const {
  if (context_country_.empty() || pe.country == context_country_ || pe.precision == PlacePrecision::kCountry ||
      pe.demonym) {
    return false;
  }
  for (const auto& m : s_.places) {
    if (m.begin < tok_begin) continue;
    if (m.end > tok_end) break;
    for (uint32_t id : m.candidates) {
      const PlaceEntry& o = g_.entry(id);
      if (o.country == pe.country && (o.precision == PlacePrecision::kCountry || o.demonym)) return false;
    }
  }
  return true;
}

bool Run::place_for_sentences(uint32_t first, uint32_t last, Candidate& c) {
  const PlaceMention* best_m = nullptr;
  int32_t best_e = -1;
  int best_rank = -1;
  uint32_t tok_begin = s_.sentences[first].begin, tok_end = s_.sentences[last].end;
  for (const auto& m : s_.places) {
    if (m.begin < tok_begin) continue;
    if (m.end > tok_end) break;
    int32_t e = choose_candidate(m);
    if (e < 0) continue;
    const PlaceEntry& pe = g_.entry(static_cast<uint32_t>(e));
    if (!in_home(pe.country)) continue;
    if (foreign_unsupported(pe, tok_begin, tok_end)) continue;
    int rank = static_cast<int>(pe.precision) * 2 + (pe.demonym ? -1 : 0);
    // A landmark ranks under a city: "near the Lempa River" places an act
    // in the department or town the report also names.
    if (is_natural_feature(pe.kind_label)) rank = static_cast<int>(PlacePrecision::kRegion) * 2 - 1;
    if (rank > best_rank) {  // earlier mention wins ties
      best_rank = rank;
      best_m = &m;
      best_e = e;
    }
  }
  if (best_e < 0) return false;
  fill_place(c, best_e, best_m);
  return true;
}

// Verbs of saying: a day expression right beside one ("TODAY STATED",
// "REPORTED YESTERDAY", "ANNOUNCED HERE TODAY") dates the report, not the act.
bool is_report_verb(std::string_view w) {
  static const std::unordered_set<std::string_view> kVerbs = {
      "said",     "says",      "stated",    "reported",  "announced", "declared", "denounced", "confirmed",
      "disclosed", "revealed", "indicated", "told",      "added",     "noted",    "explained", "asserted",
      "charged",  "condemned", "stressed",  "acknowledged", "admitted", "warned",  "affirmed",  "emphasized",
      "report",   "reports",   "announces", "states",    "denounces", "issued",   "released"};
  return kVerbs.count(w) > 0;
}

// A day expression with a verb of saying right before it ("REPORTED TODAY",
// "SAID HERE TODAY") or right after it ("TODAY STATED"), or dating when
// victims were found ("WAS FOUND DEAD TODAY": the act was on or before).
bool Run::reports_statement(const DateMention& d) const {
  const size_t n = s_.tok.tokens.size();
  auto w = [&](size_t i) { return s_.tok.norm_token(i); };
  auto verb = [&](std::string_view v) { return is_report_verb(v) || v == "found" || v == "discovered"; };
  if (d.end < n && is_report_verb(w(d.end))) return true;
  if (d.begin >= 1 && verb(w(d.begin - 1))) return true;
  if (d.begin >= 2 && verb(w(d.begin - 2))) return true;
  return false;
}

// The date of an event in sentence s: the nearest day mention of the
// sentence that no other event word is nearer to (in "was kidnapped where X
// was assassinated last year", "last year" belongs to "assassinated"), and
// that does not date a statement instead (is_report_verb).
bool Run::date_for_sentence(uint32_t s, uint32_t trigger, IncidentType type, OccurredTime& out) const {
  const Sentence& sen = s_.sentences[s];
  auto ev = type_evidence();
  const DateMention* best = nullptr;
  int best_score = -1000000;
  const bool nominal = trigger > sen.begin && trigger < sen.end && is_determiner(s_.tok.norm_token(trigger - 1));
  for (const auto& d : s_.dates) {
    if (!d.has_day || d.begin < sen.begin || d.begin >= sen.end) continue;
    int dist = std::abs(static_cast<int>(d.begin) - static_cast<int>(trigger));
    bool owned = true;
    if (trigger >= sen.begin && trigger < sen.end) {
      for (const auto& h : hits_in(kEvidence, sen.begin, sen.end)) {
        // Words of the same incident ("shot by a gunman") do not compete.
        IncidentType other_type = ev[index_of(h.payload)].type;
        if (h.begin == trigger || other_type == type || muc_type_name(other_type) == muc_type_name(type)) continue;
        int other = std::abs(static_cast<int>(d.begin) - static_cast<int>(h.begin));
        if (other + 2 < dist) owned = false;
      }
    }
    if (!owned) continue;
    if ((d.basis == DateBasis::kRelative || d.basis == DateBasis::kWeekday) && reports_statement(d)) continue;
    // A nominal act ("to protest the murder of X", "following X's murder")
    // is dated after it ("the murder of X on 5 May") or by a possessive
    // right before it ("yesterday's attack"); a date earlier in the
    // sentence belongs to its main verb ("resigned today to protest ...").
    if (nominal && d.end + 1 < trigger) continue;
    int score = -dist - (d.basis == DateBasis::kVague ? 50 : 0);
    if (score > best_score) {
      best_score = score;
      best = &d;
    }
  }
  if (best == nullptr) return false;
  out.first_day = best->first_day;
  out.last_day = best->last_day;
  out.basis = best->basis;
  out.on_or_before = false;
  out.minute_of_day = best->minute_of_day;
  out.precision = best->minute_of_day >= 0 && best->first_day == best->last_day ? TimePrecision::kExact
                  : best->first_day == best->last_day && best->basis != DateBasis::kVague
                      ? TimePrecision::kDay
                      : TimePrecision::kApprox;
  out.text = std::string(s_.tok.original(best->begin, best->end));
  return true;
}

void Run::fill_default_date(OccurredTime& t) const {
  t = OccurredTime{};
  if (!anchor_known_) return;
  t.first_day = anchor_ - opt_.recent_days;
  t.last_day = anchor_;
  t.on_or_before = true;
  t.basis = DateBasis::kDefault;
  t.precision = TimePrecision::kApprox;
}

void Run::finish_time(OccurredTime& t) const {
  if (t.precision == TimePrecision::kNone) return;
  auto to_ms = [&](int32_t day, int minute) -> int64_t {
    int64_t local = static_cast<int64_t>(day) * 86400000 + static_cast<int64_t>(minute) * 60000;
    int off = opt_.utc_offset_minutes ? opt_.utc_offset_minutes(local) : 0;
    return local - static_cast<int64_t>(off) * 60000;
  };
  if (t.precision == TimePrecision::kExact) {
    t.start_ms = to_ms(t.first_day, t.minute_of_day);
    t.end_ms = t.start_ms + 59999;
  } else {
    t.start_ms = to_ms(t.first_day, 0);
    t.end_ms = to_ms(t.last_day + 1, 0) - 1;
  }
}

// A negator among the three words before `tok`, in its sentence.
bool Run::negated(uint32_t tok) const {
  const uint32_t begin = s_.sentences[sentence_of(tok)].begin;
  for (uint32_t k = tok; k > begin && k + 3 > tok; --k) {
    if (is_negator(w(k - 1))) return true;
  }
  return false;
}

// A death told of in sentences [first, last] ("no one was killed" is not).
bool Run::death_in(uint32_t first, uint32_t last) const {
  for (const auto& h : hits_in(kDeath, s_.sentences[first].begin, s_.sentences[last].end)) {
    if (!negated(h.begin)) return true;
  }
  return false;
}

std::vector<Event> Run::sentence_events(uint32_t s) const {
  const Sentence& sen = s_.sentences[s];
  auto ev = type_evidence();
  const bool enforcement_events = !opt_.political_violence_rules;
  struct Best {
    float weight = 0;
    bool trigger = false;
    uint32_t token = 0;
  };
  std::array<Best, static_cast<size_t>(IncidentType::kCount)> best{};
  for (const auto& h : hits_in(kEvidence, sen.begin, sen.end)) {
    const TypeEvidence& e = ev[index_of(h.payload)];
    // "No one was arrested" is no arrest; in city news "no one was hurt"
    // is no outcome either (the MUC rules keep their tuned reading).
    if ((is_enforcement(e.type) || (!opt_.political_violence_rules && e.kind == EvidenceKind::kOutcome)) &&
        negated(h.begin)) {
      continue;
    }
    Best& b = best[static_cast<size_t>(e.type)];
    bool trig = e.kind == EvidenceKind::kTrigger;
    if (e.weight > b.weight || (trig && !b.trigger)) {
      b.weight = std::max(b.weight, e.weight);
      if (!b.trigger || trig) b.token = h.begin;
      b.trigger = b.trigger || trig;
    }
  }
  using enum IncidentType;
  auto has = [&](IncidentType t) { return best[static_cast<size_t>(t)].weight > 0; };
  auto trig = [&](IncidentType t) { return best[static_cast<size_t>(t)].trigger; };
  std::vector<Event> out;
  bool any_trigger = false;
  for (size_t t = 1; t < best.size(); ++t) any_trigger |= best[t].trigger;
  const IncidentType specific[] = {kBombing, kKidnapping, kHijacking, kArson, kRobbery, kCarjacking,
                                   kBurglary, kTheft,     kForcedWorkStoppage, kSexualAssault, kVandalism};
  // Bombs dropped from aircraft make an attack, not a bombing (MUC
  // template-doc part 2, slot 4).
  // An aircraft that was itself blown up ("A PLANE HAS BEEN DYNAMITED") is
  // the target: passive voice with the aircraft before the trigger.
  auto aerial_agent = [&] {
    const uint32_t t = best[static_cast<size_t>(kBombing)].token;
    const bool passive = t > sen.begin && is_passive_aux(s_.tok.norm_token(t - 1));
    for (const auto& h : hits_in(kAerial, sen.begin, sen.end)) {
      if (!(passive && h.begin < t)) return true;
    }
    return false;
  };
  if (trig(kBombing) && sentence_has(s, kAerial) && aerial_agent()) {
    Best& a = best[static_cast<size_t>(kAttack)];
    const Best& b = best[static_cast<size_t>(kBombing)];
    a.weight = std::max(a.weight, b.weight);
    a.trigger = true;
    a.token = b.token;
    best[static_cast<size_t>(kBombing)] = Best{};
  }
  bool bombing = trig(kBombing);
  for (IncidentType t : specific) {
    if (!trig(t)) continue;
    // Theft words inside a robbery sentence are the robbery.
    if ((t == kTheft || t == kBurglary) && (trig(kRobbery) || trig(kCarjacking))) continue;
    const Best& b = best[static_cast<size_t>(t)];
    out.push_back(Event{t, b.weight, false, s, b.token});
  }
  // Generic violence: one event of the highest-precedence generic type,
  // unless a bombing accounts for it (a bomb that killed is a bombing).
  const IncidentType generic[] = {kHomicide, kShooting, kAttack, kAssault};
  IncidentType g = kUnknown;
  float gw = 0;
  uint32_t gtok = 0;
  bool g_trigger = false;
  for (IncidentType t : generic) {
    if (!has(t)) continue;
    const Best& b = best[static_cast<size_t>(t)];
    if (b.trigger && (!g_trigger || type_precedence(t) > type_precedence(g))) {
      g = t;
      gw = b.weight;
      gtok = b.token;
      g_trigger = true;
    } else if (!g_trigger && (g == kUnknown || b.weight > gw)) {
      g = t;
      gw = b.weight;
      gtok = b.token;
    }
  }
  // A bomb that killed is a bombing: the bombing absorbs outcomes and
  // generic attack words, not a named murder in the same sentence.
  bool absorbed = bombing && (g == kAttack || g == kShooting || !g_trigger);
  if (g != kUnknown && !absorbed) {
    bool specific_present = !out.empty();
    // A shooting (assault, attack) that killed is a homicide: "fatally
    // shot", "shot and killed", "killed in a shooting".
    IncidentType named = g_trigger && g != kHomicide && death_in(s, s) ? kHomicide : g;
    if (named != g && !opt_.political_violence_rules) {
      // The death's verb places the victim: "a woman was killed in a
      // shooting" (passive before "killed", not before "shooting"). Not
      // with the MUC rules, whose dates and targets were tuned on the act's
      // word (DEV: no gain there).
      for (const auto& h : hits_in(kDeath, sen.begin, sen.end)) {
        if (!negated(h.begin) && h.begin < gtok) {
          gtok = h.begin;
          break;
        }
      }
    }
    if (g_trigger && !(specific_present && g == kAttack && gw < 0.9f)) {
      out.push_back(Event{named, gw, false, s, gtok});
    } else if (!g_trigger && !any_trigger) {
      out.push_back(Event{g, gw, true, s, gtok});
    }
  }
  // Enforcement (weapons, drugs, an arrest): an event of its own only in a
  // sentence that tells of no other act, so that "was arrested in the
  // shooting" stays part of the shooting. Not an incident under the
  // political-violence rules (the MUC task has no such type).
  if (enforcement_events && out.empty()) {
    IncidentType et = kUnknown;
    float ew = 0;
    bool etrig = false;
    uint32_t etok = 0;
    for (IncidentType t : {kWeapons, kDrugs, kArrest}) {
      const Best& b = best[static_cast<size_t>(t)];
      if (b.weight <= 0) continue;
      if (et == kUnknown) {
        et = t;  // the most specific charge names the incident
        etok = b.token;
      }
      // Actors are placed by the first enforcement word ("arrested a man on
      // a narcotics charge": the man is the arrested, not an agent).
      etok = std::min(etok, b.token);
      ew = std::max(ew, b.weight);
      etrig = etrig || b.trigger;
    }
    if (et != kUnknown) out.push_back(Event{et, ew, !etrig, s, etok});
  }
  return out;
}

// Noun phrase around a target/victim word: up to three modifiers before it
// and an "of (the) X Y" complement after it, within the sentence.
std::string Run::noun_phrase(uint32_t begin, uint32_t end) const {
  const Sentence& sen = s_.sentences[sentence_of(begin)];
  constexpr uint32_t kLexical = bit(kEvidence) | bit(kPerpWord) | bit(kStateWord) | bit(kClash) | bit(kPlaceKind);
  uint32_t b = begin;
  for (int k = 0; k < 3 && b > sen.begin; ++k) {
    uint32_t prev = b - 1;
    const Token& pt = s_.tok.tokens[prev];
    if (pt.flags & (Token::kCommaAfter | Token::kSentenceEnd)) break;
    // Numbers are quantities ("3 PEASANTS"), except an age ("24-year-old man").
    if ((pt.flags & Token::kNumber) && !(prev + 1 < begin && w(prev + 1) == "year")) break;
    if (is_stop(w(prev)) || kind_at(prev, kLexical)) break;
    b = prev;
  }
  uint32_t e = end;
  if (e < sen.end && !(s_.tok.tokens[e - 1].flags & Token::kCommaAfter) && w(e) == "of") {
    uint32_t k = e + 1;
    if (k < sen.end && (w(k) == "the" || w(k) == "a" || w(k) == "an")) ++k;
    uint32_t stop = k;
    while (stop < sen.end && stop < k + 3 && !is_stop(w(stop))) {
      bool last = s_.tok.tokens[stop].flags & (Token::kCommaAfter | Token::kSentenceEnd);
      ++stop;
      if (last) break;
    }
    if (stop > k) e = stop;
  }
  std::string_view out = s_.tok.original(b, e);
  // Single spaces, no quotes or brackets: the MUC fill form (and stable for dedup).
  std::string clean;
  clean.reserve(out.size());
  bool space = false;
  for (char c : out) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !clean.empty();
      continue;
    }
    if (c == '"' || c == '[' || c == ']' || c == '(' || c == ')') continue;
    if (space) clean.push_back(' ');
    space = false;
    clean.push_back(c);
  }
  return clean;
}

// A proper name after a title ("PRESIDENT CEREZO", "Mayor Ricardo Castellar"):
// up to three tokens that are neither stop words nor lexicon words.
std::string Run::name_after_title(uint32_t title_end) const {
  const Sentence& sen = s_.sentences[sentence_of(title_end > 0 ? title_end - 1 : 0)];
  constexpr uint32_t kLexical = bit(kEvidence) | bit(kPerpWord) | bit(kStateWord) | bit(kHumNoun) | bit(kPhysNoun) |
                                bit(kTitle) | bit(kClash) | bit(kModal);
  uint32_t k = title_end;
  uint32_t end = k;
  while (end < sen.end && end < k + 3) {
    const Token& t = s_.tok.tokens[end];
    if (is_stop(w(end)) || (t.flags & Token::kNumber) || kind_at(end, kLexical)) break;
    if (!s_.tok.upper_case_text && !(t.flags & Token::kCapitalised)) break;
    bool stop_after = t.flags & (Token::kCommaAfter | Token::kSentenceEnd);
    ++end;
    if (stop_after) break;
  }
  if (end == k) return {};
  std::string name(s_.tok.original(k, end));
  for (char& ch : name) {
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
  }
  return name;
}

// The age in "a woman, 52," / "Man, 34, killed": a number of 1-120 set
// off by commas right after the noun; 0 if none.
int Run::age_after(uint32_t noun_end) const {
  if (noun_end == 0 || noun_end >= s_.tok.tokens.size()) return 0;
  if (!(s_.tok.tokens[noun_end - 1].flags & Token::kCommaAfter)) return 0;
  if (sentence_of(noun_end) != sentence_of(noun_end - 1)) return 0;
  const Token& t = s_.tok.tokens[noun_end];
  if (!(t.flags & Token::kNumber) || !(t.flags & (Token::kCommaAfter | Token::kSentenceEnd))) return 0;
  std::string_view digits = w(noun_end);
  int age = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9' || age > 200) return 0;
    age = age * 10 + (ch - '0');
  }
  return age >= 1 && age <= 120 ? age : 0;
}

void Run::assign_actors(const Event& e, Candidate& c) const {
  const Sentence& sen = s_.sentences[e.sentence];
  // Passive voice: an auxiliary right before the trigger, or "by" after it.
  bool passive = false;
  for (uint32_t k = e.trigger; k > sen.begin && k + 3 > e.trigger; --k) {
    std::string_view pw = w(k - 1);
    if (pw == "was" || pw == "were" || pw == "been" || pw == "being") passive = true;
  }
  uint32_t by_at = UINT32_MAX;
  for (uint32_t k = e.trigger; k < sen.end; ++k) {
    if (w(k) == "by") {
      by_at = k;
      break;
    }
  }
  // Agent side: before the trigger in the active voice, after "by".
  auto is_agent = [&](uint32_t tok) {
    if (by_at != UINT32_MAX && tok > by_at && tok <= by_at + 8) return true;
    if (passive) return false;
    return tok < e.trigger;
  };
  auto add_actor = [&](std::string text, ActorRole role, std::string org = {}) {
    if (text.empty()) return;
    for (const auto& a : c.inc.actors) {
      if (a.text == text && a.role == role) return;
    }
    c.inc.actors.push_back(Actor{std::move(text), role, std::move(org)});
  };
  auto add_target = [&](std::string text, TargetKind kind) {
    if (text.empty()) return;
    for (const auto& t : c.inc.targets) {
      if (t.text == text) return;
    }
    c.inc.targets.push_back(Target{std::move(text), kind});
  };
  int patients_civil = 0, patients_perp = 0, patients_state = 0, phys = 0;
  bool agent_state = false;
  // An arrest's people are the arrested (suspects), its officers the
  // other party; it has no victims or targets.
  const bool enforcement = is_enforcement(e.type);
  // Organisations: the perpetrator when on the agent side (or anywhere in
  // the sentence, when none is on the agent side).
  std::string org_any, org_agent, state_agent;
  for (const auto& h : hits_in(kOrg, sen.begin, sen.end)) {
    std::string text(s_.tok.original(h.begin, h.end));
    const std::string& cls = lex_.org_class[index_of(h.payload)];
    if (cls == "state") {
      if (is_agent(h.begin)) {
        agent_state = true;
        if (state_agent.empty()) state_agent = text;
      }
      c.cues |= cue(kCueOrgState);
      continue;
    }
    c.cues |= cue(cls == "criminal" ? kCueOrgCriminal : kCueOrgGuerrilla);
    if (org_any.empty()) org_any = text;
    if (is_agent(h.begin) && org_agent.empty()) org_agent = text;
  }
  std::string org = !org_agent.empty() ? org_agent : org_any;
  for (const auto& h : hits_in(kPerpWord, sen.begin, sen.end)) {
    if (is_agent(h.begin)) {
      c.has_perp = true;
      c.cues |= cue(kCuePerpWord);
      add_actor(noun_phrase(h.begin, h.end), ActorRole::kSuspect, org);
    } else {
      ++patients_perp;
    }
  }
  // A thing of the armed forces ("MILITARY INSTALLATIONS", "AIR FORCE
  // HELICOPTER", "BARRACKS"): under the political-violence rules a
  // military target, like soldiers, not a physical target of terrorism.
  auto military_thing = [&](const PhraseMatcher::Hit& h) {
    if (!opt_.political_violence_rules) return false;
    if (is_military_thing(w(h.end - 1))) return true;
    for (uint32_t k = h.begin; k > sen.begin && k + 3 > h.begin; --k) {
      if (is_stop(w(k - 1))) break;
      if (kind_at(k - 1, bit(kStateWord))) return true;
    }
    return false;
  };
  auto modifies_thing = [&](const PhraseMatcher::Hit& h) {
    for (uint32_t k = h.end; k < sen.end && k < h.end + 3; ++k) {
      if (is_stop(w(k))) return false;
      if (kind_at(k, bit(kPhysNoun))) return true;
    }
    return false;
  };
  for (const auto& h : hits_in(kStateWord, sen.begin, sen.end)) {
    if (opt_.political_violence_rules && modifies_thing(h)) continue;  // counted with the thing
    std::string text = noun_phrase(h.begin, h.end);
    // Outside political violence: a body ("police department", "FBI") is an
    // agency, its members ("officers", "detectives") are officers.
    ActorRole city_role = is_agency_word(kStateWords[index_of(h.payload)]) ? ActorRole::kAgency : ActorRole::kOfficer;
    if (enforcement) {
      add_actor(text, city_role);
      c.has_officer = true;
      continue;
    }
    if (is_agent(h.begin)) {
      agent_state = true;
      add_actor(text, opt_.political_violence_rules ? ActorRole::kSuspect : city_role);
    } else {
      ++patients_state;
      if (opt_.political_violence_rules) {
        add_actor(text, ActorRole::kVictim);
        add_target(text, TargetKind::kHuman);
      } else {
        add_actor(text, city_role);
      }
    }
  }
  for (const auto& h : hits_in(kHumNoun, sen.begin, sen.end)) {
    // "shot and wounded", "the dead": someone was hurt, but the word is no
    // description of who. In city news also before the act ("two were
    // wounded in a shooting"); the MUC rules keep the tuned agent test.
    if (h.end == h.begin + 1 && is_outcome_word(w(h.begin)) &&
        (!opt_.political_violence_rules || !is_agent(h.begin) || passive)) {
      if (!enforcement && (opt_.political_violence_rules || !negated(h.begin))) {
        if (h.begin > sen.begin && ((s_.tok.tokens[h.begin - 1].flags & Token::kNumber) ||
                                    number_word_value(w(h.begin - 1)) > 0)) {
          c.cues |= cue(kCueCasualties);
        }
        ++patients_civil;
        c.has_victim = true;
        c.unnamed_victim = true;
      }
      continue;
    }
    if (is_agent(h.begin) && !passive) continue;  // "the mayor said"
    if (kind_at(h.begin, bit(kTitle))) {
      std::string name = name_after_title(h.end);
      if (!name.empty()) {  // "PRESIDENT CEREZO"
        c.cues |= cue(kCueNamedVictim);
        add_actor(name, ActorRole::kVictim);
        add_target(name, TargetKind::kHuman);
        ++patients_civil;
        c.has_victim = true;
        continue;
      }
    }
    if (h.begin > sen.begin && ((s_.tok.tokens[h.begin - 1].flags & Token::kNumber) ||
                                number_word_value(w(h.begin - 1)) > 0)) {
      c.cues |= cue(kCueCasualties);
    }
    std::string text = noun_phrase(h.begin, h.end);
    // "a woman, 52,": the age after the noun, written as "52-year-old woman".
    if (int age = age_after(h.end); age > 0 && text.find("year-old") == std::string::npos &&
                                    text.find("year old") == std::string::npos) {
      text = std::to_string(age) + "-year-old " + text;
    }
    // "a man", "officials": too vague to report; "a 24-year-old man" is not.
    if (h.end == h.begin + 1 && is_weak_hum(w(h.begin)) && text.size() == h_text_size(h)) continue;
    if (is_outcome_word(text)) continue;
    if (enforcement) {
      add_actor(text, ActorRole::kSuspect);
      c.has_perp = true;
      continue;
    }
    add_actor(text, ActorRole::kVictim);
    add_target(text, TargetKind::kHuman);
    ++patients_civil;
    c.has_victim = true;
  }
  for (const auto& h : hits_in(kPhysNoun, sen.begin, sen.end)) {
    if (enforcement) break;
    if (is_agent(h.begin) && !passive) continue;
    add_target(noun_phrase(h.begin, h.end), TargetKind::kPhysical);
    if (military_thing(h)) {
      ++patients_state;
      continue;
    }
    ++phys;
    c.has_victim = true;
  }
  for (const auto& h : hits_in(kWitness, sen.begin, sen.end)) {
    add_actor(noun_phrase(h.begin, h.end), ActorRole::kWitness);
  }
  // The perpetrator organisation: a named non-state group; a state body only
  // when it acted against civilians (MUC's state-sponsored violence).
  if (!org.empty()) {
    c.has_perp = true;
    if (c.inc.perpetrator_org.empty()) c.inc.perpetrator_org = org;
    add_actor(org, ActorRole::kSuspect, org);
  } else if (!state_agent.empty() && patients_civil > 0) {
    c.has_perp = true;
    if (c.inc.perpetrator_org.empty()) c.inc.perpetrator_org = state_agent;
    add_actor(state_agent, opt_.political_violence_rules ? ActorRole::kSuspect : ActorRole::kAgency, state_agent);
  }
  if (patients_civil > 0) c.cues |= cue(kCueVictimCivil);
  if (phys > 0) c.cues |= cue(kCuePhysTarget);
  if (opt_.political_violence_rules) {
    // Killings of guerrillas, and armed forces against guerrillas, are
    // warfare, not terrorism (MUC task definition, section 1).
    if (patients_perp > 0 && patients_civil == 0 && phys == 0) c.cues |= cue(kCueVictimPerpOnly);
    if (agent_state && patients_civil == 0 && phys == 0) c.cues |= cue(kCueAgentState);
    if (patients_state > 0 && patients_civil == 0 && phys == 0) c.cues |= cue(kCueVictimStateOnly);
  }
}

// Relevance from the cues and the article's words; confidence from
// relevance, type evidence and how complete the facts are.
void Run::score(Candidate& c) const {
  using enum IncidentType;
  switch (c.inc.type) {
    case kBombing: c.cues |= cue(kCueBombing); break;
    case kKidnapping: c.cues |= cue(kCueKidnapping); break;
    case kArson: c.cues |= cue(kCueArson); break;
    case kRobbery: case kCarjacking: case kBurglary: case kTheft: c.cues |= cue(kCueRobbery); break;
    case kHijacking: c.cues |= cue(kCueHijacking); break;
    case kForcedWorkStoppage: c.cues |= cue(kCueStoppage); break;
    case kAttack: case kHomicide: case kShooting: case kAssault: c.cues |= cue(kCueAttack); break;
    default: c.cues |= cue(kCueOtherType); break;
  }
  if (c.type_strength >= 0.9) c.cues |= cue(kCueStrongTrigger);
  if (c.events > 1) c.cues |= cue(kCueMultiSentence);
  if (c.inc.targets.empty() && !c.unnamed_victim && !is_enforcement(c.inc.type)) c.cues |= cue(kCueNoTarget);
  if (speech_) c.cues |= cue(kCueSpeech);
  if (c.date_explicit) {
    c.cues |= cue(kCueDateExplicit);
    if (c.inc.occurred.basis == DateBasis::kRelative) c.cues |= cue(kCueDateRelative);
    if (anchor_known_ && c.inc.occurred.last_day >= anchor_ - 1) c.cues |= cue(kCueDateRecent);
    if (anchor_known_ && c.inc.occurred.last_day < anchor_ - 14) c.cues |= cue(kCueDateOld);
  }
  if (foreign_dateline_) c.cues |= cue(kCueForeignDateline);
  if (c.place_explicit) c.cues |= cue(kCuePlaceExplicit);
  if (c.inc.place.precision == PlacePrecision::kNone) c.cues |= cue(kCuePlaceNone);
  if (c.inc.place.precision == PlacePrecision::kCountry) c.cues |= cue(kCuePlaceCountryOnly);
  if (c.paragraph == 0) c.cues |= cue(kCueFirstParagraph);

  Confidence& k = c.inc.confidence;
  double z = lex_.bias + text_score_ + sentence_score(c.first_sentence);
  for (int i = 0; i < kCueCount; ++i) {
    if (c.cues & cue(static_cast<Cue>(i))) {
      z += lex_.cue_weight[i];
      k.cues.emplace_back(kCueNames[i]);
    }
  }
  k.relevance = c.gated ? 0.0 : sigmoid(z);
  if (c.gated) k.cues.emplace_back("gated");
  k.type = std::min(1.0, c.type_strength);
  switch (c.inc.place.precision) {
    case PlacePrecision::kSite: k.place = 1.0; break;
    case PlacePrecision::kStreet: k.place = 0.95; break;
    case PlacePrecision::kDistrict: k.place = 0.9; break;
    case PlacePrecision::kCity: k.place = 0.8; break;
    case PlacePrecision::kRegion: k.place = 0.6; break;
    case PlacePrecision::kCountry: k.place = 0.4; break;
    case PlacePrecision::kNone: k.place = 0.0; break;
  }
  const OccurredTime& t = c.inc.occurred;
  switch (t.precision) {
    case TimePrecision::kExact: k.time = 1.0; break;
    case TimePrecision::kDay: k.time = t.basis == DateBasis::kWeekday ? 0.8 : 0.9; break;
    case TimePrecision::kApprox: k.time = t.basis == DateBasis::kDefault ? 0.3 : 0.5; break;
    case TimePrecision::kNone: k.time = 0.0; break;
  }
  // Enforcement has no victim: its other party is the arresting officers.
  k.actors = (c.has_perp ? 0.5 : 0.0) + ((is_enforcement(c.inc.type) ? c.has_officer : c.has_victim) ? 0.5 : 0.0);
  double facts = 0.35 * k.place + 0.30 * k.time + 0.35 * k.actors;
  k.value = k.type * k.relevance * (0.55 + 0.45 * facts);
}

Extraction Run::go(const ArticleText& a) {
  Extraction out;
  out.provider = "builtin";
  // Dateline (MUC wire copy) and anchor day.
  std::string_view body = a.text;
  dateline_ = DateResolver::parse_dateline(a.text);
  if (dateline_) {
    body = a.text.substr(std::min(dateline_->body_offset, a.text.size()));
    if (dateline_->has_date) {
      anchor_known_ = true;
      anchor_ = dateline_->day;
    }
    for (const auto& tag : dateline_->tags) {
      for (std::string_view kind : {"SPEECH", "STATEMENT", "COMMENTARY", "STATION COMMENTARY", "EDITORIAL",
                                    "ARTICLE", "NEWS CONFERENCE"}) {
        if (tag.rfind(kind, 0) == 0) speech_ = true;
      }
    }
    if (!dateline_->country.empty() && !in_home(dateline_->country)) foreign_dateline_ = true;
    for (uint32_t id : g_.lookup(dateline_->place)) {
      const PlaceEntry& e = g_.entry(id);
      if (!dateline_->country.empty() && e.country != dateline_->country) continue;
      if (e.precision >= PlacePrecision::kCity || dateline_entry_ < 0) dateline_entry_ = static_cast<int32_t>(id);
      if (e.precision == PlacePrecision::kCity) break;
    }
  }
  if (!anchor_known_ && a.published_ms > 0) {
    int off = opt_.utc_offset_minutes ? opt_.utc_offset_minutes(a.published_ms) : 0;
    anchor_ = days_floor(a.published_ms + static_cast<int64_t>(off) * 60000);
    anchor_known_ = true;
  }
  s_.buffer.clear();
  if (!a.title.empty()) {
    s_.buffer.append(a.title);
    s_.buffer.append("\n\n");
  }
  s_.buffer.append(body);
  tokenize(s_.buffer, s_.tok);
  if (s_.tok.tokens.empty()) return out;
  build_sentences();

  // One pass of the lexicon matcher; hits by kind, sorted by position.
  s_.hits.clear();
  lex_.matcher.map_tokens(s_.tok, s_.ids);
  lex_.matcher.find(s_.ids, s_.hits);
  for (auto& v : s_.by_kind) v.clear();
  for (const auto& h : s_.hits) s_.by_kind[kind_of(h.payload)].push_back(h);
  for (auto& v : s_.by_kind) std::sort(v.begin(), v.end(), by_begin);
  for (Kind k : {kEvidence, kOrg, kPerpWord, kStateWord, kHumNoun, kPhysNoun}) select_longest(s_.by_kind[k]);
  s_.kind_mask.assign(s_.tok.tokens.size(), 0);
  for (int k = 1; k < kKindCount; ++k) {
    for (const auto& h : s_.by_kind[k]) {
      for (uint32_t t = h.begin; t < h.end; ++t) s_.kind_mask[t] |= bit(static_cast<Kind>(k));
    }
  }
  // The article's words, each counted once, for the relevance model.
  text_score_ = 0;
  if (!lex_.word_weight.empty()) {
    s_.word_seen.assign(lex_.word_weight.size(), 0);
    for (const auto& h : hits(kWord)) {
      uint32_t i = index_of(h.payload);
      if (!s_.word_seen[i]) {
        s_.word_seen[i] = 1;
        text_score_ += lex_.word_weight[i];
      }
    }
  }

  g_.find(s_.tok, s_.places);
  // One-word names that are common words or surnames ("CENTRAL", "LOPEZ")
  // name a place far less often than something else; a name followed by a
  // unit or street word names the unit or the street ("ARCE BATTALION",
  // "ANCASH STREET"); a place inside an organisation's name is not one.
  s_.places.erase(std::remove_if(s_.places.begin(), s_.places.end(),
                                 [&](const PlaceMention& m) {
                                   if (m.end == m.begin + 1 && is_ambiguous_place_word(w(m.begin))) return true;
                                   // "the capital of Antioquia": a description
                                   // alias (places-extra.tsv) of another place.
                                   if ((w(m.begin) == "the" || w(m.begin) == "this") && m.end < s_.tok.tokens.size() &&
                                       w(m.end) == "of") {
                                     return true;
                                   }
                                   if (kind_at(m.begin, bit(kOrg)) && kind_at(m.end - 1, bit(kOrg))) return true;
                                   if (m.end < s_.tok.tokens.size() && is_name_suffix(w(m.end))) {
                                     for (uint32_t id : m.candidates) {
                                       if (g_.entry(id).precision == PlacePrecision::kStreet) return false;
                                     }
                                     return true;
                                   }
                                   return false;
                                 }),
                  s_.places.end());
  if (anchor_known_) {
    lex_.dates.find(s_.tok, anchor_, s_.dates);
  } else {
    // Absolute dates still resolve; relative ones need an anchor.
    lex_.dates.find(s_.tok, days_from_civil(2000, 1, 1), s_.dates);
    s_.dates.erase(std::remove_if(s_.dates.begin(), s_.dates.end(),
                                  [](const DateMention& d) { return d.basis != DateBasis::kAbsolute; }),
                   s_.dates.end());
  }
  find_context_country();

  // Events per sentence, each a candidate incident.
  std::vector<Candidate> cands;
  auto n_sent = static_cast<uint32_t>(s_.sentences.size());
  for (uint32_t s = 0; s < n_sent; ++s) {
    std::vector<Event> events = sentence_events(s);
    if (events.empty()) continue;
    const Sentence& sen = s_.sentences[s];
    CueSet sentence_cues = 0;
    if (opt_.political_violence_rules && sentence_has(s, kClash)) sentence_cues |= cue(kCueClash);
    if (sentence_has(s, kNegation)) sentence_cues |= cue(kCueNegation);
    if (sentence_has(s, kBackground)) sentence_cues |= cue(kCueBackground);
    if (sentence_has(s, kGeneric)) sentence_cues |= cue(kCueGenericPhrase);
    if (sentence_has(s, kModal)) sentence_cues |= cue(kCueModal);
    if (sentence_has(s, kAccident)) sentence_cues |= cue(kCueAccident);
    if (sen.quoted) sentence_cues |= cue(kCueQuoted);
    if (s == 0 || (s == 1 && !a.title.empty())) sentence_cues |= cue(kCueLead);
    if (sentence_has(s, kClaim)) sentence_cues |= cue(kCueClaimed);
    for (const Event& e : events) {
      Candidate c;
      c.inc.type = e.type;
      c.first_sentence = c.last_sentence = s;
      c.paragraph = sen.paragraph;
      c.type_strength = e.weight * (e.outcome_only ? 0.8 : 1.0);
      c.cues = sentence_cues;
      if (e.outcome_only) c.cues |= cue(kCueOutcomeOnly);
      c.generic = e.outcome_only || e.type == IncidentType::kAttack || e.type == IncidentType::kHomicide ||
                  e.type == IncidentType::kShooting || e.type == IncidentType::kAssault;
      if (e.trigger > sen.begin) {
        std::string_view before = w(e.trigger - 1);
        c.anaphoric = before == "the" || before == "this" || before == "that" || before == "these";
        if (c.anaphoric) c.cues |= cue(kCueAnaphoric);
        // "another bomb", "a second bomb", "a new attack". In city news "the
        // third shooting on the block this month" counts a series and tells
        // of none; in wire copy "THE SECOND BOMB EXPLODED AT ..." is the
        // next incident of the report (the rule as fitted on MUC DEV).
        for (uint32_t k = e.trigger; k > sen.begin && k + 3 > e.trigger; --k) {
          std::string_view b = w(k - 1);
          bool ordinal = b == "second" || b == "third" || b == "fourth" || b == "fifth" || b == "new";
          bool indefinite = k - 1 > sen.begin && (w(k - 2) == "a" || w(k - 2) == "an");
          c.another |= b == "another" || (ordinal && (indefinite || opt_.political_violence_rules));
        }
      }
      c.inc.evidence = std::string(s_.tok.original(sen.begin, sen.end));
      assign_actors(e, c);
      // When: this sentence, else the nearest earlier one of the paragraph
      // that dates something, else the text's first sentence (the lead
      // usually dates what the rest of the report elaborates; on MUC DEV
      // this beats "on or before the dateline" for undated sentences).
      c.date_explicit = date_for_sentence(s, e.trigger, e.type, c.inc.occurred);
      for (uint32_t p = s; !c.date_explicit && p > 0 && s_.sentences[p - 1].paragraph == sen.paragraph; --p) {
        c.date_explicit = date_for_sentence(p - 1, s_.sentences[p - 1].end, e.type, c.inc.occurred);
      }
      if (!c.date_explicit && s_.sentences[0].paragraph != sen.paragraph) {
        c.date_explicit = date_for_sentence(0, s_.sentences[0].end, e.type, c.inc.occurred);
      }
      if (!c.date_explicit) fill_default_date(c.inc.occurred);
      if (c.date_explicit && anchor_known_ && c.inc.occurred.last_day < anchor_ - opt_.recent_days) {
        c.gated = true;  // history, not news
      }
      c.place_explicit = place_for_sentences(s, s, c);
      cands.push_back(std::move(c));
    }
  }

  // Merge candidates that tell of the same incident.
  std::vector<Candidate> merged;
  for (auto& c : cands) {
    Candidate* into = nullptr;
    for (auto it = merged.rbegin(); it != merged.rend(); ++it) {
      Candidate& m = *it;
      // Enforcement told after an incident is its sequel ("a man was
      // arrested at the scene", "he was charged with unlawful use of a
      // weapon"): one incident, named by the crime, else by the most
      // specific charge; an arrest followed by the crime it was for, too.
      const bool c_enf = is_enforcement(c.inc.type), m_enf = is_enforcement(m.inc.type);
      if ((c_enf || (m_enf && m.inc.type == IncidentType::kArrest)) && !m.gated && places_compatible(c, m) &&
          !(c.date_explicit && m.date_explicit &&
            !(c.inc.occurred.first_day <= m.inc.occurred.last_day &&
              m.inc.occurred.first_day <= c.inc.occurred.last_day))) {
        into = &m;
        break;
      }
      if (c_enf || m_enf) continue;
      bool same_type = muc_type_name(m.inc.type).empty() ? m.inc.type == c.inc.type
                                                        : muc_type_name(m.inc.type) == muc_type_name(c.inc.type);
      bool place_ok = places_compatible(c, m);
      bool dates_conflict = c.date_explicit && m.date_explicit &&
                            !(c.inc.occurred.first_day <= m.inc.occurred.last_day &&
                              m.inc.occurred.first_day <= c.inc.occurred.last_day);
      // MUC's rule for separate instances: a different place or date
      // (template-doc part 1, section 5); otherwise one incident. The same
      // specific target told of twice is one incident whose second date
      // belongs to something else ("killed ... 8 days after taking office
      // on 1 June", "confirmed today that ... escaped a dynamite attack").
      if (same_type && place_ok && (!dates_conflict || shares_specific_target(m, c)) &&
          (!c.another || shares_specific_target(m, c)) &&
          !(c.first_sentence > m.last_sentence && !c.anaphoric && !c.generic && distinct_physical_targets(m, c))) {
        into = &m;
        break;
      }
      // "the attack", "the killing": a reference back to an incident; and
      // bare outcomes ("a minor was wounded") right after one.
      bool follows = c.first_sentence <= m.last_sentence + 2;
      bool bare = (c.cues & cue(kCueOutcomeOnly)) != 0;
      if (c.generic && place_ok && !dates_conflict && !m.gated &&
          (c.anaphoric || (follows && !c.place_explicit && !c.date_explicit) ||
           (bare && c.paragraph == m.paragraph))) {
        into = &m;
        break;
      }
    }
    if (into == nullptr) {
      merged.push_back(std::move(c));
      continue;
    }
    Candidate& m = *into;
    if (is_enforcement(c.inc.type) && !is_enforcement(m.inc.type)) {
      // A sequel is no evidence of the crime's type: the strength stays.
    } else if (is_enforcement(m.inc.type) && !is_enforcement(c.inc.type)) {
      m.inc.type = c.inc.type;  // the arrest was for this crime
      m.type_strength = c.type_strength;
      m.generic = c.generic;
      m.inc.evidence = c.inc.evidence;
    } else if (is_enforcement(m.inc.type) && type_precedence(c.inc.type) > type_precedence(m.inc.type)) {
      m.inc.type = c.inc.type;  // the charge names it: weapons > drugs > arrest
      m.type_strength = 1.0 - (1.0 - c.type_strength) * (1.0 - m.type_strength * 0.5);
      m.inc.evidence = c.inc.evidence;
    } else {
      // A death told in another sentence makes the shooting a homicide.
      if (c.inc.type == IncidentType::kHomicide && muc_type_name(m.inc.type) == "ATTACK" &&
          m.inc.type != IncidentType::kSexualAssault &&
          (!(c.cues & cue(kCueOutcomeOnly)) || death_in(c.first_sentence, c.last_sentence))) {
        m.inc.type = IncidentType::kHomicide;
      }
      m.type_strength = 1.0 - (1.0 - m.type_strength) * (1.0 - c.type_strength * 0.5);
    }
    m.last_sentence = std::max(m.last_sentence, c.last_sentence);
    m.events += c.events;
    m.gated = m.gated && c.gated;
    // Wording cues: those every sentence shares; actor cues: all.
    m.cues = ((m.cues & c.cues) & kSentenceCues) | ((m.cues | c.cues) & ~kSentenceCues);
    if (c.place_explicit && (!m.place_explicit || c.inc.place.precision > m.inc.place.precision)) {
      m.inc.place = c.inc.place;
      m.place_entry = c.place_entry;
      m.place_explicit = true;
    }
    if (!m.date_explicit && c.date_explicit) {
      m.inc.occurred = c.inc.occurred;
      m.date_explicit = true;
    }
    if (m.inc.perpetrator_org.empty()) m.inc.perpetrator_org = c.inc.perpetrator_org;
    m.has_perp |= c.has_perp;
    m.has_victim |= c.has_victim;
    m.has_officer |= c.has_officer;
    m.unnamed_victim |= c.unnamed_victim;
    for (auto& a2 : c.inc.actors) {
      bool dup = false;
      for (const auto& a1 : m.inc.actors) dup |= a1.text == a2.text && a1.role == a2.role;
      if (!dup) m.inc.actors.push_back(std::move(a2));
    }
    for (auto& t2 : c.inc.targets) {
      bool dup = false;
      for (const auto& t1 : m.inc.targets) dup |= t1.text == t2.text;
      if (!dup) m.inc.targets.push_back(std::move(t2));
    }
  }

  // Fill what the incident's own sentences did not give: the place from
  // the paragraph so far, the next sentence, the text's first sentence, the
  // dateline city (when configured), or the context country; the
  // perpetrator organisation from the paragraph.
  uint32_t first_sentence = UINT32_MAX;
  for (const auto& c : merged) first_sentence = std::min(first_sentence, c.first_sentence);
  for (auto& c : merged) {
    if (c.first_sentence == first_sentence) c.cues |= cue(kCueFirstIncident);
    if (merged.size() >= 4) c.cues |= cue(kCueManyIncidents);
    if (!c.place_explicit) {
      const Sentence& first = s_.sentences[c.first_sentence];
      uint32_t p_start = c.first_sentence;
      while (p_start > 0 && s_.sentences[p_start - 1].paragraph == first.paragraph) --p_start;
      bool found = p_start < c.first_sentence && place_for_sentences(p_start, c.first_sentence - 1, c);
      if (!found && c.last_sentence + 1 < n_sent && s_.sentences[c.last_sentence + 1].paragraph == first.paragraph) {
        found = place_for_sentences(c.last_sentence + 1, c.last_sentence + 1, c);
      }
      if (!found && c.first_sentence > 0 && opt_.lead_place_fallback) found = place_for_sentences(0, 0, c);
      if (!found && dateline_entry_ >= 0 && opt_.dateline_city_fallback &&
          in_home(g_.entry(static_cast<uint32_t>(dateline_entry_)).country)) {
        fill_place(c, dateline_entry_, nullptr);
        found = true;
      }
      if (!found && !context_country_.empty() && in_home(context_country_)) {
        for (uint32_t id : g_.lookup(context_country_)) {
          if (g_.entry(id).precision == PlacePrecision::kCountry && !g_.entry(id).demonym) {
            fill_place(c, static_cast<int32_t>(id), nullptr);
            break;
          }
        }
      }
    }
    if (c.inc.perpetrator_org.empty()) {
      const Sentence& first = s_.sentences[c.first_sentence];
      for (const auto& h : hits(kOrg)) {
        uint32_t hs = sentence_of(h.begin);
        if (s_.sentences[hs].paragraph != first.paragraph || hs > c.last_sentence + 1) continue;
        const std::string& cls = lex_.org_class[index_of(h.payload)];
        if (cls == "state") continue;
        c.inc.perpetrator_org = std::string(s_.tok.original(h.begin, h.end));
        c.has_perp = true;
        c.cues |= cue(cls == "criminal" ? kCueOrgCriminal : kCueOrgGuerrilla);
        break;
      }
    }
    for (char& ch : c.inc.perpetrator_org) {
      if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    }
    district_from_mentions(c);
    // "He died at the hospital", "was pronounced dead": a death told in a
    // sentence of the incident, or the one right after it, without an act of
    // its own.
    if ((c.inc.type == IncidentType::kShooting || c.inc.type == IncidentType::kAssault ||
         c.inc.type == IncidentType::kAttack)) {
      uint32_t last = c.last_sentence;
      if (last + 1 < n_sent && s_.sentences[last + 1].paragraph == s_.sentences[last].paragraph) ++last;
      if (death_in(c.first_sentence, last)) c.inc.type = IncidentType::kHomicide;
    }
    // Places outside the home regions are not ours to report.
    if (!c.inc.place.country.empty() && !in_home(c.inc.place.country)) c.gated = true;
    finish_time(c.inc.occurred);
    score(c);
  }
  std::stable_sort(merged.begin(), merged.end(), [](const Candidate& x, const Candidate& y) {
    return x.inc.confidence.value > y.inc.confidence.value;
  });
  for (auto& c : merged) {
    if (c.gated || c.inc.confidence.value < opt_.min_confidence) continue;
    out.incidents.push_back(std::move(c.inc));
  }
  return out;
}

}  // namespace

Extraction BuiltinExtractor::run(const ArticleText& article) const {
  thread_local Scratch scratch;
  Run r(*gazetteer_, *lexicon_, options_, scratch);
  return r.go(article);
}

}  // namespace sentinel::intel
