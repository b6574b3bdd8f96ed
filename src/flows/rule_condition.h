// The `condition` of a Sigma-style flow rule (rules.h), compiled once at load
// into a postfix program over the rule's selection results.
//
// Grammar (keywords lower case, as in Sigma):
//   condition   := expr [ '|' aggregation ]
//   expr        := term { 'or' term }
//   term        := factor { 'and' factor }
//   factor      := 'not' factor | '(' expr ')' | quantifier | NAME
//   quantifier  := ( INTEGER | 'all' ) 'of' ( PATTERN | 'them' )
//   aggregation := 'count' '(' [ [ 'distinct' ] FIELD ] ')' [ 'by' FIELD { ',' FIELD } ] ( '>' | '>=' ) NUMBER
// NAME is a selection name; PATTERN is a selection name with '*' wildcards
// (`1 of selection_*`); `them` is every selection of the rule. `count(field)`
// counts distinct values, as in Sigma; `count(distinct field)` says so
// explicitly. Only `>` and `>=` are accepted after an aggregation because a
// flow rule fires on the flow that makes the aggregate pass the threshold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sentinel::flows {

/// One instruction of a compiled condition. The program is postfix: `push`
/// reads a selection result, the others pop operands and push one result.
struct ConditionOp {
  enum class Kind : uint8_t { push, negate, both, either, at_least };
  Kind kind = Kind::push;
  uint16_t operand = 0;  ///< push: selection index; at_least: how many operands it pops
  uint16_t needed = 0;   ///< at_least: how many of the operands must be true
};

/// A compiled boolean expression over selection results.
class CompiledCondition {
 public:
  /// Evaluates over `selections` (one byte per selection of the rule, 0 or 1)
  /// with `stack` as scratch (at least max_stack() bytes). Allocation-free.
  bool evaluate(const uint8_t* selections, uint8_t* stack) const;

  size_t max_stack() const { return max_stack_; }
  /// Whether the condition reads selection i (only those are evaluated).
  bool uses(size_t selection) const { return selection < used_.size() && used_[selection] != 0; }
  const std::vector<ConditionOp>& code() const { return code_; }

 private:
  friend class ConditionParser;
  std::vector<ConditionOp> code_;
  std::vector<uint8_t> used_;
  size_t max_stack_ = 0;
};

/// The `| count(...) by ... > N` part of a condition.
struct AggregationSpec {
  bool distinct = false;       ///< count(field) / count(distinct field): distinct values of `field`
  std::string field;           ///< "" for count(): matching flows
  size_t field_position = 0;   ///< 1-based column of `field` in the condition (for errors)
  std::vector<std::string> group_by;  ///< fields after `by` (empty = one global group)
  std::vector<size_t> group_by_positions;
  bool inclusive = false;      ///< `>=` rather than `>`
  double threshold = 0;

  /// "count(distinct destination_port) by src_ip > 50", normalised spelling.
  std::string to_string() const;
};

/// A parsed condition: the boolean part and the optional aggregation.
struct ParsedCondition {
  CompiledCondition expression;
  std::optional<AggregationSpec> aggregation;
};

/// Parses and compiles `text` against the rule's selection names (index in
/// the span = selection index). Errors say what was expected and where, as
/// "column N" (1-based), e.g. "column 17: expected a selection name, got ')'".
Result<ParsedCondition> parse_condition(std::string_view text,
                                        std::span<const std::string> selection_names);

/// True for the words a selection may not be named (and, or, not, of, them, all, count, by, distinct).
bool is_condition_keyword(std::string_view word);

}  // namespace sentinel::flows
