// Tokenisation follows Python's sgmllib with feedparser's overrides (tag
// names may contain ':', character references need ';', quoted attribute
// values may contain '>'); the rewriting rules and whitelists follow
// feedparser's html.py, urls.py and sanitizer.py, which the feed corpus's
// expectations were written against.
#include "intel/feed_html.h"

#include <algorithm>
#include <unordered_set>

#include "intel/feed_text.h"
#include "intel/feed_urls.h"

namespace sentinel::intel::feedhtml {

namespace {

using feedtext::is_ascii_alnum;
using feedtext::is_ascii_alpha;
using feedtext::is_ascii_digit;
using feedtext::is_space;
using feedtext::is_word_byte;

using NameSet = std::unordered_set<std::string_view>;

bool has(const NameSet& set, std::string_view name) {
  return set.find(name) != set.end();
}

struct Entity {
  std::string_view name;
  uint32_t cp;
};

// Python's html.entities.name2codepoint (the HTML 4 set), sorted by name.
constexpr Entity kEntities[] = {
    {"AElig", 0xC6},     {"Aacute", 0xC1},    {"Acirc", 0xC2},    {"Agrave", 0xC0},
    {"Alpha", 0x391},    {"Aring", 0xC5},     {"Atilde", 0xC3},   {"Auml", 0xC4},
    {"Beta", 0x392},     {"Ccedil", 0xC7},    {"Chi", 0x3A7},     {"Dagger", 0x2021},
    {"Delta", 0x394},    {"ETH", 0xD0},       {"Eacute", 0xC9},   {"Ecirc", 0xCA},
    {"Egrave", 0xC8},    {"Epsilon", 0x395},  {"Eta", 0x397},     {"Euml", 0xCB},
    {"Gamma", 0x393},    {"Iacute", 0xCD},    {"Icirc", 0xCE},    {"Igrave", 0xCC},
    {"Iota", 0x399},     {"Iuml", 0xCF},      {"Kappa", 0x39A},   {"Lambda", 0x39B},
    {"Mu", 0x39C},       {"Ntilde", 0xD1},    {"Nu", 0x39D},      {"OElig", 0x152},
    {"Oacute", 0xD3},    {"Ocirc", 0xD4},     {"Ograve", 0xD2},   {"Omega", 0x3A9},
    {"Omicron", 0x39F},  {"Oslash", 0xD8},    {"Otilde", 0xD5},   {"Ouml", 0xD6},
    {"Phi", 0x3A6},      {"Pi", 0x3A0},       {"Prime", 0x2033},  {"Psi", 0x3A8},
    {"Rho", 0x3A1},      {"Scaron", 0x160},   {"Sigma", 0x3A3},   {"THORN", 0xDE},
    {"Tau", 0x3A4},      {"Theta", 0x398},    {"Uacute", 0xDA},   {"Ucirc", 0xDB},
    {"Ugrave", 0xD9},    {"Upsilon", 0x3A5},  {"Uuml", 0xDC},     {"Xi", 0x39E},
    {"Yacute", 0xDD},    {"Yuml", 0x178},     {"Zeta", 0x396},    {"aacute", 0xE1},
    {"acirc", 0xE2},     {"acute", 0xB4},     {"aelig", 0xE6},    {"agrave", 0xE0},
    {"alefsym", 0x2135}, {"alpha", 0x3B1},    {"amp", 0x26},      {"and", 0x2227},
    {"ang", 0x2220},     {"aring", 0xE5},     {"asymp", 0x2248},  {"atilde", 0xE3},
    {"auml", 0xE4},      {"bdquo", 0x201E},   {"beta", 0x3B2},    {"brvbar", 0xA6},
    {"bull", 0x2022},    {"cap", 0x2229},     {"ccedil", 0xE7},   {"cedil", 0xB8},
    {"cent", 0xA2},      {"chi", 0x3C7},      {"circ", 0x2C6},    {"clubs", 0x2663},
    {"cong", 0x2245},    {"copy", 0xA9},      {"crarr", 0x21B5},  {"cup", 0x222A},
    {"curren", 0xA4},    {"dArr", 0x21D3},    {"dagger", 0x2020}, {"darr", 0x2193},
    {"deg", 0xB0},       {"delta", 0x3B4},    {"diams", 0x2666},  {"divide", 0xF7},
    {"eacute", 0xE9},    {"ecirc", 0xEA},     {"egrave", 0xE8},   {"empty", 0x2205},
    {"emsp", 0x2003},    {"ensp", 0x2002},    {"epsilon", 0x3B5}, {"equiv", 0x2261},
    {"eta", 0x3B7},      {"eth", 0xF0},       {"euml", 0xEB},     {"euro", 0x20AC},
    {"exist", 0x2203},   {"fnof", 0x192},     {"forall", 0x2200}, {"frac12", 0xBD},
    {"frac14", 0xBC},    {"frac34", 0xBE},    {"frasl", 0x2044},  {"gamma", 0x3B3},
    {"ge", 0x2265},      {"gt", 0x3E},        {"hArr", 0x21D4},   {"harr", 0x2194},
    {"hearts", 0x2665},  {"hellip", 0x2026},  {"iacute", 0xED},   {"icirc", 0xEE},
    {"iexcl", 0xA1},     {"igrave", 0xEC},    {"image", 0x2111},  {"infin", 0x221E},
    {"int", 0x222B},     {"iota", 0x3B9},     {"iquest", 0xBF},   {"isin", 0x2208},
    {"iuml", 0xEF},      {"kappa", 0x3BA},    {"lArr", 0x21D0},   {"lambda", 0x3BB},
    {"lang", 0x2329},    {"laquo", 0xAB},     {"larr", 0x2190},   {"lceil", 0x2308},
    {"ldquo", 0x201C},   {"le", 0x2264},      {"lfloor", 0x230A}, {"lowast", 0x2217},
    {"loz", 0x25CA},     {"lrm", 0x200E},     {"lsaquo", 0x2039}, {"lsquo", 0x2018},
    {"lt", 0x3C},        {"macr", 0xAF},      {"mdash", 0x2014},  {"micro", 0xB5},
    {"middot", 0xB7},    {"minus", 0x2212},   {"mu", 0x3BC},      {"nabla", 0x2207},
    {"nbsp", 0xA0},      {"ndash", 0x2013},   {"ne", 0x2260},     {"ni", 0x220B},
    {"not", 0xAC},       {"notin", 0x2209},   {"nsub", 0x2284},   {"ntilde", 0xF1},
    {"nu", 0x3BD},       {"oacute", 0xF3},    {"ocirc", 0xF4},    {"oelig", 0x153},
    {"ograve", 0xF2},    {"oline", 0x203E},   {"omega", 0x3C9},   {"omicron", 0x3BF},
    {"oplus", 0x2295},   {"or", 0x2228},      {"ordf", 0xAA},     {"ordm", 0xBA},
    {"oslash", 0xF8},    {"otilde", 0xF5},    {"otimes", 0x2297}, {"ouml", 0xF6},
    {"para", 0xB6},      {"part", 0x2202},    {"permil", 0x2030}, {"perp", 0x22A5},
    {"phi", 0x3C6},      {"pi", 0x3C0},       {"piv", 0x3D6},     {"plusmn", 0xB1},
    {"pound", 0xA3},     {"prime", 0x2032},   {"prod", 0x220F},   {"prop", 0x221D},
    {"psi", 0x3C8},      {"quot", 0x22},      {"rArr", 0x21D2},   {"radic", 0x221A},
    {"rang", 0x232A},    {"raquo", 0xBB},     {"rarr", 0x2192},   {"rceil", 0x2309},
    {"rdquo", 0x201D},   {"real", 0x211C},    {"reg", 0xAE},      {"rfloor", 0x230B},
    {"rho", 0x3C1},      {"rlm", 0x200F},     {"rsaquo", 0x203A}, {"rsquo", 0x2019},
    {"sbquo", 0x201A},   {"scaron", 0x161},   {"sdot", 0x22C5},   {"sect", 0xA7},
    {"shy", 0xAD},       {"sigma", 0x3C3},    {"sigmaf", 0x3C2},  {"sim", 0x223C},
    {"spades", 0x2660},  {"sub", 0x2282},     {"sube", 0x2286},   {"sum", 0x2211},
    {"sup", 0x2283},     {"sup1", 0xB9},      {"sup2", 0xB2},     {"sup3", 0xB3},
    {"supe", 0x2287},    {"szlig", 0xDF},     {"tau", 0x3C4},     {"there4", 0x2234},
    {"theta", 0x3B8},    {"thetasym", 0x3D1}, {"thinsp", 0x2009}, {"thorn", 0xFE},
    {"tilde", 0x2DC},    {"times", 0xD7},     {"trade", 0x2122},  {"uArr", 0x21D1},
    {"uacute", 0xFA},    {"uarr", 0x2191},    {"ucirc", 0xFB},    {"ugrave", 0xF9},
    {"uml", 0xA8},       {"upsih", 0x3D2},    {"upsilon", 0x3C5}, {"uuml", 0xFC},
    {"weierp", 0x2118},  {"xi", 0x3BE},       {"yacute", 0xFD},   {"yen", 0xA5},
    {"yuml", 0xFF},      {"zeta", 0x3B6},     {"zwj", 0x200D},    {"zwnj", 0x200C},
};

const NameSet& elements_no_end_tag() {
  static const NameSet kSet = {"area",  "base",  "basefont", "br",    "col",     "command", "embed",
                               "frame", "hr",    "img",      "input", "isindex", "keygen",  "link",
                               "meta",  "param", "source",   "track", "wbr"};
  return kSet;
}

const NameSet& acceptable_elements() {
  static const NameSet kSet = {"a",          "abbr",
                               "acronym",    "address",
                               "area",       "article",
                               "aside",      "audio",
                               "b",          "big",
                               "blockquote", "br",
                               "button",     "canvas",
                               "caption",    "center",
                               "cite",       "code",
                               "col",        "colgroup",
                               "command",    "datagrid",
                               "datalist",   "dd",
                               "del",        "details",
                               "dfn",        "dialog",
                               "dir",        "div",
                               "dl",         "dt",
                               "em",         "event-source",
                               "fieldset",   "figcaption",
                               "figure",     "font",
                               "footer",     "form",
                               "h1",         "h2",
                               "h3",         "h4",
                               "h5",         "h6",
                               "header",     "hr",
                               "i",          "img",
                               "input",      "ins",
                               "kbd",        "keygen",
                               "label",      "legend",
                               "li",         "m",
                               "map",        "menu",
                               "meter",      "multicol",
                               "nav",        "nextid",
                               "noscript",   "ol",
                               "optgroup",   "option",
                               "output",     "p",
                               "pre",        "progress",
                               "q",          "s",
                               "samp",       "section",
                               "select",     "small",
                               "sound",      "source",
                               "spacer",     "span",
                               "strike",     "strong",
                               "sub",        "sup",
                               "table",      "tbody",
                               "td",         "textarea",
                               "tfoot",      "th",
                               "thead",      "time",
                               "tr",         "tt",
                               "u",          "ul",
                               "var",        "video"};
  return kSet;
}

const NameSet& acceptable_attributes() {
  static const NameSet kSet = {"abbr",
                               "accept",
                               "accept-charset",
                               "accesskey",
                               "action",
                               "align",
                               "alt",
                               "autocomplete",
                               "autofocus",
                               "axis",
                               "background",
                               "balance",
                               "bgcolor",
                               "bgproperties",
                               "border",
                               "bordercolor",
                               "bordercolordark",
                               "bordercolorlight",
                               "bottompadding",
                               "cellpadding",
                               "cellspacing",
                               "ch",
                               "challenge",
                               "char",
                               "charoff",
                               "charset",
                               "checked",
                               "choff",
                               "cite",
                               "class",
                               "clear",
                               "color",
                               "cols",
                               "colspan",
                               "compact",
                               "contenteditable",
                               "controls",
                               "coords",
                               "data",
                               "datafld",
                               "datapagesize",
                               "datasrc",
                               "datetime",
                               "default",
                               "delay",
                               "dir",
                               "disabled",
                               "draggable",
                               "dynsrc",
                               "enctype",
                               "end",
                               "face",
                               "for",
                               "form",
                               "frame",
                               "galleryimg",
                               "gutter",
                               "headers",
                               "height",
                               "hidden",
                               "hidefocus",
                               "high",
                               "href",
                               "hreflang",
                               "hspace",
                               "icon",
                               "id",
                               "inputmode",
                               "ismap",
                               "keytype",
                               "label",
                               "lang",
                               "leftspacing",
                               "list",
                               "longdesc",
                               "loop",
                               "loopcount",
                               "loopend",
                               "loopstart",
                               "low",
                               "lowsrc",
                               "max",
                               "maxlength",
                               "media",
                               "method",
                               "min",
                               "multiple",
                               "name",
                               "nohref",
                               "noshade",
                               "nowrap",
                               "open",
                               "optimum",
                               "pattern",
                               "ping",
                               "point-size",
                               "poster",
                               "pqg",
                               "preload",
                               "prompt",
                               "radiogroup",
                               "readonly",
                               "rel",
                               "repeat-max",
                               "repeat-min",
                               "replace",
                               "required",
                               "rev",
                               "rightspacing",
                               "rows",
                               "rowspan",
                               "rules",
                               "scope",
                               "selected",
                               "shape",
                               "size",
                               "span",
                               "src",
                               "start",
                               "step",
                               "style",
                               "summary",
                               "suppress",
                               "tabindex",
                               "target",
                               "template",
                               "title",
                               "toppadding",
                               "type",
                               "unselectable",
                               "urn",
                               "usemap",
                               "valign",
                               "value",
                               "variable",
                               "volume",
                               "vrml",
                               "vspace",
                               "width",
                               "wrap",
                               "xml:lang"};
  return kSet;
}

const NameSet& unacceptable_elements_with_end_tag() {
  static const NameSet kSet = {"applet", "script", "style"};
  return kSet;
}

const NameSet& acceptable_css_properties() {
  static const NameSet kSet = {"azimuth",
                               "background-color",
                               "border-bottom-color",
                               "border-collapse",
                               "border-color",
                               "border-left-color",
                               "border-right-color",
                               "border-top-color",
                               "clear",
                               "color",
                               "cursor",
                               "direction",
                               "display",
                               "elevation",
                               "float",
                               "font",
                               "font-family",
                               "font-size",
                               "font-style",
                               "font-variant",
                               "font-weight",
                               "height",
                               "letter-spacing",
                               "line-height",
                               "overflow",
                               "pause",
                               "pause-after",
                               "pause-before",
                               "pitch",
                               "pitch-range",
                               "richness",
                               "speak",
                               "speak-header",
                               "speak-numeral",
                               "speak-punctuation",
                               "speech-rate",
                               "stress",
                               "text-align",
                               "text-decoration",
                               "text-indent",
                               "unicode-bidi",
                               "vertical-align",
                               "voice-family",
                               "volume",
                               "white-space",
                               "width"};
  return kSet;
}

const NameSet& acceptable_css_keywords() {
  static const NameSet kSet = {
      "!important", "aqua",   "auto",   "black",       "block",     "blue",   "bold",    "both",
      "bottom",     "brown",  "center", "collapse",    "dashed",    "dotted", "fuchsia", "gray",
      "green",      "italic", "left",   "lime",        "maroon",    "medium", "navy",    "none",
      "normal",     "nowrap", "olive",  "pointer",     "purple",    "red",    "right",   "silver",
      "solid",      "teal",   "top",    "transparent", "underline", "white",  "yellow"};
  return kSet;
}

const NameSet& acceptable_svg_properties() {
  static const NameSet kSet = {"fill",           "fill-opacity",   "fill-rule",
                               "stroke",         "stroke-linecap", "stroke-linejoin",
                               "stroke-opacity", "stroke-width"};
  return kSet;
}

const NameSet& mathml_elements() {
  static const NameSet kSet = {"annotation",
                               "annotation-xml",
                               "maction",
                               "maligngroup",
                               "malignmark",
                               "math",
                               "menclose",
                               "merror",
                               "mfenced",
                               "mfrac",
                               "mglyph",
                               "mi",
                               "mlabeledtr",
                               "mlongdiv",
                               "mmultiscripts",
                               "mn",
                               "mo",
                               "mover",
                               "mpadded",
                               "mphantom",
                               "mprescripts",
                               "mroot",
                               "mrow",
                               "ms",
                               "mscarries",
                               "mscarry",
                               "msgroup",
                               "msline",
                               "mspace",
                               "msqrt",
                               "msrow",
                               "mstack",
                               "mstyle",
                               "msub",
                               "msubsup",
                               "msup",
                               "mtable",
                               "mtd",
                               "mtext",
                               "mtr",
                               "munder",
                               "munderover",
                               "none",
                               "semantics"};
  return kSet;
}

const NameSet& mathml_attributes() {
  static const NameSet kSet = {"accent",
                               "accentunder",
                               "actiontype",
                               "align",
                               "alignmentscope",
                               "altimg",
                               "altimg-height",
                               "altimg-valign",
                               "altimg-width",
                               "alttext",
                               "bevelled",
                               "charalign",
                               "close",
                               "columnalign",
                               "columnlines",
                               "columnspacing",
                               "columnspan",
                               "columnwidth",
                               "crossout",
                               "decimalpoint",
                               "denomalign",
                               "depth",
                               "dir",
                               "display",
                               "displaystyle",
                               "edge",
                               "encoding",
                               "equalcolumns",
                               "equalrows",
                               "fence",
                               "fontstyle",
                               "fontweight",
                               "form",
                               "frame",
                               "framespacing",
                               "groupalign",
                               "height",
                               "href",
                               "id",
                               "indentalign",
                               "indentalignfirst",
                               "indentalignlast",
                               "indentshift",
                               "indentshiftfirst",
                               "indentshiftlast",
                               "indenttarget",
                               "infixlinebreakstyle",
                               "largeop",
                               "length",
                               "linebreak",
                               "linebreakmultchar",
                               "linebreakstyle",
                               "lineleading",
                               "linethickness",
                               "location",
                               "longdivstyle",
                               "lquote",
                               "lspace",
                               "mathbackground",
                               "mathcolor",
                               "mathsize",
                               "mathvariant",
                               "maxsize",
                               "minlabelspacing",
                               "minsize",
                               "movablelimits",
                               "notation",
                               "numalign",
                               "open",
                               "other",
                               "overflow",
                               "position",
                               "rowalign",
                               "rowlines",
                               "rowspacing",
                               "rowspan",
                               "rquote",
                               "rspace",
                               "scriptlevel",
                               "scriptminsize",
                               "scriptsizemultiplier",
                               "selection",
                               "separator",
                               "separators",
                               "shift",
                               "side",
                               "src",
                               "stackalign",
                               "stretchy",
                               "subscriptshift",
                               "superscriptshift",
                               "symmetric",
                               "voffset",
                               "width",
                               "xlink:href",
                               "xlink:show",
                               "xlink:type",
                               "xmlns",
                               "xmlns:xlink"};
  return kSet;
}

// SVG names are case-sensitive; the scanner lower-cases them, so membership is
// tested on lower-case names and the original spelling restored on output.
const std::vector<std::string_view>& svg_element_names() {
  static const std::vector<std::string_view> kNames = {"a",
                                                       "animate",
                                                       "animateColor",
                                                       "animateMotion",
                                                       "animateTransform",
                                                       "circle",
                                                       "defs",
                                                       "desc",
                                                       "ellipse",
                                                       "font-face",
                                                       "font-face-name",
                                                       "font-face-src",
                                                       "foreignObject",
                                                       "g",
                                                       "glyph",
                                                       "hkern",
                                                       "line",
                                                       "linearGradient",
                                                       "marker",
                                                       "metadata",
                                                       "missing-glyph",
                                                       "mpath",
                                                       "path",
                                                       "polygon",
                                                       "polyline",
                                                       "radialGradient",
                                                       "rect",
                                                       "set",
                                                       "stop",
                                                       "svg",
                                                       "switch",
                                                       "text",
                                                       "title",
                                                       "tspan",
                                                       "use"};
  return kNames;
}

const std::vector<std::string_view>& svg_attribute_names() {
  static const std::vector<std::string_view> kNames = {"accent-height",
                                                       "accumulate",
                                                       "additive",
                                                       "alphabetic",
                                                       "arabic-form",
                                                       "ascent",
                                                       "attributeName",
                                                       "attributeType",
                                                       "baseProfile",
                                                       "bbox",
                                                       "begin",
                                                       "by",
                                                       "calcMode",
                                                       "cap-height",
                                                       "class",
                                                       "color",
                                                       "color-rendering",
                                                       "content",
                                                       "cx",
                                                       "cy",
                                                       "d",
                                                       "descent",
                                                       "display",
                                                       "dur",
                                                       "dx",
                                                       "dy",
                                                       "end",
                                                       "fill",
                                                       "fill-opacity",
                                                       "fill-rule",
                                                       "font-family",
                                                       "font-size",
                                                       "font-stretch",
                                                       "font-style",
                                                       "font-variant",
                                                       "font-weight",
                                                       "from",
                                                       "fx",
                                                       "fy",
                                                       "g1",
                                                       "g2",
                                                       "glyph-name",
                                                       "gradientUnits",
                                                       "hanging",
                                                       "height",
                                                       "horiz-adv-x",
                                                       "horiz-origin-x",
                                                       "id",
                                                       "ideographic",
                                                       "k",
                                                       "keyPoints",
                                                       "keySplines",
                                                       "keyTimes",
                                                       "lang",
                                                       "marker-end",
                                                       "marker-mid",
                                                       "marker-start",
                                                       "markerHeight",
                                                       "markerUnits",
                                                       "markerWidth",
                                                       "mathematical",
                                                       "max",
                                                       "min",
                                                       "name",
                                                       "offset",
                                                       "opacity",
                                                       "orient",
                                                       "origin",
                                                       "overline-position",
                                                       "overline-thickness",
                                                       "panose-1",
                                                       "path",
                                                       "pathLength",
                                                       "points",
                                                       "preserveAspectRatio",
                                                       "r",
                                                       "refX",
                                                       "refY",
                                                       "repeatCount",
                                                       "repeatDur",
                                                       "requiredExtensions",
                                                       "requiredFeatures",
                                                       "restart",
                                                       "rotate",
                                                       "rx",
                                                       "ry",
                                                       "slope",
                                                       "stemh",
                                                       "stemv",
                                                       "stop-color",
                                                       "stop-opacity",
                                                       "strikethrough-position",
                                                       "strikethrough-thickness",
                                                       "stroke",
                                                       "stroke-dasharray",
                                                       "stroke-dashoffset",
                                                       "stroke-linecap",
                                                       "stroke-linejoin",
                                                       "stroke-miterlimit",
                                                       "stroke-opacity",
                                                       "stroke-width",
                                                       "systemLanguage",
                                                       "target",
                                                       "text-anchor",
                                                       "to",
                                                       "transform",
                                                       "type",
                                                       "u1",
                                                       "u2",
                                                       "underline-position",
                                                       "underline-thickness",
                                                       "unicode",
                                                       "unicode-range",
                                                       "units-per-em",
                                                       "values",
                                                       "version",
                                                       "viewBox",
                                                       "visibility",
                                                       "width",
                                                       "widths",
                                                       "x",
                                                       "x-height",
                                                       "x1",
                                                       "x2",
                                                       "xlink:actuate",
                                                       "xlink:arcrole",
                                                       "xlink:href",
                                                       "xlink:role",
                                                       "xlink:show",
                                                       "xlink:title",
                                                       "xlink:type",
                                                       "xml:base",
                                                       "xml:lang",
                                                       "xml:space",
                                                       "xmlns",
                                                       "xmlns:xlink",
                                                       "y",
                                                       "y1",
                                                       "y2",
                                                       "zoomAndPan"};
  return kNames;
}

// Lower-case name -> original spelling, for names in `names`.
const std::string* original_spelling(const std::vector<std::string_view>& names,
                                     std::string_view lower,
                                     std::vector<std::pair<std::string, std::string>>& cache) {
  if (cache.empty()) {
    for (auto n : names) cache.emplace_back(feedtext::lower(n), std::string(n));
  }
  for (const auto& [l, o] : cache) {
    if (l == lower) return &o;
  }
  return nullptr;
}

const std::string* svg_element(std::string_view lower) {
  static std::vector<std::pair<std::string, std::string>> cache;
  static const bool kInit = (original_spelling(svg_element_names(), "", cache), true);
  (void)kInit;
  return original_spelling(svg_element_names(), lower, cache);
}

const std::string* svg_attribute(std::string_view lower) {
  static std::vector<std::pair<std::string, std::string>> cache;
  static const bool kInit = (original_spelling(svg_attribute_names(), "", cache), true);
  (void)kInit;
  return original_spelling(svg_attribute_names(), lower, cache);
}

constexpr std::string_view kMathmlNs = "http://www.w3.org/1998/Math/MathML";
constexpr std::string_view kSvgNs = "http://www.w3.org/2000/svg";
constexpr std::string_view kXlinkNs = "http://www.w3.org/1999/xlink";

bool tagfind_char(unsigned char c) {
  return is_ascii_alnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
}
bool attrname_char(unsigned char c) {
  return is_ascii_alnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
}
bool attrvalue_char(unsigned char c) {
  if (is_ascii_alnum(c)) return true;
  return std::string_view("][-./,:;+*%?!&$()_#=~'\"@").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// sgmllib's `endbracket` (as feedparser overrides it): the index of the next
// '<' or '>' that ends a tag starting before `start`, skipping quoted values
// that are followed by '>', '/', whitespace or another attribute; npos when none.
size_t end_bracket(const std::string& s, size_t start) {
  size_t n = s.size();
  size_t pos = start;
  while (pos < n) {
    char c = s[pos];
    if (c == '<' || c == '>') return pos;
    if (c == '"' || c == '\'') {
      size_t close = s.find(c, pos + 1);
      if (close == std::string::npos) break;
      size_t after = close + 1;
      bool ok = false;
      if (after < n) {
        char a = s[after];
        if (a == '>' || a == '/' || is_space(static_cast<unsigned char>(a))) {
          ok = true;
        } else if (is_word_byte(static_cast<unsigned char>(a))) {
          size_t k = after;
          while (k < n && is_word_byte(static_cast<unsigned char>(s[k]))) ++k;
          ok = k < n && s[k] == '=';
        }
      }
      if (!ok) break;
      pos = after;
      continue;
    }
    ++pos;
  }
  // Fallback: the nearest '<' or '>' on the same line.
  for (size_t k = start; k < n; ++k) {
    if (s[k] == '\n') return std::string::npos;
    if (s[k] == '<' || s[k] == '>') return k;
  }
  return std::string::npos;
}

// sgmllib's entity_or_charref substitution with feedparser's converters:
// references stay as written, except that "&#NN" gains its ';'.
std::string convert_attr_refs(const std::string& v) {
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    if (v[i] == '&' && i + 1 < v.size() && v[i + 1] == '#') {
      size_t k = i + 2;
      while (k < v.size() && is_ascii_digit(static_cast<unsigned char>(v[k]))) ++k;
      if (k > i + 2) {
        out.append(v, i, k - i);
        out.push_back(';');
        if (k < v.size() && v[k] == ';') ++k;
        i = k;
        continue;
      }
    }
    out.push_back(v[i]);
    ++i;
  }
  return out;
}

}  // namespace

std::optional<uint32_t> html_entity(std::string_view name) {
  auto it = std::lower_bound(std::begin(kEntities), std::end(kEntities), name,
                             [](const Entity& e, std::string_view n) { return e.name < n; });
  if (it != std::end(kEntities) && it->name == name) return it->cp;
  return std::nullopt;
}

uint32_t cp1252_code_point(uint32_t cp) {
  static constexpr uint32_t kTable[32] = {
      0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
  if (cp < 0x80 || cp > 0x9F) return 0;
  return kTable[cp - 0x80];
}

// ---------------------------------------------------------------------------
// SgmlParser

void SgmlParser::feed(std::string_view data) {
  std::string d(data);
  // Escape "<!" that starts no doctype, comment or marked section (feedparser
  // passes re.IGNORECASE as re.sub's count, so only the first two are escaped).
  {
    std::string out;
    int replaced = 0;
    size_t i = 0;
    while (i < d.size()) {
      if (replaced < 2 && d[i] == '<' && i + 1 < d.size() && d[i + 1] == '!') {
        std::string_view rest = std::string_view(d).substr(i + 2);
        if (!feedtext::starts_with(rest, "DOCTYPE") && !feedtext::starts_with(rest, "--") &&
            !feedtext::starts_with(rest, "[")) {
          out += "&lt;!";
          i += 2;
          ++replaced;
          continue;
        }
      }
      out.push_back(d[i]);
      ++i;
    }
    d = std::move(out);
  }
  // "<tag/>" (no attributes) -> "<tag />" for void elements, else "<tag></tag>".
  {
    std::string out;
    size_t i = 0;
    while (i < d.size()) {
      if (d[i] == '<') {
        size_t k = i + 1;
        size_t match_end = std::string::npos;
        std::string tag;
        while (k < d.size() && d[k] != '<' && d[k] != '>' &&
               !is_space(static_cast<unsigned char>(d[k]))) {
          size_t t = k + 1;
          while (t < d.size() && is_space(static_cast<unsigned char>(d[t]))) ++t;
          if (t + 1 < d.size() && d[t] == '/' && d[t + 1] == '>') {
            tag = d.substr(i + 1, k + 1 - (i + 1));
            match_end = t + 2;
            break;
          }
          ++k;
        }
        if (match_end != std::string::npos) {
          if (elements_no_end_tag().count(tag) != 0) {
            out += "<" + tag + " />";
          } else {
            out += "<" + tag + "></" + tag + ">";
          }
          i = match_end;
          continue;
        }
      }
      out.push_back(d[i]);
      ++i;
    }
    d = std::move(out);
  }
  d = feedtext::replace_all(std::move(d), "&#39;", "'");
  d = feedtext::replace_all(std::move(d), "&#34;", "\"");
  rawdata_ = std::move(d);
  goahead();
}

void SgmlParser::goahead() {
  const std::string& raw = rawdata_;
  size_t i = 0;
  const size_t n = raw.size();
  while (i < n) {
    size_t j = raw.find_first_of("&<", i);
    if (j == std::string::npos) j = n;
    if (i < j) handle_data(std::string_view(raw).substr(i, j - i));
    i = j;
    if (i == n) break;
    if (raw[i] == '<') {
      if (i + 1 < n &&
          (raw[i + 1] == '>' || is_ascii_alpha(static_cast<unsigned char>(raw[i + 1])))) {
        long k = parse_starttag(i);
        if (k < 0) break;
        i = static_cast<size_t>(k);
        continue;
      }
      if (raw.compare(i, 2, "</") == 0) {
        long k = parse_endtag(i);
        if (k < 0) break;
        i = static_cast<size_t>(k);
        continue;
      }
      if (raw.compare(i, 4, "<!--") == 0) {
        long k = parse_comment(i);
        if (k < 0) break;
        i = static_cast<size_t>(k);
        continue;
      }
      if (raw.compare(i, 2, "<?") == 0) {
        long k = parse_pi(i);
        if (k < 0) break;
        i += static_cast<size_t>(k);
        continue;
      }
      if (raw.compare(i, 2, "<!") == 0) {
        long k = parse_declaration(i);
        if (k < 0) break;
        i = static_cast<size_t>(k);
        continue;
      }
    } else {  // '&'
      // Character reference: &#123; or &#x7B; (the ';' is required).
      if (i + 2 < n && raw[i + 1] == '#') {
        size_t k = i + 2;
        bool hex = raw[k] == 'x' || raw[k] == 'X';
        size_t digits_start = hex ? k + 1 : k;
        size_t e = digits_start;
        while (e < n && (hex ? feedtext::is_hex_digit(static_cast<unsigned char>(raw[e]))
                             : is_ascii_digit(static_cast<unsigned char>(raw[e])))) {
          ++e;
        }
        if (e > digits_start && e < n && raw[e] == ';') {
          handle_charref(raw.substr(i + 2, e - (i + 2)));
          i = e + 1;
          continue;
        }
      }
      // Entity reference: &name followed by a non-alphanumeric character,
      // which is consumed only when it is ';'.
      if (i + 1 < n && is_ascii_alpha(static_cast<unsigned char>(raw[i + 1]))) {
        size_t e = i + 2;
        while (e < n && (is_ascii_alnum(static_cast<unsigned char>(raw[e])) || raw[e] == '-' ||
                         raw[e] == '.'))
          ++e;
        if (e < n && !is_ascii_alnum(static_cast<unsigned char>(raw[e]))) {
          handle_entityref(raw.substr(i + 1, e - (i + 1)));
          i = raw[e] == ';' ? e + 1 : e;
          continue;
        }
      }
    }
    // Incomplete construct: report what can be reported as text, or stop at
    // the end of the buffer.
    size_t j2 = i + 1;
    if (raw[i] == '&') {
      if (j2 < n && is_ascii_alpha(static_cast<unsigned char>(raw[j2]))) {
        while (j2 < n && is_ascii_alnum(static_cast<unsigned char>(raw[j2]))) ++j2;
      } else if (j2 < n && raw[j2] == '#') {
        ++j2;
        while (j2 < n && is_ascii_digit(static_cast<unsigned char>(raw[j2]))) ++j2;
      }
    } else if (j2 < n) {
      auto not_bracket = [&](size_t p) { return p < n && raw[p] != '<' && raw[p] != '>'; };
      if (is_ascii_alpha(static_cast<unsigned char>(raw[j2]))) {
        while (not_bracket(j2)) ++j2;
      } else if (raw[j2] == '/') {
        ++j2;
        if (j2 < n && is_ascii_alpha(static_cast<unsigned char>(raw[j2]))) {
          while (not_bracket(j2)) ++j2;
        }
      } else if (raw[j2] == '!') {
        ++j2;
        while (not_bracket(j2)) ++j2;
      }
    }
    if (j2 == n) break;
    handle_data(std::string_view(raw).substr(i, j2 - i));
    i = j2;
  }
  if (i < n) handle_data(std::string_view(raw).substr(i));
}

long SgmlParser::parse_starttag(size_t i) {
  const std::string& raw = rawdata_;
  const size_t n = raw.size();
  // SGML short tag "<tag/data/" == "<tag>data</tag>".
  if (is_ascii_alpha(static_cast<unsigned char>(raw[i + 1]))) {
    size_t k = i + 2;
    while (k < n &&
           (is_ascii_alnum(static_cast<unsigned char>(raw[k])) || raw[k] == '-' || raw[k] == '.'))
      ++k;
    if (k < n && raw[k] == '/') {
      size_t data_end = raw.find('/', k + 1);
      if (data_end == std::string::npos) return -1;
      std::string tag = feedtext::lower(std::string_view(raw).substr(i + 1, k - i - 1));
      Attrs none;
      unknown_starttag(tag, none);
      handle_data(std::string_view(raw).substr(k + 1, data_end - k - 1));
      unknown_endtag(tag);
      return static_cast<long>(data_end + 1);
    }
  }
  size_t j = end_bracket(raw, i + 1);
  if (j == std::string::npos) return -1;
  std::string tag;
  size_t k = 0;
  if (raw[i + 1] == '>') {
    tag = lasttag_;
    k = j;
  } else {
    k = i + 2;
    while (k < n && tagfind_char(static_cast<unsigned char>(raw[k]))) ++k;
    tag = feedtext::lower(std::string_view(raw).substr(i + 1, k - i - 1));
    lasttag_ = tag;
  }
  Attrs attrs;
  while (k < j) {
    size_t p = k;
    while (p < n && is_space(static_cast<unsigned char>(raw[p]))) ++p;
    if (p >= n || !(is_ascii_alpha(static_cast<unsigned char>(raw[p])) || raw[p] == '_')) break;
    size_t name_end = p + 1;
    while (name_end < n && attrname_char(static_cast<unsigned char>(raw[name_end]))) ++name_end;
    std::string name = raw.substr(p, name_end - p);
    size_t q = name_end;
    while (q < n && is_space(static_cast<unsigned char>(raw[q]))) ++q;
    std::string value;
    size_t end = name_end;
    if (q < n && raw[q] == '=') {
      size_t v = q + 1;
      while (v < n && is_space(static_cast<unsigned char>(raw[v]))) ++v;
      size_t vend = v;
      if (v < n && (raw[v] == '\'' || raw[v] == '"')) {
        size_t close = raw.find(raw[v], v + 1);
        if (close != std::string::npos) {
          vend = close + 1;
        } else {
          while (vend < n && attrvalue_char(static_cast<unsigned char>(raw[vend]))) ++vend;
        }
      } else {
        while (vend < n && attrvalue_char(static_cast<unsigned char>(raw[vend]))) ++vend;
      }
      value = raw.substr(v, vend - v);
      if (value.size() >= 1 && (value[0] == '\'' || value[0] == '"') && value.back() == value[0]) {
        value = value.size() >= 2 ? value.substr(1, value.size() - 2) : std::string();
      }
      value = convert_attr_refs(value);
      end = vend;
    } else {
      value = name;
    }
    attrs.emplace_back(feedtext::lower(name), std::move(value));
    k = end;
  }
  if (j < n && raw[j] == '>') ++j;
  unknown_starttag(tag, attrs);
  if (xhtml_ && j > 2 && raw.compare(j - 2, 2, "/>") == 0) unknown_endtag(lasttag_);
  return static_cast<long>(j);
}

long SgmlParser::parse_endtag(size_t i) {
  const std::string& raw = rawdata_;
  size_t j = end_bracket(raw, i + 1);
  if (j == std::string::npos) return -1;
  std::string tag =
      feedtext::lower(feedtext::strip(std::string_view(raw).substr(i + 2, j - i - 2)));
  if (raw[j] == '>') ++j;
  unknown_endtag(tag);
  return static_cast<long>(j);
}

long SgmlParser::parse_comment(size_t i) {
  const std::string& raw = rawdata_;
  // The comment ends at "--" followed by optional whitespace and '>'.
  size_t pos = i + 4;
  while (true) {
    size_t dash = raw.find("--", pos);
    if (dash == std::string::npos) return -1;
    size_t k = dash + 2;
    while (k < raw.size() && is_space(static_cast<unsigned char>(raw[k]))) ++k;
    if (k < raw.size() && raw[k] == '>') {
      handle_comment(std::string_view(raw).substr(i + 4, dash - i - 4));
      return static_cast<long>(k + 1);
    }
    pos = dash + 1;
  }
}

long SgmlParser::parse_pi(size_t i) {
  const std::string& raw = rawdata_;
  size_t j = raw.find('>', i + 2);
  if (j == std::string::npos) return -1;
  handle_pi(std::string_view(raw).substr(i + 2, j - i - 2));
  return static_cast<long>(j + 1 - i);
}

// A declaration name: letter, then letters, digits, "-_.:", then whitespace.
// Returns the index after it, -1 at the end of the buffer, -2 when none.
long SgmlParser::scan_name(size_t i, std::string& name) const {
  const std::string& raw = rawdata_;
  const size_t n = raw.size();
  if (i >= n) return -1;
  if (!is_ascii_alpha(static_cast<unsigned char>(raw[i]))) return -2;
  size_t k = i + 1;
  while (k < n && (is_ascii_alnum(static_cast<unsigned char>(raw[k])) || raw[k] == '-' ||
                   raw[k] == '_' || raw[k] == '.' || raw[k] == ':')) {
    ++k;
  }
  name = feedtext::lower(std::string_view(raw).substr(i, k - i));
  while (k < n && is_space(static_cast<unsigned char>(raw[k]))) ++k;
  if (k == n) return -1;
  return static_cast<long>(k);
}

// markupbase's parse_declaration. -1: incomplete; -2: malformed.
long SgmlParser::scan_declaration(size_t i) {
  const std::string& raw = rawdata_;
  const size_t n = raw.size();
  size_t j = i + 2;
  if (j < n && raw[j] == '>') return static_cast<long>(j + 1);  // "<!>"
  if (j >= n || raw[j] == '-') return -1;
  if (raw[j] == '[') {
    // Marked section ("<![CDATA[...]]>", "<![if ...]>"): skipped.
    size_t close = raw.find("]>", j);
    if (close == std::string::npos) return -1;
    return static_cast<long>(close + 2);
  }
  std::string decltype_name;
  long r = scan_name(j, decltype_name);
  if (r < 0) return r;
  size_t k = static_cast<size_t>(r);
  while (k < n) {
    char c = raw[k];
    if (c == '>') {
      if (decltype_name == "doctype") handle_decl(std::string_view(raw).substr(i + 2, k - i - 2));
      return static_cast<long>(k + 1);
    }
    if (c == '"' || c == '\'') {
      size_t close = raw.find(c, k + 1);
      if (close == std::string::npos) return -1;
      k = close + 1;
      while (k < n && is_space(static_cast<unsigned char>(raw[k]))) ++k;
    } else if (is_ascii_alpha(static_cast<unsigned char>(c))) {
      std::string name;
      long r2 = scan_name(k, name);
      if (r2 < 0) return r2;
      k = static_cast<size_t>(r2);
    } else if (c == '[' && decltype_name == "doctype") {
      // Internal subset: skipped up to its closing ']'.
      size_t close = raw.find(']', k + 1);
      if (close == std::string::npos) return -1;
      k = close + 1;
      while (k < n && is_space(static_cast<unsigned char>(raw[k]))) ++k;
    } else {
      return -2;
    }
  }
  return -1;
}

long SgmlParser::parse_declaration(size_t i) {
  long r = scan_declaration(i);
  return r == -2 ? -1 : r;
}

// ---------------------------------------------------------------------------
// HtmlProcessor

Attrs HtmlProcessor::normalize_attrs(const Attrs& attrs) {
  Attrs out;
  for (const auto& [k, v] : attrs) {
    std::string key = feedtext::lower(k);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == key; });
    if (it != out.end()) {
      it->second = v;
    } else {
      out.emplace_back(std::move(key), v);
    }
  }
  for (auto& [k, v] : out) {
    if (k == "rel" || k == "type") v = feedtext::lower(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void HtmlProcessor::emit_starttag(const std::string& tag, const Attrs& attrs) {
  out_ += '<';
  out_ += tag;
  for (const auto& [key, value] : attrs) {
    out_ += ' ';
    out_ += key;
    out_ += "=\"";
    // Escape <, >, " and any '&' that does not start a reference.
    for (size_t i = 0; i < value.size(); ++i) {
      char c = value[i];
      if (c == '>') {
        out_ += "&gt;";
      } else if (c == '<') {
        out_ += "&lt;";
      } else if (c == '"') {
        out_ += "&quot;";
      } else if (c == '&') {
        size_t k = i + 1;
        bool is_ref = false;
        if (k < value.size() && value[k] == '#') {
          size_t d = k + 1;
          bool hex = d < value.size() && value[d] == 'x';
          size_t start = hex ? d + 1 : d;
          size_t e = start;
          while (e < value.size() &&
                 (hex ? feedtext::is_hex_digit(static_cast<unsigned char>(value[e]))
                      : is_ascii_digit(static_cast<unsigned char>(value[e])))) {
            ++e;
          }
          is_ref = e > start && e < value.size() && value[e] == ';';
        } else {
          size_t e = k;
          while (e < value.size() && is_word_byte(static_cast<unsigned char>(value[e]))) ++e;
          is_ref = e > k && e < value.size() && value[e] == ';';
        }
        out_ += is_ref ? "&" : "&amp;";
      } else {
        out_ += c;
      }
    }
    out_ += '"';
  }
  out_ += elements_no_end_tag().count(tag) != 0 ? " />" : ">";
}

void HtmlProcessor::emit_endtag(const std::string& tag) {
  if (elements_no_end_tag().count(tag) == 0) out_ += "</" + tag + ">";
}

void HtmlProcessor::unknown_starttag(const std::string& tag, Attrs& attrs) {
  emit_starttag(tag, attrs);
}

void HtmlProcessor::unknown_endtag(const std::string& tag) {
  emit_endtag(tag);
}

void HtmlProcessor::handle_charref(const std::string& ref) {
  std::string lowered = feedtext::lower(ref);
  uint32_t value = 0;
  if (!lowered.empty() && lowered[0] == 'x') {
    value = static_cast<uint32_t>(
        std::min<unsigned long>(std::strtoul(lowered.c_str() + 1, nullptr, 16), 0x110000));
  } else {
    value = static_cast<uint32_t>(
        std::min<unsigned long>(std::strtoul(lowered.c_str(), nullptr, 10), 0x110000));
  }
  if (uint32_t mapped = cp1252_code_point(value)) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "&#x%x;", mapped);
    out_ += buf;
  } else {
    out_ += "&#" + lowered + ";";
  }
}

void HtmlProcessor::handle_entityref(const std::string& ref) {
  if (html_entity(ref) || ref == "apos") {
    out_ += "&" + ref + ";";
  } else {
    out_ += "&amp;" + ref;
  }
}

void HtmlProcessor::handle_comment(std::string_view text) {
  out_ += "<!--";
  out_ += text;
  out_ += "-->";
}

void HtmlProcessor::handle_pi(std::string_view text) {
  out_ += "<?";
  out_ += text;
  out_ += ">";
}

void HtmlProcessor::handle_decl(std::string_view text) {
  out_ += "<!";
  out_ += text;
  out_ += ">";
}

long HtmlProcessor::parse_declaration(size_t i) {
  long r = scan_declaration(i);
  if (r == -2) {
    // Malformed (not merely cut off by the end of the text): escape the '<'.
    handle_data("&lt;");
    return static_cast<long>(i + 1);
  }
  return r;
}

// ---------------------------------------------------------------------------
// Relative URI resolution

namespace {

bool is_relative_uri_attr(std::string_view tag, std::string_view attr) {
  static const std::pair<std::string_view, std::string_view> kPairs[] = {
      {"a", "href"},          {"applet", "codebase"}, {"area", "href"},       {"audio", "src"},
      {"blockquote", "cite"}, {"body", "background"}, {"del", "cite"},        {"form", "action"},
      {"frame", "longdesc"},  {"frame", "src"},       {"iframe", "longdesc"}, {"iframe", "src"},
      {"head", "profile"},    {"img", "longdesc"},    {"img", "src"},         {"img", "usemap"},
      {"input", "src"},       {"input", "usemap"},    {"ins", "cite"},        {"link", "href"},
      {"object", "classid"},  {"object", "codebase"}, {"object", "data"},     {"object", "usemap"},
      {"q", "cite"},          {"script", "src"},      {"source", "src"},      {"video", "poster"},
      {"video", "src"}};
  for (const auto& [t, a] : kPairs) {
    if (t == tag && a == attr) return true;
  }
  return false;
}

class RelativeUriResolver : public HtmlProcessor {
 public:
  RelativeUriResolver(std::string_view base, std::string_view type)
      : HtmlProcessor(type), base_(base) {}

 protected:
  void unknown_starttag(const std::string& tag, Attrs& attrs) override {
    Attrs normalized = normalize_attrs(attrs);
    for (auto& [key, value] : normalized) {
      if (!is_relative_uri_attr(tag, key)) continue;
      std::string resolved = make_safe_absolute_uri(base_, feedtext::strip(value));
      if (!resolved.empty()) value = std::move(resolved);
    }
    emit_starttag(tag, normalized);
  }

 private:
  std::string base_;
};

// ---------------------------------------------------------------------------
// Sanitizer

// "url(...)" values are removed from style attributes before they are checked.
std::string strip_css_urls(std::string_view style) {
  std::string out;
  size_t i = 0;
  while (i < style.size()) {
    if (style.compare(i, 3, "url") == 0) {
      size_t k = i + 3;
      while (k < style.size() && is_space(static_cast<unsigned char>(style[k]))) ++k;
      if (k < style.size() && style[k] == '(') {
        ++k;
        while (k < style.size() && is_space(static_cast<unsigned char>(style[k]))) ++k;
        size_t start = k;
        while (k < style.size() && style[k] != ')' &&
               !is_space(static_cast<unsigned char>(style[k])))
          ++k;
        if (k > start) {
          while (k < style.size() && is_space(static_cast<unsigned char>(style[k]))) ++k;
          if (k < style.size() && style[k] == ')') {
            ++k;
            while (k < style.size() && is_space(static_cast<unsigned char>(style[k]))) ++k;
            out.push_back(' ');
            i = k;
            continue;
          }
        }
      }
    }
    out.push_back(style[i]);
    ++i;
  }
  return out;
}

// The sanitizer's "gauntlet": the style must be a sequence of simple tokens
// (plain characters, word-word, quoted words, parenthesised numbers).
bool passes_css_gauntlet(std::string_view s) {
  auto plain = [](unsigned char c) {
    return is_ascii_alnum(c) || is_space(c) ||
           std::string_view(":,;#%.!").find(static_cast<char>(c)) != std::string_view::npos;
  };
  std::vector<char> reach(s.size() + 1, 0);
  reach[0] = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!reach[i]) continue;
    auto c = static_cast<unsigned char>(s[i]);
    if (plain(c)) reach[i + 1] = 1;
    if (i + 2 < s.size() && is_word_byte(c) && s[i + 1] == '-' &&
        is_word_byte(static_cast<unsigned char>(s[i + 2]))) {
      reach[i + 3] = 1;
    }
    if (c == '\'' || c == '"') {
      size_t k = i + 1;
      while (k < s.size() && (is_space(static_cast<unsigned char>(s[k])) ||
                              is_word_byte(static_cast<unsigned char>(s[k]))))
        ++k;
      if (k > i + 1 && k < s.size() && s[k] == static_cast<char>(c)) reach[k + 1] = 1;
    }
    if (c == '(') {
      size_t k = i + 1;
      while (k < s.size() && (is_ascii_digit(static_cast<unsigned char>(s[k])) || s[k] == ',' ||
                              is_space(static_cast<unsigned char>(s[k])))) {
        ++k;
      }
      if (k > i + 1 && k < s.size() && s[k] == ')') reach[k + 1] = 1;
    }
  }
  return reach[s.size()] != 0;
}

bool is_prop_char(unsigned char c) {
  return c == '-' || is_word_byte(c);
}

// Matches "\s*[-\w]+\s*:\s*[^:;]*;?" at `i`; returns its end or npos.
size_t match_declaration(std::string_view s, size_t i) {
  size_t k = i;
  while (k < s.size() && is_space(static_cast<unsigned char>(s[k]))) ++k;
  size_t name = k;
  while (k < s.size() && is_prop_char(static_cast<unsigned char>(s[k]))) ++k;
  if (k == name) return std::string_view::npos;
  while (k < s.size() && is_space(static_cast<unsigned char>(s[k]))) ++k;
  if (k >= s.size() || s[k] != ':') return std::string_view::npos;
  ++k;
  while (k < s.size() && s[k] != ':' && s[k] != ';') ++k;
  if (k < s.size() && s[k] == ';') ++k;
  return k;
}

// "#hex", "rgb(1,2,3)" (parts optional) or a number of up to 2+2 digits
// with an optional unit, as the sanitizer's valid_css_values pattern allows.
bool valid_css_value(std::string_view k) {
  size_t i = 0;
  auto digits = [&](size_t max) {
    size_t start = i;
    while (i < k.size() && i - start < max && is_ascii_digit(static_cast<unsigned char>(k[i]))) ++i;
    return i - start;
  };
  auto take = [&](char c) {
    if (i < k.size() && k[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  if (!k.empty() && k[0] == '#') {
    if (k.size() == 1) return false;
    return std::all_of(k.begin() + 1, k.end(), [](char c) {
      return is_ascii_digit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
    });
  }
  if (feedtext::starts_with(k, "rgb(")) {
    i = 4;
    if (digits(std::string_view::npos) == 0) return false;
    take('%');
    if (!take(',')) return false;
    digits(std::string_view::npos);
    take('%');
    take(',');
    digits(std::string_view::npos);
    take('%');
    take(')');
    return i == k.size();
  }
  i = 0;
  digits(2);
  take('.');
  digits(2);
  std::string_view rest = k.substr(i);
  static constexpr std::string_view kUnits[] = {"cm", "em", "ex", "in", "mm", "pc",
                                                "pt", "px", "%",  ",",  ")"};
  if (rest.empty()) return true;
  return std::find(std::begin(kUnits), std::end(kUnits), rest) != std::end(kUnits);
}

class HtmlSanitizer : public HtmlProcessor {
 public:
  explicit HtmlSanitizer(std::string_view type) : HtmlProcessor(type) {}

 protected:
  void unknown_starttag(const std::string& input_tag, Attrs& attrs) override {
    std::string tag = input_tag;
    enum class Vocabulary { kHtml, kMathml, kSvg } vocab = Vocabulary::kHtml;
    auto has_attr = [&](std::string_view k, std::string_view v) {
      return std::any_of(attrs.begin(), attrs.end(),
                         [&](const auto& p) { return p.first == k && p.second == v; });
    };
    if (!has(acceptable_elements(), tag) || svg_ok_ > 0) {
      if (has(unacceptable_elements_with_end_tag(), tag)) ++unacceptable_stack_;
      // HTML5 inline SVG and MathML carry an implicit namespace.
      if (feedtext::ends_with(type_, "html")) {
        std::string xmlns;
        for (const auto& [k, v] : attrs) {
          if (k == "xmlns") xmlns = v;
        }
        if (xmlns.empty()) {
          if (tag == "svg") attrs.emplace_back("xmlns", kSvgNs);
          if (tag == "math") attrs.emplace_back("xmlns", kMathmlNs);
        }
      }
      if (tag == "math" && has_attr("xmlns", kMathmlNs)) ++mathml_ok_;
      if (tag == "svg" && has_attr("xmlns", kSvgNs)) ++svg_ok_;
      if (mathml_ok_ > 0 && has(mathml_elements(), tag)) {
        vocab = Vocabulary::kMathml;
      } else if (svg_ok_ > 0 && svg_element(tag) != nullptr) {
        vocab = Vocabulary::kSvg;
        tag = *svg_element(tag);
      } else if (!has(acceptable_elements(), tag)) {
        return;
      }
    }
    if (mathml_ok_ > 0 || svg_ok_ > 0) {
      bool uses_xlink = std::any_of(attrs.begin(), attrs.end(), [](const auto& p) {
        return feedtext::starts_with(p.first, "xlink:");
      });
      if (uses_xlink && !has_attr("xmlns:xlink", kXlinkNs))
        attrs.emplace_back("xmlns:xlink", kXlinkNs);
    }
    auto acceptable = [&](std::string_view key) {
      switch (vocab) {
        case Vocabulary::kMathml:
          return has(mathml_attributes(), key);
        case Vocabulary::kSvg:
          return svg_attribute(key) != nullptr;
        default:
          return has(acceptable_attributes(), key);
      }
    };
    Attrs clean;
    for (auto& [key, value] : normalize_attrs(attrs)) {
      if (key == "style" && acceptable("style")) {
        std::string cleaned = sanitize_style(value);
        if (!cleaned.empty()) clean.emplace_back(key, std::move(cleaned));
      } else if (acceptable(key)) {
        std::string name = vocab == Vocabulary::kSvg ? *svg_attribute(key) : key;
        std::string v = name == "href" ? make_safe_absolute_uri(value) : value;
        clean.emplace_back(std::move(name), std::move(v));
      }
    }
    emit_starttag(tag, clean);
  }

  void unknown_endtag(const std::string& input_tag) override {
    std::string tag = input_tag;
    if (!has(acceptable_elements(), tag)) {
      if (has(unacceptable_elements_with_end_tag(), tag)) --unacceptable_stack_;
      if (mathml_ok_ > 0 && has(mathml_elements(), tag)) {
        if (tag == "math") --mathml_ok_;
      } else if (svg_ok_ > 0 && svg_element(tag) != nullptr) {
        tag = *svg_element(tag);
        if (tag == "svg") --svg_ok_;
      } else {
        return;
      }
    }
    emit_endtag(tag);
  }

  void handle_data(std::string_view text) override {
    if (unacceptable_stack_ == 0) out_ += text;
  }
  void handle_pi(std::string_view) override {}
  void handle_decl(std::string_view) override {}

  long parse_comment(size_t i) override {
    long r = SgmlParser::parse_comment(i);
    if (r >= 0) return r;
    // An unclosed comment may be an attempt to hide markup: end it at the
    // next "--...>", else swallow the rest of the text.
    const std::string& raw = rawdata();
    size_t dashes = raw.find("--", i + 4);
    if (dashes != std::string::npos) {
      size_t gt = raw.find('>', dashes + 2);
      if (gt != std::string::npos) return static_cast<long>(gt + 1);
    }
    return static_cast<long>(raw.size());
  }

 private:
  std::string sanitize_style(const std::string& input) const {
    std::string style = strip_css_urls(input);
    // Bound the work on hostile input; real style attributes are short.
    if (style.size() > 4096 || !passes_css_gauntlet(style)) return {};
    {
      std::string leftover;
      size_t i = 0;
      while (i < style.size()) {
        size_t end = match_declaration(style, i);
        if (end != std::string_view::npos) {
          i = end;
        } else {
          leftover.push_back(style[i]);
          ++i;
        }
      }
      if (!feedtext::is_blank(leftover)) return {};
    }
    std::vector<std::string> clean;
    size_t i = 0;
    while (i < style.size()) {
      size_t k = i;
      while (k < style.size() && is_prop_char(static_cast<unsigned char>(style[k]))) ++k;
      if (k == i) {
        ++i;
        continue;
      }
      size_t p = k;
      while (p < style.size() && is_space(static_cast<unsigned char>(style[p]))) ++p;
      if (p >= style.size() || style[p] != ':') {
        ++i;
        continue;
      }
      std::string prop = style.substr(i, k - i);
      ++p;
      while (p < style.size() && is_space(static_cast<unsigned char>(style[p]))) ++p;
      size_t vstart = p;
      while (p < style.size() && style[p] != ':' && style[p] != ';') ++p;
      std::string value = style.substr(vstart, p - vstart);
      i = p;
      if (value.empty()) continue;
      std::string lprop = feedtext::lower(prop);
      std::string first = lprop.substr(0, lprop.find('-'));
      if (has(acceptable_css_properties(), lprop)) {
        clean.push_back(prop + ": " + value + ";");
      } else if (first == "background" || first == "border" || first == "margin" ||
                 first == "padding") {
        bool ok = true;
        for (auto keyword : feedtext::split_ws(value)) {
          if (!has(acceptable_css_keywords(), keyword) && !valid_css_value(keyword)) {
            ok = false;
            break;
          }
        }
        if (ok) clean.push_back(prop + ": " + value + ";");
      } else if (svg_ok_ > 0 && has(acceptable_svg_properties(), lprop)) {
        clean.push_back(prop + ": " + value + ";");
      }
    }
    std::string out;
    for (size_t c = 0; c < clean.size(); ++c) {
      if (c > 0) out.push_back(' ');
      out += clean[c];
    }
    return out;
  }

  int unacceptable_stack_ = 0;
  int mathml_ok_ = 0;
  int svg_ok_ = 0;
};

}  // namespace

std::string resolve_relative_uris(std::string_view html, std::string_view base,
                                  std::string_view content_type) {
  RelativeUriResolver p(base, content_type);
  p.feed(html);
  return p.output();
}

std::string sanitize_html(std::string_view html, std::string_view content_type) {
  HtmlSanitizer p(content_type);
  p.feed(feedtext::replace_all(std::string(html), "<![CDATA[", "&lt;![CDATA["));
  std::string out(feedtext::strip(p.output()));
  return feedtext::replace_all(std::move(out), "\r\n", "\n");
}

bool looks_like_html(std::string_view s) {
  // It must have an end tag "</word>" or a reference "&#?word;".
  bool qualifies = false;
  for (size_t i = 0; i < s.size() && !qualifies; ++i) {
    if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '/') {
      size_t k = i + 2;
      while (k < s.size() && is_word_byte(static_cast<unsigned char>(s[k]))) ++k;
      if (k > i + 2 && k < s.size() && s[k] == '>') qualifies = true;
    } else if (s[i] == '&') {
      size_t k = i + 1;
      if (k < s.size() && s[k] == '#') ++k;
      size_t start = k;
      while (k < s.size() && is_word_byte(static_cast<unsigned char>(s[k]))) ++k;
      if (k > start && k < s.size() && s[k] == ';') qualifies = true;
    }
  }
  if (!qualifies) return false;
  // Every tag must be a safe HTML element and every entity a known one.
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') {
      size_t k = i + 1;
      if (k < s.size() && s[k] == '/') ++k;
      size_t start = k;
      while (k < s.size() && is_word_byte(static_cast<unsigned char>(s[k]))) ++k;
      if (k > start && !has(acceptable_elements(), feedtext::lower(s.substr(start, k - start))))
        return false;
    } else if (s[i] == '&') {
      size_t k = i + 1;
      while (k < s.size() && is_word_byte(static_cast<unsigned char>(s[k]))) ++k;
      if (k > i + 1 && k < s.size() && s[k] == ';' && !html_entity(s.substr(i + 1, k - i - 1)))
        return false;
    }
  }
  return true;
}

}  // namespace sentinel::intel::feedhtml
