#include "intel/page_text.h"

#include <gumbo.h>
#include <uchardet/uchardet.h>

#include <algorithm>
#include <array>
#include <memory>
#include <unordered_map>
#include <vector>

#include "intel/feed_text.h"

namespace sentinel::intel {

namespace {

// ---- Decoding ----------------------------------------------------------------

std::string normalise_encoding(std::string e) {
  e = feedtext::lower(feedtext::strip(e));
  // WHATWG: these labels mean windows-1252, a superset browsers decode with.
  if (e == "iso-8859-1" || e == "latin1" || e == "l1" || e == "us-ascii" || e == "ascii" ||
      e == "iso8859-1" || e == "cp1252" || e == "x-cp1252") {
    return "windows-1252";
  }
  if (e == "utf8") return "utf-8";
  return e;
}

std::string charset_param(std::string_view content_type) {
  std::string lower = feedtext::lower(content_type);
  size_t at = lower.find("charset=");
  if (at == std::string::npos) return "";
  size_t begin = at + 8;
  while (begin < lower.size() && (lower[begin] == '"' || lower[begin] == '\'' || lower[begin] == ' ')) ++begin;
  size_t end = begin;
  while (end < lower.size() && lower[end] != '"' && lower[end] != '\'' && lower[end] != ';' &&
         lower[end] != ' ' && lower[end] != '>' && lower[end] != '/') {
    ++end;
  }
  return lower.substr(begin, end - begin);
}

// <meta charset="x"> or <meta http-equiv="Content-Type" content="...;
// charset=x"> in the first 4 KiB: a simplified form of the WHATWG prescan
// (gumbo takes UTF-8 only and does no encoding sniffing itself).
std::string meta_charset(std::string_view html) {
  std::string head = feedtext::lower(html.substr(0, std::min<size_t>(html.size(), 4096)));
  size_t pos = 0;
  while ((pos = head.find("<meta", pos)) != std::string::npos) {
    size_t end = head.find('>', pos);
    if (end == std::string::npos) break;
    std::string_view tag(head.data() + pos, end - pos + 1);
    if (std::string cs = charset_param(tag); !cs.empty()) return cs;
    pos = end;
  }
  return "";
}

std::string page_charset(std::string_view data) {
  std::string out;
  uchardet_t ud = uchardet_new();
  if (uchardet_handle_data(ud, data.data(), data.size()) == 0) {
    uchardet_data_end(ud);
    if (const char* cs = uchardet_get_charset(ud); cs != nullptr) out = cs;
  }
  uchardet_delete(ud);
  return out;
}

// ---- DOM helpers -------------------------------------------------------------

struct OutputDeleter {
  void operator()(GumboOutput* o) const { gumbo_destroy_output(&kGumboDefaultOptions, o); }
};

bool is_element(const GumboNode* n) { return n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE; }

std::string_view attr(const GumboNode* n, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&n->v.element.attributes, name);
  return a != nullptr ? std::string_view(a->value) : std::string_view();
}

bool excluded_tag(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_NAV: case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: case GUMBO_TAG_ASIDE: case GUMBO_TAG_FORM: case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_IFRAME: case GUMBO_TAG_SVG: case GUMBO_TAG_MATH: case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_BUTTON: case GUMBO_TAG_SELECT: case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_EMBED: case GUMBO_TAG_CANVAS: case GUMBO_TAG_FIGURE: case GUMBO_TAG_MENU:
    case GUMBO_TAG_HEAD:
      return true;
    default:
      return false;
  }
}

// Class/id words of page furniture (readability's "unlikely candidates"),
// and words that rescue an element carrying one of them.
constexpr std::array<std::string_view, 28> kUnlikely = {
    "comment", "disqus", "sidebar", "footer", "menu", "nav", "breadcrumb", "related", "share",
    "social", "sponsor", "promo", "advert", "banner", "cookie", "newsletter", "subscribe", "popup",
    "pagination", "pager", "masthead", "skyscraper", "shoutbox", "replies", "remark", "community",
    "gdpr", "most-read"};
constexpr std::array<std::string_view, 7> kMaybe = {"article", "body", "column", "content", "main", "story",
                                                     "entry"};
constexpr std::array<std::string_view, 10> kPositive = {"article", "body", "content", "entry", "main",
                                                        "page", "post", "text", "story", "blog"};
constexpr std::array<std::string_view, 12> kNegative = {"comment", "meta", "footer", "footnote", "sidebar",
                                                        "sponsor", "share", "social", "widget", "related",
                                                        "promo", "hidden"};

template <size_t N>
bool has_any(std::string_view s, const std::array<std::string_view, N>& words) {
  for (auto w : words) {
    if (s.find(w) != std::string_view::npos) return true;
  }
  return false;
}

std::string class_and_id(const GumboNode* n) {
  return feedtext::lower(std::string(attr(n, "class")) + " " + std::string(attr(n, "id")));
}

bool hidden(const GumboNode* n) {
  if (gumbo_get_attribute(&n->v.element.attributes, "hidden") != nullptr) return true;
  if (attr(n, "aria-hidden") == "true") return true;
  std::string style = feedtext::lower(attr(n, "style"));
  style = feedtext::replace_all(std::move(style), " ", "");
  return style.find("display:none") != std::string::npos || style.find("visibility:hidden") != std::string::npos;
}

// Elements whose subtree is never article text.
bool excluded(const GumboNode* n) {
  GumboTag t = n->v.element.tag;
  if (excluded_tag(t) || hidden(n)) return true;
  if (t == GUMBO_TAG_BODY || t == GUMBO_TAG_HTML || t == GUMBO_TAG_ARTICLE || t == GUMBO_TAG_MAIN) return false;
  std::string ci = class_and_id(n);
  return has_any(ci, kUnlikely) && !has_any(ci, kMaybe);
}

void append_collapsed(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xA0) {
      space = true;  // U+00A0 no-break space
      ++i;
    }
    if (space) {
      if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
    } else {
      out += static_cast<char>(c);
    }
  }
}

std::string trimmed(std::string s) {
  std::string_view v = feedtext::strip(s);
  return std::string(v);
}

// Visible text of `root` (excluded subtrees left out), white space
// collapsed; `link_chars` gets the characters inside <a>. Iterative: a
// malformed page can nest thousands of elements.
std::string node_text(const GumboNode* root, size_t* link_chars) {
  std::string out;
  size_t links = 0;
  struct Item {
    const GumboNode* node;
    bool in_link;
  };
  std::vector<Item> stack{{root, false}};
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    const GumboNode* n = it.node;
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
      size_t before = feedtext::char_count(out);
      append_collapsed(out, n->v.text.text);
      if (it.in_link) links += feedtext::char_count(out) - before;
      continue;
    }
    if (!is_element(n)) continue;
    if (n != root && excluded(n)) continue;
    if (n->v.element.tag == GUMBO_TAG_BR) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    bool in_link = it.in_link || n->v.element.tag == GUMBO_TAG_A;
    const GumboVector& kids = n->v.element.children;
    for (size_t i = kids.length; i > 0; --i) {
      stack.push_back({static_cast<const GumboNode*>(kids.data[i - 1]), in_link});
    }
  }
  if (link_chars != nullptr) *link_chars = links;
  return trimmed(std::move(out));
}

struct Paragraph {
  const GumboNode* node;
  std::string text;
  size_t chars = 0;
  size_t link_chars = 0;
};

// Every <p> not inside an excluded subtree, in document order.
std::vector<Paragraph> collect_paragraphs(const GumboNode* root) {
  std::vector<Paragraph> out;
  std::vector<const GumboNode*> stack{root};
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (!is_element(n) || excluded(n)) continue;
    if (n->v.element.tag == GUMBO_TAG_P || n->v.element.tag == GUMBO_TAG_PRE) {
      Paragraph p{n, {}, 0, 0};
      p.text = node_text(n, &p.link_chars);
      p.chars = feedtext::char_count(p.text);
      if (p.chars > 0) out.push_back(std::move(p));
      continue;
    }
    const GumboVector& kids = n->v.element.children;
    for (size_t i = kids.length; i > 0; --i) stack.push_back(static_cast<const GumboNode*>(kids.data[i - 1]));
  }
  return out;
}

double tag_weight(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_ARTICLE: return 10;
    case GUMBO_TAG_MAIN: case GUMBO_TAG_DIV: case GUMBO_TAG_SECTION: return 5;
    case GUMBO_TAG_PRE: case GUMBO_TAG_TD: case GUMBO_TAG_BLOCKQUOTE: return 3;
    case GUMBO_TAG_ADDRESS: case GUMBO_TAG_OL: case GUMBO_TAG_UL: case GUMBO_TAG_DL: case GUMBO_TAG_DD:
    case GUMBO_TAG_DT: case GUMBO_TAG_LI: return -3;
    case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
    case GUMBO_TAG_H6: case GUMBO_TAG_TH: return -5;
    default: return 0;
  }
}

double class_weight(const GumboNode* n) {
  std::string ci = class_and_id(n);
  double w = 0;
  if (has_any(ci, kPositive)) w += 25;
  if (has_any(ci, kNegative)) w -= 25;
  return w;
}

bool is_descendant(const GumboNode* n, const GumboNode* ancestor) {
  for (const GumboNode* p = n; p != nullptr; p = p->parent) {
    if (p == ancestor) return true;
  }
  return false;
}

const GumboNode* find_first(const GumboNode* root, GumboTag tag) {
  std::vector<const GumboNode*> stack{root};
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (!is_element(n)) continue;
    if (n->v.element.tag == tag) return n;
    const GumboVector& kids = n->v.element.children;
    for (size_t i = kids.length; i > 0; --i) stack.push_back(static_cast<const GumboNode*>(kids.data[i - 1]));
  }
  return nullptr;
}

std::string page_title(const GumboNode* root) {
  std::vector<const GumboNode*> stack{root};
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (!is_element(n)) continue;
    if (n->v.element.tag == GUMBO_TAG_META && attr(n, "property") == "og:title") {
      std::string t;
      append_collapsed(t, attr(n, "content"));
      if (t = trimmed(std::move(t)); !t.empty()) return t;
    }
    const GumboVector& kids = n->v.element.children;
    for (size_t i = kids.length; i > 0; --i) stack.push_back(static_cast<const GumboNode*>(kids.data[i - 1]));
  }
  if (const GumboNode* t = find_first(root, GUMBO_TAG_TITLE)) {
    // <title> content is raw text: its one child is a text node.
    std::string out;
    const GumboVector& kids = t->v.element.children;
    for (size_t i = 0; i < kids.length; ++i) {
      auto* c = static_cast<const GumboNode*>(kids.data[i]);
      if (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_WHITESPACE) append_collapsed(out, c->v.text.text);
    }
    if (out = trimmed(std::move(out)); !out.empty()) return out;
  }
  if (const GumboNode* h1 = find_first(root, GUMBO_TAG_H1)) return node_text(h1, nullptr);
  return "";
}

// Visible text of the body with block elements on their own lines.
std::string body_text(const GumboNode* body) {
  std::vector<std::string> blocks;
  std::string current;
  struct Item {
    const GumboNode* node;
    bool close;
  };
  auto flush = [&] {
    std::string t = trimmed(std::move(current));
    current.clear();
    if (!t.empty()) blocks.push_back(std::move(t));
  };
  auto block = [](GumboTag t) {
    switch (t) {
      case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_BR: case GUMBO_TAG_LI: case GUMBO_TAG_TD:
      case GUMBO_TAG_TR: case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_H1:
      case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
      case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_PRE: case GUMBO_TAG_MAIN: case GUMBO_TAG_UL: case GUMBO_TAG_OL:
        return true;
      default:
        return false;
    }
  };
  std::vector<Item> stack{{body, false}};
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    const GumboNode* n = it.node;
    if (it.close) {
      flush();
      continue;
    }
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
      append_collapsed(current, n->v.text.text);
      continue;
    }
    if (!is_element(n) || (n != body && excluded(n))) continue;
    bool is_block = block(n->v.element.tag);
    if (is_block) {
      flush();
      stack.push_back({n, true});
    }
    const GumboVector& kids = n->v.element.children;
    for (size_t i = kids.length; i > 0; --i) stack.push_back({static_cast<const GumboNode*>(kids.data[i - 1]), false});
  }
  flush();
  std::string out;
  for (const auto& b : blocks) {
    if (!out.empty()) out += "\n\n";
    out += b;
  }
  return out;
}

}  // namespace

std::string html_to_utf8(std::string_view html, const FeedHeaders& headers, std::string* encoding) {
  using namespace std::string_view_literals;
  std::string bom;
  if (feedtext::starts_with(html, "\xEF\xBB\xBF"sv)) {
    bom = "utf-8";
    html.remove_prefix(3);
  } else if (feedtext::starts_with(html, "\xFF\xFE"sv)) {
    bom = "utf-16le";
    html.remove_prefix(2);
  } else if (feedtext::starts_with(html, "\xFE\xFF"sv)) {
    bom = "utf-16be";
    html.remove_prefix(2);
  }
  std::string http;
  if (const std::string* ct = find_header(headers, "content-type")) http = charset_param(*ct);
  std::string meta = normalise_encoding(meta_charset(html));
  // A page read as ASCII cannot really be UTF-16 (WHATWG: treat as UTF-8).
  if (feedtext::starts_with(meta, "utf-16")) meta = "utf-8";
  std::vector<std::string> candidates = {bom, normalise_encoding(http), meta, "utf-8"};
  std::vector<std::string> tried;
  for (size_t i = 0; i <= candidates.size() + 1; ++i) {
    std::string proposed;
    if (i < candidates.size()) {
      proposed = candidates[i];
    } else if (i == candidates.size()) {
      proposed = normalise_encoding(page_charset(html));
    } else {
      proposed = "windows-1252";
    }
    if (proposed.empty() || std::find(tried.begin(), tried.end(), proposed) != tried.end()) continue;
    tried.push_back(proposed);
    std::string out;
    if (proposed == "utf-8") {
      if (!feedtext::valid_utf8(html)) continue;
      out = std::string(html);
    } else if (!decode_to_utf8(html, proposed, out)) {
      continue;
    }
    if (encoding != nullptr) *encoding = proposed;
    return out;
  }
  if (encoding != nullptr) encoding->clear();
  return "";
}

PageText extract_main_text(std::string_view html, const FeedHeaders& headers) {
  PageText page;
  page.method = "none";
  std::string utf8 = html_to_utf8(html, headers, &page.encoding);
  if (utf8.empty()) return page;
  std::unique_ptr<GumboOutput, OutputDeleter> output(
      gumbo_parse_with_options(&kGumboDefaultOptions, utf8.data(), utf8.size()));
  if (!output) return page;
  const GumboNode* root = output->root;
  page.title = page_title(root);
  const GumboNode* body = find_first(root, GUMBO_TAG_BODY);
  if (body == nullptr) body = root;

  std::vector<Paragraph> paragraphs = collect_paragraphs(body);
  // Score the containers of substantial paragraphs.
  std::unordered_map<const GumboNode*, double> scores;
  std::vector<const GumboNode*> candidates;
  auto touch = [&](const GumboNode* n) -> double& {
    auto [it, inserted] = scores.try_emplace(n, 0.0);
    if (inserted) {
      it->second = tag_weight(n->v.element.tag) + class_weight(n);
      candidates.push_back(n);
    }
    return it->second;
  };
  for (const auto& p : paragraphs) {
    if (p.chars < 25) continue;
    const GumboNode* parent = p.node->parent;
    if (parent == nullptr || !is_element(parent)) continue;
    double score = 1.0 + static_cast<double>(std::count(p.text.begin(), p.text.end(), ',')) +
                   std::min(static_cast<double>(p.chars) / 100.0, 3.0);
    touch(parent) += score;
    const GumboNode* grand = parent->parent;
    if (grand != nullptr && is_element(grand)) touch(grand) += score / 2;
  }
  std::unordered_map<const GumboNode*, double> final_scores;
  const GumboNode* best = nullptr;
  double best_score = 0;
  for (const GumboNode* c : candidates) {
    size_t links = 0;
    std::string text = node_text(c, &links);
    size_t chars = feedtext::char_count(text);
    double density = chars > 0 ? static_cast<double>(links) / static_cast<double>(chars) : 1.0;
    double s = scores[c] * (1.0 - density);
    final_scores[c] = s;
    if (best == nullptr || s > best_score) {
      best = c;
      best_score = s;
    }
  }

  auto keep = [](const Paragraph& p) {
    return static_cast<double>(p.link_chars) < 0.5 * static_cast<double>(p.chars);
  };
  std::vector<const Paragraph*> chosen;
  if (best != nullptr && best_score > 0) {
    // The best container, and siblings that score well too (articles split
    // into several blocks).
    std::vector<const GumboNode*> roots{best};
    const double threshold = std::max(10.0, best_score * 0.2);
    if (const GumboNode* parent = best->parent; parent != nullptr && is_element(parent)) {
      const GumboVector& kids = parent->v.element.children;
      for (size_t i = 0; i < kids.length; ++i) {
        auto* k = static_cast<const GumboNode*>(kids.data[i]);
        if (k == best) continue;
        if (auto it = final_scores.find(k); it != final_scores.end() && it->second >= threshold) roots.push_back(k);
      }
    }
    for (const auto& p : paragraphs) {
      if (!keep(p)) continue;
      for (const GumboNode* r : roots) {
        if (is_descendant(p.node, r)) {
          chosen.push_back(&p);
          break;
        }
      }
    }
    page.method = "container";
  }
  if (chosen.empty()) {
    for (const auto& p : paragraphs) {
      if (keep(p)) chosen.push_back(&p);
    }
    page.method = "paragraphs";
  }
  if (chosen.empty()) {
    page.text = body_text(body);
    page.method = page.text.empty() ? "none" : "body";
    page.paragraphs = page.text.empty() ? 0 : static_cast<size_t>(std::count(page.text.begin(), page.text.end(), '\n') / 2 + 1);
    return page;
  }
  for (const Paragraph* p : chosen) {
    if (!page.text.empty()) page.text += "\n\n";
    page.text += p->text;
  }
  page.paragraphs = chosen.size();
  return page;
}

}  // namespace sentinel::intel
