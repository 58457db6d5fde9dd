// What a YAML syntax error probably is, in the instructor's words.
//
// yaml-cpp reports where its parser gave up ("end of map not found", "illegal
// map value"), which is often the line after the mistake and never says what
// the mistake was. diagnose_yaml_error() looks at the text around that place
// for the usual causes (a tab in the indentation, a line indented to no level
// above it, a key without its ':', a '[' or '{' never closed) and names the
// line that has the mistake. The parser's own words are kept at the end.
#pragma once

#include <string>
#include <string_view>

#include "scenarios/scenario.hpp"

namespace smtplab::scenarios {

struct YamlDiagnosis {
  Where where;          // the line (and column) that probably has the mistake
  std::string message;  // what it probably is, then what the parser said
};

// `line0` and `column0` are yaml-cpp's 0-based mark; `parser_message` its msg.
YamlDiagnosis diagnose_yaml_error(std::string_view text, int line0, int column0, std::string_view parser_message);

}  // namespace smtplab::scenarios
