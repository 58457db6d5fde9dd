// YAML mistakes named where they are (scenarios/testdata/yaml_mistakes/):
// each file's first line says the FILE:LINE:COLUMN and the start of the hint
// `smtplab validate` must print for it.
#include "scenarios/yaml_diagnosis.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scenarios/scenario_loader.hpp"

namespace smtplab::scenarios {
namespace {

std::vector<std::string> mistake_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(SMTPLAB_SCENARIOS_TESTDATA_DIR) + "/yaml_mistakes")) {
    out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class YamlMistakeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(YamlMistakeTest, NamesTheLineWithTheMistake) {
  std::ifstream in(GetParam());
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  const std::string marker = "# expect: ";
  ASSERT_EQ(all.rfind(marker, 0), 0u) << "first line must be '# expect: LINE:COLUMN: hint'";
  const std::string expected = all.substr(marker.size(), all.find('\n') - marker.size());

  const LoadResult r = load_scenario_text(all, "m.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << r.error_text();
  const std::string got = r.errors[0].to_string();
  EXPECT_EQ(got.rfind("m.yaml:" + expected, 0), 0u) << got;
  // The parser's own words stay, for whoever knows them.
  EXPECT_NE(got.find("(the YAML parser stopped at line "), std::string::npos) << got;
}

INSTANTIATE_TEST_SUITE_P(Files, YamlMistakeTest, ::testing::ValuesIn(mistake_files()),
                         [](const auto& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// A tab only in a blank line, or inside a value, is not an indentation tab.
TEST(YamlDiagnosisTest, TabOutsideIndentationIsNotBlamed) {
  const auto d = diagnose_yaml_error("a: 1\n\t\nb: [x\n", 2, 5, "end of sequence flow not found");
  EXPECT_EQ(d.message.rfind("the '[' on line 3 is never closed", 0), 0u) << d.message;
  EXPECT_EQ(d.where.line, 3);
}

// A mark past the end (the parser's "at end of input") is clamped, never read.
TEST(YamlDiagnosisTest, MarkPastTheEndIsSafe) {
  const auto d = diagnose_yaml_error("a: [1\n", 40, 3, "end of sequence flow not found");
  EXPECT_EQ(d.where.line, 1);
  const auto empty = diagnose_yaml_error("", -1, -1, "x");
  EXPECT_EQ(empty.where.line, 1);
}

}  // namespace
}  // namespace smtplab::scenarios
