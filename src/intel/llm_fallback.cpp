#include "intel/llm_fallback.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "intel/intel_log.h"

namespace sentinel::intel {

namespace {

std::string describe(std::string_view provider, const Error& e) {
  // Provider errors already start with the provider's name.
  if (e.reason.compare(0, provider.size() + 1, std::string(provider) + ":") == 0) return e.reason;
  return std::string(provider) + ": " + e.to_string();
}

// The error once every provider was passed over.
Error exhausted(const std::vector<std::string>& skipped, bool all_open) {
  std::string reason = "every provider failed: ";
  for (size_t i = 0; i < skipped.size(); ++i) reason += (i > 0 ? "; " : "") + skipped[i];
  return Error{std::string(all_open ? kExtractCircuitOpen : kExtractTransient), reason};
}

}  // namespace

FallbackProvider::FallbackProvider(std::vector<std::shared_ptr<ExtractionProvider>> chain, std::string name)
    : chain_(std::move(chain)), name_(std::move(name)) {
  if (chain_.empty()) throw std::invalid_argument("extract.fallback: the provider chain is empty");
  for (const auto& p : chain_) {
    if (!p) throw std::invalid_argument("extract.fallback: null provider in the chain");
  }
}

Result<Extraction> FallbackProvider::extract(const ArticleText& article) {
  Result<FallbackExtraction> r = extract_traced(article);
  if (!r.ok()) return r.error();
  return std::move(r->extraction);
}

Result<FallbackExtraction> FallbackProvider::extract_traced(const ArticleText& article) {
  FallbackExtraction out;
  bool all_open = true;
  for (const auto& provider : chain_) {
    Result<Extraction> r = provider->extract(article);
    if (r.ok()) {
      out.extraction = std::move(*r);
      if (out.extraction.provider.empty()) out.extraction.provider = std::string(provider->name());
      if (!out.skipped.empty()) {
        intel_log()->info("extraction by {} after passing over {} provider(s)", provider->name(), out.skipped.size());
      }
      return out;
    }
    if (!extract_error_is_transient(r.error())) return r.error();
    all_open = all_open && r.error().field == kExtractCircuitOpen;
    out.skipped.push_back(describe(provider->name(), r.error()));
  }
  return exhausted(out.skipped, all_open);
}

Result<JsonAnswer> FallbackProvider::complete_json(std::string_view system, std::string_view user,
                                                   const nlohmann::json& schema) {
  std::vector<std::string> skipped;
  bool all_open = true, any = false;
  for (const auto& provider : chain_) {
    auto* completer = dynamic_cast<JsonCompleter*>(provider.get());
    if (completer == nullptr) continue;
    any = true;
    Result<JsonAnswer> r = completer->complete_json(system, user, schema);
    if (r.ok()) {
      r->skipped.insert(r->skipped.begin(), skipped.begin(), skipped.end());
      return r;
    }
    if (!extract_error_is_transient(r.error())) return r.error();
    all_open = all_open && r.error().field == kExtractCircuitOpen;
    skipped.push_back(describe(completer->name(), r.error()));
  }
  if (!any) {
    return make_error(std::string(kExtractPermanent),
                      name_ + ": no provider in the chain answers JSON prompts (LLM providers do)");
  }
  return exhausted(skipped, all_open);
}

}  // namespace sentinel::intel
