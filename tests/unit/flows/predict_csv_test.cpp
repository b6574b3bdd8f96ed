// predict_csv against the reference predictions.csv files (byte for byte),
// and its input errors.
#include "flows/predict_csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sentinel::flows {
namespace predict_csv_test {

using ::testing::HasSubstr;

const std::string kDir = std::string(SENTINEL_SOURCE_DIR) + "/tests/data/ml/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A file in the test's own temporary directory.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("predict_csv_") + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

 private:
  std::filesystem::path dir_;
};

class ReferenceFile : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceFile, OutputEqualsTheLibrarysPredictionsFile) {
  const std::string dir = kDir + GetParam();
  const bool xgb = GetParam().starts_with("xgboost");
  const TreeModel model = TreeModel::load(dir + (xgb ? "/model.json" : "/model.txt"));
  std::ostringstream out;
  predict_csv(model, dir + "/input.csv", out);
  const std::string expected = read_file(dir + "/predictions.csv");
  const std::string got = out.str();
  // Byte for byte; on a difference, show the first differing line.
  if (got != expected) {
    std::istringstream a(got);
    std::istringstream b(expected);
    std::string la;
    std::string lb;
    size_t line = 0;
    while (std::getline(a, la) && std::getline(b, lb)) {
      ++line;
      if (la != lb) {
        ADD_FAILURE() << GetParam() << " line " << line << "\n got:      " << la << "\n expected: " << lb;
        break;
      }
    }
    FAIL() << GetParam() << ": output differs (" << got.size() << " vs " << expected.size() << " bytes)";
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, ReferenceFile,
                         ::testing::Values("lightgbm/binary", "lightgbm/multiclass", "lightgbm/missing_categorical",
                                           "lightgbm/regression", "xgboost/binary_logistic",
                                           "xgboost/multi_softprob"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '/') c = '_';
                           }
                           return name;
                         });

TreeModel small_model() {
  // f(x, y) = x <= 1 ? (y <= 0 ? 1 : 2) : 3, LightGBM rules, identity output.
  TreeModel::Spec spec;
  spec.format = TreeModel::Format::lightgbm;
  spec.kind = TreeModel::Kind::regression;
  spec.objective = "regression";
  spec.feature_names = {"x", "y"};
  TreeModel::SpecTree tree;
  tree.nodes.resize(5);
  tree.nodes[0] = {.left = 1, .right = 2, .feature = 0, .threshold = 1.0};
  tree.nodes[1] = {.left = 3, .right = 4, .feature = 1, .threshold = 0.0};
  tree.nodes[2].value = 3;
  tree.nodes[3].value = 1;
  tree.nodes[4].value = 2;
  for (auto& n : tree.nodes) n.missing = TreeModel::Missing::nan;
  spec.trees.push_back(tree);
  return TreeModel::from_spec(spec, "small");
}

std::string predict(const TreeModel& model, const std::string& path) {
  std::ostringstream out;
  predict_csv(model, path, out);
  return out.str();
}

std::string predict_error(const TreeModel& model, const std::string& path) {
  try {
    predict(model, path);
  } catch (const PredictError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PredictCsv, ColumnsByNameExtraColumnsIgnoredMissingValues) {
  TempDir tmp;
  // Columns in another order, quoted and padded names, a label, CRLF, a blank
  // line, '+' signs, and missing values (empty, NaN) which take the default
  // branch (right here).
  const std::string path = tmp.write("in.csv",
                                     "label, \"y\" ,x\r\n"
                                     "a,-1,0.5\r\n"
                                     "b,+1,1\r\n"
                                     "\r\n"
                                     "c,0,2\r\n"
                                     "d,,0\r\n"
                                     "e,NaN,nan\r\n");
  EXPECT_EQ(predict(small_model(), path),
            "row,raw_score,prediction\n"
            "0,1,1\n"
            "1,2,2\n"
            "2,3,3\n"
            "3,2,2\n"
            "4,3,3\n");
}

TEST(PredictCsv, RepeatedHeaderNamesAreNumberedLikePandas) {
  TempDir tmp;
  TreeModel::Spec spec;
  spec.format = TreeModel::Format::lightgbm;
  spec.kind = TreeModel::Kind::regression;
  spec.objective = "regression";
  spec.feature_names = {"x", "x.1"};
  TreeModel::SpecTree tree;
  tree.nodes.resize(3);
  tree.nodes[0] = {.left = 1, .right = 2, .feature = 1, .threshold = 0.0};
  tree.nodes[1].value = -1;
  tree.nodes[2].value = 1;
  spec.trees.push_back(tree);
  const TreeModel model = TreeModel::from_spec(spec, "dup");
  EXPECT_EQ(predict(model, tmp.write("in.csv", "x,x\n5,-5\n-5,5\n")), "row,raw_score,prediction\n0,-1,-1\n1,1,1\n");
}

TEST(PredictCsv, MissingFeatureColumnIsNamed) {
  TempDir tmp;
  const std::string path = tmp.write("in.csv", "label,x\n1,2\n");
  EXPECT_THAT(predict_error(small_model(), path), HasSubstr("in.csv: no column for model feature 'y'"));
}

TEST(PredictCsv, BadNumberNamesFileLineAndColumn) {
  TempDir tmp;
  const std::string path = tmp.write("in.csv", "label,x,y\n1,2,3\n1,2,3\n1,abc,3\n");
  EXPECT_THAT(predict_error(small_model(), path), HasSubstr("in.csv: line 4, column 2 'x': bad number 'abc'"));
  const std::string trailing = tmp.write("t.csv", "x,y\n1.5e,2\n");
  EXPECT_THAT(predict_error(small_model(), trailing), HasSubstr("t.csv: line 2, column 1 'x': bad number '1.5e'"));
  // A bad value in a column the model does not use is not an error.
  EXPECT_EQ(predict(small_model(), tmp.write("u.csv", "label,x,y\nnot a number,0,0\n")),
            "row,raw_score,prediction\n0,1,1\n");
}

TEST(PredictCsv, WrongColumnCountAndMissingFile) {
  TempDir tmp;
  EXPECT_THAT(predict_error(small_model(), tmp.write("in.csv", "x,y\n1,2\n1\n")),
              HasSubstr("in.csv: line 3: 1 columns, the header has 2"));
  EXPECT_THAT(predict_error(small_model(), tmp.write("empty.csv", "")), HasSubstr("empty.csv: no header line"));
  EXPECT_THAT(predict_error(small_model(), "/nonexistent/in.csv"), HasSubstr("/nonexistent/in.csv: cannot open"));
}

TEST(PredictCsv, Float32ValuesArePrintedLikePythonRepr) {
  EXPECT_EQ(format_float32_value(static_cast<double>(-0.26699063181877136f)), "-0.26699063181877136");
  EXPECT_EQ(format_float32_value(static_cast<double>(0.1f)), "0.10000000149011612");
  EXPECT_EQ(format_float32_value(0.5), "0.5");
  EXPECT_EQ(format_float32_value(3.0), "3.0");
  EXPECT_EQ(format_float32_value(1e-5), "1e-05");
  EXPECT_EQ(format_float32_value(0.0001), "0.0001");
  EXPECT_EQ(format_float32_value(1.5e-7), "1.5e-07");
  EXPECT_EQ(format_float32_value(1e16), "1e+16");
  EXPECT_EQ(format_float32_value(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(format_float32_value(static_cast<double>(3.4028234663852886e38f)), "3.4028234663852886e+38");
  EXPECT_EQ(format_float32_value(-0.0), "-0.0");
  EXPECT_EQ(format_float32_value(0.0), "0.0");
  EXPECT_EQ(format_float32_value(std::nan("")), "nan");
  // Every printed value reads back to the same double.
  for (float f : {1.1f, 3.3e-9f, 7.0e20f, 1e-40f, 123456.789f}) {
    const double d = static_cast<double>(f);
    EXPECT_EQ(std::strtod(format_float32_value(d).c_str(), nullptr), d) << format_float32_value(d);
  }
}

}  // namespace predict_csv_test
}  // namespace sentinel::flows
