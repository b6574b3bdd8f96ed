#include "flows/rule_condition.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace sentinel::flows {

namespace {

struct Token {
  enum class Kind { word, number, lparen, rparen, pipe, comma, greater, greater_equal, end };
  Kind kind = Kind::end;
  std::string_view text;
  size_t position = 0;  ///< 1-based column
  double number = 0;
};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.' ||
         c == '*';
}

std::string describe(const Token& t) {
  return t.kind == Token::Kind::end ? std::string("the end of the condition")
                                    : fmt::format("'{}'", t.text);
}

// Sigma wildcards in `1 of selection_*`: only '*' (any run of characters).
bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

bool is_condition_keyword(std::string_view word) {
  static constexpr std::string_view kKeywords[] = {"and", "or",    "not", "of",      "them",
                                                   "all", "count", "by",  "distinct"};
  return std::find(std::begin(kKeywords), std::end(kKeywords), word) != std::end(kKeywords);
}

std::string AggregationSpec::to_string() const {
  std::string out = "count(";
  if (!field.empty()) out += (distinct ? "distinct " : "") + field;
  out += ")";
  for (size_t i = 0; i < group_by.size(); ++i) out += (i == 0 ? " by " : ", ") + group_by[i];
  out += fmt::format(" {} {}", inclusive ? ">=" : ">", threshold);
  return out;
}

bool CompiledCondition::evaluate(const uint8_t* selections, uint8_t* stack) const {
  size_t top = 0;
  for (const ConditionOp& op : code_) {
    switch (op.kind) {
      case ConditionOp::Kind::push:
        stack[top++] = selections[op.operand];
        break;
      case ConditionOp::Kind::negate:
        stack[top - 1] = static_cast<uint8_t>(stack[top - 1] == 0);
        break;
      case ConditionOp::Kind::both:
        --top;
        stack[top - 1] = static_cast<uint8_t>(stack[top - 1] != 0 && stack[top] != 0);
        break;
      case ConditionOp::Kind::either:
        --top;
        stack[top - 1] = static_cast<uint8_t>(stack[top - 1] != 0 || stack[top] != 0);
        break;
      case ConditionOp::Kind::at_least: {
        size_t count = 0;
        for (size_t i = top - op.operand; i < top; ++i) count += stack[i];
        top -= op.operand;
        stack[top++] = static_cast<uint8_t>(count >= op.needed);
        break;
      }
    }
  }
  return top == 1 && stack[0] != 0;
}

// Recursive descent over a token list; errors carry the 1-based column.
class ConditionParser {
 public:
  ConditionParser(std::string_view text, std::span<const std::string> names)
      : text_(text), names_(names) {}

  Result<ParsedCondition> run() {
    if (auto status = tokenize(); !status) return status.error();
    ParsedCondition parsed;
    parsed.expression.used_.assign(names_.size(), 0);
    out_ = &parsed.expression;
    if (peek().kind == Token::Kind::end) return fail(peek(), "the condition is empty");
    if (auto status = expression(); !status) return status.error();
    if (peek().kind == Token::Kind::pipe) {
      next();
      auto aggregation = parse_aggregation();
      if (!aggregation) return aggregation.error();
      parsed.aggregation = std::move(*aggregation);
    }
    if (peek().kind != Token::Kind::end) {
      return fail(peek(), fmt::format("expected 'and', 'or', '|' or the end, got {}", describe(peek())));
    }
    // Stack depth: every push adds one, `both`/`either` remove one, at_least removes operand-1.
    size_t depth = 0, deepest = 0;
    for (const ConditionOp& op : out_->code_) {
      if (op.kind == ConditionOp::Kind::push) deepest = std::max(deepest, ++depth);
      if (op.kind == ConditionOp::Kind::both || op.kind == ConditionOp::Kind::either) --depth;
      if (op.kind == ConditionOp::Kind::at_least) depth -= op.operand - 1;
    }
    out_->max_stack_ = deepest;
    return parsed;
  }

 private:
  Status tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      Token t;
      t.position = i + 1;
      if (std::isspace(static_cast<unsigned char>(c)) != 0) {
        ++i;
        continue;
      }
      if (c == '(' || c == ')' || c == '|' || c == ',') {
        t.kind = c == '(' ? Token::Kind::lparen
                 : c == ')' ? Token::Kind::rparen
                 : c == '|' ? Token::Kind::pipe
                            : Token::Kind::comma;
        t.text = text_.substr(i, 1);
        ++i;
      } else if (c == '>') {
        const bool equal = i + 1 < text_.size() && text_[i + 1] == '=';
        t.kind = equal ? Token::Kind::greater_equal : Token::Kind::greater;
        t.text = text_.substr(i, equal ? 2 : 1);
        i += t.text.size();
      } else if (is_word_char(c)) {
        size_t j = i;
        while (j < text_.size() && is_word_char(text_[j])) ++j;
        t.text = text_.substr(i, j - i);
        if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
          t.kind = Token::Kind::number;
          auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.number);
          if (ec != std::errc() || end != t.text.data() + t.text.size() || !std::isfinite(t.number)) {
            return fail(t, fmt::format("'{}' is not a number", t.text)).error();
          }
        } else {
          t.kind = Token::Kind::word;
        }
        i = j;
      } else if (c == '<' || c == '=' || c == '!') {
        return fail(t, "only '>' and '>=' may compare an aggregation (a flow rule fires when the "
                       "aggregate passes its threshold)")
            .error();
      } else {
        return fail(t, fmt::format("unexpected character '{}'", c)).error();
      }
      tokens_.push_back(t);
    }
    Token end;
    end.position = text_.size() + 1;
    tokens_.push_back(end);
    return Ok{};
  }

  static Result<ParsedCondition> fail(const Token& at, std::string reason) {
    return make_error("", fmt::format("column {}: {}", at.position, reason));
  }

  const Token& peek() const { return tokens_[cursor_]; }
  const Token& next() { return tokens_[cursor_ < tokens_.size() - 1 ? cursor_++ : cursor_]; }
  bool at_word(std::string_view word) const {
    return peek().kind == Token::Kind::word && peek().text == word;
  }

  void emit(ConditionOp::Kind kind, uint16_t operand = 0, uint16_t needed = 0) {
    out_->code_.push_back(ConditionOp{kind, operand, needed});
  }

  Status expression() {
    if (auto status = term(); !status) return status;
    while (at_word("or")) {
      next();
      if (auto status = term(); !status) return status;
      emit(ConditionOp::Kind::either);
    }
    return Ok{};
  }

  Status term() {
    if (auto status = factor(); !status) return status;
    while (at_word("and")) {
      next();
      if (auto status = factor(); !status) return status;
      emit(ConditionOp::Kind::both);
    }
    return Ok{};
  }

  Status factor() {
    const Token& t = peek();
    if (t.kind == Token::Kind::lparen) {
      next();
      if (auto status = expression(); !status) return status;
      if (peek().kind != Token::Kind::rparen) {
        return fail(peek(), fmt::format("expected ')' to close the '(' at column {}, got {}",
                                        t.position, describe(peek())))
            .error();
      }
      next();
      return Ok{};
    }
    if (t.kind == Token::Kind::number || (t.kind == Token::Kind::word && t.text == "all")) {
      return quantifier();
    }
    if (t.kind != Token::Kind::word) {
      return fail(t, fmt::format("expected a selection name, 'not', '(' or '1 of', got {}", describe(t)))
          .error();
    }
    if (t.text == "not") {
      next();
      if (auto status = factor(); !status) return status;
      emit(ConditionOp::Kind::negate);
      return Ok{};
    }
    if (is_condition_keyword(t.text)) {
      return fail(t, fmt::format("expected a selection name, got the keyword '{}'", t.text)).error();
    }
    if (t.text.find('*') != std::string_view::npos) {
      return fail(t, fmt::format("a wildcard name ('{}') needs a quantifier: '1 of {}' or 'all of {}'",
                                 t.text, t.text, t.text))
          .error();
    }
    auto it = std::find(names_.begin(), names_.end(), t.text);
    if (it == names_.end()) {
      return fail(t, fmt::format("undefined selection '{}'", t.text)).error();
    }
    push(static_cast<size_t>(it - names_.begin()));
    next();
    return Ok{};
  }

  void push(size_t selection) {
    out_->used_[selection] = 1;
    emit(ConditionOp::Kind::push, static_cast<uint16_t>(selection));
  }

  Status quantifier() {
    const Token quantity = next();
    const bool all = quantity.kind == Token::Kind::word;
    if (!all && (quantity.number < 1 || quantity.number != std::floor(quantity.number))) {
      return fail(quantity, fmt::format("'{}' is not a count of selections (1, 2, ... or 'all')",
                                        quantity.text))
          .error();
    }
    if (!at_word("of")) {
      return fail(peek(), fmt::format("expected 'of' after '{}', got {}", quantity.text, describe(peek())))
          .error();
    }
    next();
    const Token target = next();
    if (target.kind != Token::Kind::word ||
        (is_condition_keyword(target.text) && target.text != "them")) {
      return fail(target, fmt::format("expected a selection pattern or 'them', got {}", describe(target)))
          .error();
    }
    std::vector<size_t> matched;
    for (size_t i = 0; i < names_.size(); ++i) {
      if (target.text == "them" || glob_match(target.text, names_[i])) matched.push_back(i);
    }
    if (matched.empty()) {
      return fail(target, fmt::format("'{}' matches no selection", target.text)).error();
    }
    const size_t needed = all ? matched.size() : static_cast<size_t>(quantity.number);
    if (needed > matched.size()) {
      return fail(quantity, fmt::format("'{} of {}' asks for more selections than the {} it matches",
                                        quantity.text, target.text, matched.size()))
          .error();
    }
    for (size_t s : matched) push(s);
    if (matched.size() > 1) {
      emit(ConditionOp::Kind::at_least, static_cast<uint16_t>(matched.size()),
           static_cast<uint16_t>(needed));
    }
    return Ok{};
  }

  Result<AggregationSpec> parse_aggregation() {
    AggregationSpec spec;
    auto error = [](const Token& at, std::string reason) -> Result<AggregationSpec> {
      return make_error("", fmt::format("column {}: {}", at.position, reason));
    };
    if (!at_word("count")) {
      return error(peek(), fmt::format("expected 'count' after '|', got {}", describe(peek())));
    }
    next();
    if (peek().kind != Token::Kind::lparen) {
      return error(peek(), fmt::format("expected '(' after 'count', got {}", describe(peek())));
    }
    next();
    if (at_word("distinct")) {
      next();
      spec.distinct = true;
      if (peek().kind != Token::Kind::word) {
        return error(peek(), fmt::format("expected a field after 'distinct', got {}", describe(peek())));
      }
    }
    if (peek().kind == Token::Kind::word) {
      if (is_condition_keyword(peek().text)) {
        return error(peek(), fmt::format("expected a field name, got the keyword '{}'", peek().text));
      }
      spec.field = std::string(peek().text);
      spec.field_position = peek().position;
      spec.distinct = true;  // Sigma: count(field) counts distinct values of field
      next();
    }
    if (peek().kind != Token::Kind::rparen) {
      return error(peek(), fmt::format("expected ')' to close 'count(', got {}", describe(peek())));
    }
    next();
    if (at_word("by")) {
      next();
      while (true) {
        if (peek().kind != Token::Kind::word || is_condition_keyword(peek().text)) {
          return error(peek(), fmt::format("expected a field name after 'by', got {}", describe(peek())));
        }
        spec.group_by.emplace_back(peek().text);
        spec.group_by_positions.push_back(peek().position);
        next();
        if (peek().kind != Token::Kind::comma) break;
        next();
      }
    }
    if (peek().kind != Token::Kind::greater && peek().kind != Token::Kind::greater_equal) {
      return error(peek(), fmt::format("expected '>' or '>=' after the aggregation, got {}", describe(peek())));
    }
    spec.inclusive = next().kind == Token::Kind::greater_equal;
    if (peek().kind != Token::Kind::number) {
      return error(peek(), fmt::format("expected a number after the comparison, got {}", describe(peek())));
    }
    spec.threshold = next().number;
    return spec;
  }

  std::string_view text_;
  std::span<const std::string> names_;
  std::vector<Token> tokens_;
  size_t cursor_ = 0;
  CompiledCondition* out_ = nullptr;
};

Result<ParsedCondition> parse_condition(std::string_view text,
                                        std::span<const std::string> selection_names) {
  return ConditionParser(text, selection_names).run();
}

}  // namespace sentinel::flows
