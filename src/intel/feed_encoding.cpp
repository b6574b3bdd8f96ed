// The precedence rules (BOM, XML declaration, RFC 3023 Content-Type
// handling, the order of fallbacks) follow Python feedparser's
// encodings.py, whose behaviour the feed corpus's expectations encode.
#include "intel/feed_encoding.h"

#include <iconv.h>
#include <uchardet/uchardet.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <memory>

#include "intel/feed_text.h"

namespace sentinel::intel {

const std::string* find_header(const FeedHeaders& headers, std::string_view lower_name) {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return &v;
  }
  return nullptr;
}

namespace {

struct IconvCloser {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};

iconv_t open_decoder(const std::string& encoding) {
  // Python codec names use '_' where iconv's use '-' ("windows_1252", "euc_jp").
  std::string names[] = {encoding, feedtext::replace_all(encoding, "_", "-")};
  for (const auto& name : names) {
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    if (cd != reinterpret_cast<iconv_t>(-1)) return cd;
  }
  return reinterpret_cast<iconv_t>(-1);
}

}  // namespace

bool decode_to_utf8(std::string_view data, const std::string& encoding, std::string& out) {
  out.clear();
  if (encoding.empty()) return false;
  iconv_t cd = open_decoder(encoding);
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  std::unique_ptr<void, IconvCloser> guard(cd);
  std::string buffer(data.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(data.data());
  size_t in_left = data.size();
  size_t produced = 0;
  while (in_left > 0) {
    char* outp = buffer.data() + produced;
    size_t out_left = buffer.size() - produced;
    size_t r = iconv(cd, &in, &in_left, &outp, &out_left);
    produced = buffer.size() - out_left;
    if (r == static_cast<size_t>(-1)) {
      if (errno == E2BIG) {
        buffer.resize(buffer.size() * 2);
        continue;
      }
      return false;  // EILSEQ (invalid bytes) or EINVAL (truncated sequence at the end)
    }
  }
  buffer.resize(produced);
  // glibc's decoders accept a few sequences Python's reject; the result must be UTF-8.
  if (!feedtext::valid_utf8(buffer)) return false;
  out = std::move(buffer);
  return true;
}

namespace {

// The encoding named by the XML declaration on the first line, lower-cased;
// "" when there is none.
std::string declared_encoding(std::string_view text) {
  if (!feedtext::starts_with(text, "<?")) return {};
  std::string_view line = text.substr(0, text.find('\n'));
  size_t end_pi = line.rfind("?>");
  if (end_pi == std::string_view::npos) return {};
  // The last "encoding=" on the line whose quoted value is followed by "?>".
  size_t pos = line.rfind("encoding=");
  while (pos != std::string_view::npos && pos >= 2) {
    size_t v = pos + 9;
    if (v < line.size() && (line[v] == '"' || line[v] == '\'')) {
      size_t q = line.find_first_of("\"'", v + 1);
      if (q != std::string_view::npos && end_pi >= q + 1)
        return feedtext::lower(line.substr(v + 1, q - v - 1));
    }
    pos = line.rfind("encoding=", pos - 1);
  }
  return {};
}

// The media type (lower-cased) and charset parameter of a Content-Type.
void parse_content_type(std::string_view header, std::string& media_type, std::string& charset) {
  auto parts = feedtext::split(header, ";");
  media_type = feedtext::lower(feedtext::strip(parts[0]));
  charset.clear();
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = feedtext::strip(parts[i]);
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    if (feedtext::lower(feedtext::strip(p.substr(0, eq))) != "charset") continue;
    std::string value(feedtext::strip(p.substr(eq + 1)));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    charset = feedtext::replace_all(value, "'", "");
  }
}

bool is_utf16_or_32_alias(const std::string& e) {
  static constexpr std::string_view kNames[] = {
      "u16",    "utf-16",          "utf16",           "utf_16", "u32",       "utf-32", "utf32",
      "utf_32", "iso-10646-ucs-2", "iso-10646-ucs-4", "csucs4", "csunicode", "ucs-2",  "ucs-4"};
  for (auto n : kNames) {
    if (n == e) return true;
  }
  return false;
}

// Statistical detection for documents whose declared encoding is wrong or
// missing. Names are reported as Python's chardet spells them; uchardet's
// supersets (UHC, GB18030) are narrowed to the base charset when it decodes.
std::string detect_charset(std::string_view data) {
  uchardet_t ud = uchardet_new();
  if (ud == nullptr) return {};
  std::string name;
  if (uchardet_handle_data(ud, data.data(), data.size()) == 0) {
    uchardet_data_end(ud);
    const char* cs = uchardet_get_charset(ud);
    if (cs != nullptr) name = cs;
  }
  uchardet_delete(ud);
  if (name.empty()) return {};
  std::string scratch;
  if (name == "ASCII") return "ascii";
  if (name == "UTF-8") return "utf-8";
  if (name == "BIG5") return "Big5";
  if (name == "UHC") return decode_to_utf8(data, "EUC-KR", scratch) ? "EUC-KR" : "CP949";
  if (name == "GB18030") return decode_to_utf8(data, "GB2312", scratch) ? "GB2312" : "GB18030";
  if (name == "WINDOWS-1252") return "Windows-1252";
  if (feedtext::starts_with(name, "WINDOWS-")) return "windows-" + name.substr(8);
  return name;
}

}  // namespace

DecodedFeed convert_to_utf8(std::string_view data, const FeedHeaders& headers) {
  DecodedFeed result;
  std::string bom_encoding;
  auto starts = [&](std::string_view prefix) { return feedtext::starts_with(data, prefix); };
  using namespace std::string_view_literals;
  if (starts("\x00\x00\xFE\xFF"sv)) {
    bom_encoding = "utf-32be";
    data.remove_prefix(4);
  } else if (starts("\xFF\xFE\x00\x00"sv)) {
    bom_encoding = "utf-32le";
    data.remove_prefix(4);
  } else if (starts("\xFE\xFF"sv) && data.substr(2, 2) != "\x00\x00"sv) {
    bom_encoding = "utf-16be";
    data.remove_prefix(2);
  } else if (starts("\xFF\xFE"sv) && data.substr(2, 2) != "\x00\x00"sv) {
    bom_encoding = "utf-16le";
    data.remove_prefix(2);
  } else if (starts("\xEF\xBB\xBF"sv)) {
    bom_encoding = "utf-8";
    data.remove_prefix(3);
  } else if (starts("\x4C\x6F\xA7\x94"sv)) {
    bom_encoding = "cp037";  // "<?xm" in EBCDIC
  } else if (starts("\x00\x3C\x00\x3F"sv)) {
    bom_encoding = "utf-16be";
  } else if (starts("\x3C\x00\x3F\x00"sv)) {
    bom_encoding = "utf-16le";
  } else if (starts("\x00\x00\x00\x3C"sv)) {
    bom_encoding = "utf-32be";
  } else if (starts("\x3C\x00\x00\x00"sv)) {
    bom_encoding = "utf-32le";
  }

  // Find the declared encoding, decoding the start of the document first
  // when it is not ASCII-compatible.
  std::string xml_encoding;
  {
    std::string temp;
    bool ok = true;
    if (!bom_encoding.empty()) {
      ok = decode_to_utf8(data, bom_encoding, temp);
    } else {
      temp = std::string(data.substr(0, std::min<size_t>(data.size(), 4096)));
    }
    if (ok) xml_encoding = declared_encoding(temp);
    if (!bom_encoding.empty() && is_utf16_or_32_alias(xml_encoding)) xml_encoding = bom_encoding;
  }

  const std::string* content_type_header = find_header(headers, "content-type");
  std::string media_type, http_encoding;
  if (content_type_header != nullptr)
    parse_content_type(*content_type_header, media_type, http_encoding);

  bool acceptable_content_type = false;
  std::string rfc3023_encoding;
  auto default_to = [](const std::string& a, const std::string& b, const char* c) {
    return !a.empty() ? a : (!b.empty() ? b : std::string(c));
  };
  if (media_type == "application/xml" || media_type == "application/xml-dtd" ||
      media_type == "application/xml-external-parsed-entity" ||
      (feedtext::starts_with(media_type, "application/") &&
       feedtext::ends_with(media_type, "+xml"))) {
    acceptable_content_type = true;
    rfc3023_encoding = default_to(http_encoding, xml_encoding, "utf-8");
  } else if (media_type == "text/xml" || media_type == "text/xml-external-parsed-entity" ||
             (feedtext::starts_with(media_type, "text/") &&
              feedtext::ends_with(media_type, "+xml"))) {
    acceptable_content_type = true;
    rfc3023_encoding = default_to(http_encoding, "", "us-ascii");
  } else if (feedtext::starts_with(media_type, "text/")) {
    rfc3023_encoding = default_to(http_encoding, "", "us-ascii");
  } else if (!headers.empty() && content_type_header == nullptr) {
    rfc3023_encoding = default_to(xml_encoding, "", "iso-8859-1");
  } else {
    // A byte order mark beats the UTF-8 default (feedparser tries UTF-8
    // first, which "decodes" UTF-16 text into NUL-riddled garbage).
    rfc3023_encoding = default_to(xml_encoding, bom_encoding, "utf-8");
  }
  // GB18030 is a superset of GB2312.
  if (feedtext::lower(rfc3023_encoding) == "gb2312") rfc3023_encoding = "gb18030";
  if (xml_encoding == "gb2312") xml_encoding = "gb18030";

  if (!headers.empty() && !acceptable_content_type) {
    result.error = content_type_header != nullptr
                       ? *content_type_header + " is not an XML media type"
                       : "no Content-type specified";
  }

  // Candidates in order; slot 3 is the statistical detector, run only when
  // the declared encodings failed.
  std::vector<std::string> tried;
  std::string used;
  const std::string candidates[] = {rfc3023_encoding, xml_encoding,   bom_encoding, "",
                                    "utf-8",          "windows-1252", "iso-8859-2"};
  for (size_t c = 0; c < std::size(candidates); ++c) {
    std::string proposed = c == 3 ? detect_charset(data) : candidates[c];
    if (proposed.empty()) continue;
    if (std::find(tried.begin(), tried.end(), proposed) != tried.end()) continue;
    tried.push_back(proposed);
    std::string decoded;
    if (!decode_to_utf8(data, proposed, decoded)) continue;
    used = proposed;
    // Rewrite (or add) the declaration: the text is UTF-8 from here on.
    static constexpr std::string_view kDecl = "<?xml version='1.0' encoding='utf-8'?>";
    size_t gt = feedtext::starts_with(decoded, "<?xml") ? decoded.find('>') : std::string::npos;
    if (gt != std::string::npos) {
      decoded.replace(0, gt + 1, kDecl);
    } else {
      decoded.insert(0, std::string(kDecl) + "\n");
    }
    result.utf8 = std::move(decoded);
    break;
  }
  if (used.empty()) {
    result.error = "document encoding unknown, I tried " + rfc3023_encoding + ", " + xml_encoding +
                   ", utf-8, windows-1252, and iso-8859-2 but nothing worked";
    result.encoding.clear();
  } else if (used != rfc3023_encoding) {
    result.error = "document declared as " + rfc3023_encoding + ", but parsed as " + used;
    result.encoding = used;
  } else {
    result.encoding = used;
  }
  return result;
}

}  // namespace sentinel::intel
