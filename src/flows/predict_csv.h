// `sentinel flows predict`: evaluates a TreeModel over a CSV file and writes
// one output row per input row, with the numbers the training library gives.
//
// Input: a header line, then one row per line (blank lines skipped). Columns
// are matched to the model's feature names by header name (surrounding
// spaces and double quotes removed; a repeated name gets ".1", ".2", ... as
// pandas does, so CIC files with two "Fwd Header Length" columns fit models
// trained from pandas frames). Columns the model does not use (e.g. a label)
// are ignored. A value that is empty or "nan" (any case) is missing; others
// are parsed with std::from_chars (correctly rounded, as strtod).
//
// Output CSV, by model:
//   LightGBM binary/regression   row,raw_score,prediction
//   LightGBM multiclass          row,raw_0..raw_{k-1},prob_0..prob_{k-1}
//   XGBoost binary               row,margin,prob
//   XGBoost multiclass           row,margin_0..margin_{k-1},prob_0..prob_{k-1}
//   XGBoost regression           row,raw_score,prediction
// `row` counts data rows from 0. Doubles (LightGBM) are written with
// 17 significant digits (%.17g, as the LightGBM CLI); float32 results
// (XGBoost) as the shortest decimal of their float64 widening in Python's
// repr style, so the output matches files written from numpy by Python. Both
// read back to exactly the value computed.
#pragma once

#include <iosfwd>
#include <stdexcept>
#include <string>

#include "flows/gbdt.h"

namespace sentinel::flows {

/// An input that cannot be predicted: "<file>: line <n>, column <c> '<name>':
/// bad number '<text>'", "<file>: no column for model feature '<name>'", ...
class PredictError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Predicts every row of `input_path` and writes the CSV above to `out`.
/// Throws PredictError at the first bad input, naming file, line and column;
/// `out` then holds an incomplete result (earlier batches) to be discarded.
void predict_csv(const TreeModel& model, const std::string& input_path, std::ostream& out);

/// The float32 writing rule above, for one value (exposed for tests).
std::string format_float32_value(double value);

}  // namespace sentinel::flows
