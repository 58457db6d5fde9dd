#include "scenarios/yaml_diagnosis.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/absl_string_view.hpp"

namespace smtplab::scenarios {
namespace {

// One line of the document, as indentation sees it.
struct Line {
  int number = 0;          // 1-based
  std::string_view text;   // without its line ending
  int indent = 0;          // leading spaces (a tab ends the count)
  int tab_column = 0;      // 1-based column of a tab in the indentation, 0 if none
  std::string_view body;   // after the indentation, with any "- " item marks
  int key_column = 0;      // 1-based column where the key (or scalar) starts
  bool content = false;    // not blank, not only a comment
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> out;
  int number = 0;
  while (!text.empty() || number == 0) {
    const std::size_t end = text.find('\n');
    std::string_view raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    Line l;
    l.number = ++number;
    l.text = raw;
    std::size_t i = 0;
    while (i < raw.size() && (raw[i] == ' ' || raw[i] == '\t')) {
      if (raw[i] == '\t' && l.tab_column == 0) l.tab_column = static_cast<int>(i) + 1;
      ++i;
    }
    l.indent = static_cast<int>(raw.find_first_not_of(' ') == std::string_view::npos ? raw.size()
                                                                                       : raw.find_first_not_of(' '));
    l.body = raw.substr(i);
    l.content = !l.body.empty() && l.body[0] != '#';
    std::size_t key = i;
    while (key + 1 < raw.size() && raw[key] == '-' && raw[key + 1] == ' ') {
      key += 2;
      while (key < raw.size() && raw[key] == ' ') ++key;
    }
    l.key_column = static_cast<int>(key) + 1;
    out.push_back(l);
    if (end == std::string_view::npos) break;
  }
  return out;
}

// The text after the item marks: "- from: a" -> "from: a".
std::string_view entry_of(const Line& l) { return l.text.substr(static_cast<std::size_t>(l.key_column - 1)); }

// Where "key: value" has its ':' (a ':' followed by a space or the end), if it is one.
std::optional<std::size_t> key_colon(std::string_view entry) {
  if (entry.empty() || std::string_view("[{\"'|>&*!#").find(entry[0]) != std::string_view::npos) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < entry.size(); ++i) {
    if (entry[i] == '#' && i > 0 && entry[i - 1] == ' ') return std::nullopt;
    if (entry[i] == ':' && (i + 1 == entry.size() || entry[i + 1] == ' ')) return i;
  }
  return std::nullopt;
}

// True when the line's key already has its value on the line ("users: [bob]"),
// so nothing indented under it can belong to it.
bool has_inline_value(const Line& l) {
  const std::string_view entry = entry_of(l);
  const auto colon = key_colon(entry);
  if (!colon) return false;
  std::string_view rest = entry.substr(*colon + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return !rest.empty() && rest.front() != '#' && rest.front() != '|' && rest.front() != '>';
}

const Line* previous_content(const std::vector<Line>& lines, int number) {
  for (int n = number - 1; n >= 1; --n) {
    if (lines[static_cast<std::size_t>(n - 1)].content) return &lines[static_cast<std::size_t>(n - 1)];
  }
  return nullptr;
}

// A '[' or '{' that is still open at the parser's mark, outside quotes.
struct OpenBracket {
  char bracket = 0;
  int line = 0;
  int column = 0;
};
std::optional<OpenBracket> unclosed_flow(const std::vector<Line>& lines, int up_to_line) {
  std::vector<OpenBracket> open;
  for (const Line& l : lines) {
    if (l.number > up_to_line) break;
    char quote = 0;
    for (std::size_t i = 0; i < l.text.size(); ++i) {
      const char c = l.text[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#' && (i == 0 || l.text[i - 1] == ' ')) {
        break;
      } else if (c == '[' || c == '{') {
        open.push_back({c, l.number, static_cast<int>(i) + 1});
      } else if ((c == ']' || c == '}') && !open.empty()) {
        open.pop_back();
      }
    }
  }
  if (open.empty()) return std::nullopt;
  return open.back();
}

// The columns a line after `above` could start at and belong somewhere: the
// key column of each level still open there, innermost first.
struct Level {
  int column = 0;
  int line = 0;
};
std::vector<Level> open_levels(const std::vector<Line>& lines, const Line& above) {
  std::vector<Level> out;
  int limit = above.key_column + 1;
  for (int n = above.number; n >= 1; --n) {
    const Line& l = lines[static_cast<std::size_t>(n - 1)];
    if (!l.content) continue;
    if (l.key_column < limit) {
      out.push_back({l.key_column, l.number});
      limit = l.key_column;
    }
    // A "- " item's dash is a level too: another item may start there.
    if (l.indent + 1 < limit) {
      out.push_back({l.indent + 1, l.number});
      limit = l.indent + 1;
    }
  }
  return out;
}

// In a flow mapping on one line, an unquoted value that itself holds ": ".
struct ColonInValue {
  std::string key, value;
  std::size_t value_column = 0;  // 0-based
};
std::optional<ColonInValue> second_colon_in_flow(std::string_view text) {
  int depth = 0;
  char quote = 0;
  std::size_t start = 0;  // of the current entry
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ',';
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '{') {
      ++depth;
      start = i + 1;
    } else if (depth > 0 && (c == ',' || c == '}')) {
      std::string_view entry = text.substr(start, i - start);
      while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
      const auto first = entry.find(": ");
      if (first != std::string_view::npos) {
        std::string_view value = entry.substr(first + 2);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
        if (!value.empty() && value.front() != '"' && value.front() != '\'' && value.find(": ") != std::string_view::npos) {
          return ColonInValue{std::string(entry.substr(0, first)), std::string(value),
                              static_cast<std::size_t>(value.data() - text.data())};
        }
      }
      if (c == '}') --depth;
      start = i + 1;
    }
  }
  return std::nullopt;
}

std::string quoted(std::string_view s) { return absl::StrCat("'", av(s), "'"); }

}  // namespace

YamlDiagnosis diagnose_yaml_error(std::string_view text, int line0, int column0, std::string_view parser_message) {
  const std::vector<Line> lines = split_lines(text);
  const int stop_line = std::clamp(line0 + 1, 1, static_cast<int>(lines.size()));
  const std::string parser =
      absl::StrCat("(the YAML parser stopped at line ", line0 + 1, ", column ", column0 + 1, ": ", av(parser_message), ")");
  auto say = [&](int line, int column, std::string what) {
    return YamlDiagnosis{{line, column}, absl::StrCat(what, " ", parser)};
  };
  const Line& at = lines[static_cast<std::size_t>(stop_line - 1)];

  // YAML forbids tabs in indentation (YAML 1.2 section 6.1); say so first, as
  // a tab looks like spaces in most editors and every other hint would mislead.
  for (const Line& l : lines) {
    if (l.number > stop_line) break;
    if (l.tab_column > 0 && l.content) {
      return say(l.number, l.tab_column,
                 absl::StrCat("line ", l.number, " is indented with a tab; YAML indents with spaces only "
                                                 "(replace the tab with spaces)"));
    }
  }

  if (parser_message.find("flow") != std::string_view::npos) {
    // {text: Mailbox full: try later}: inside braces the second ': ' ends
    // the value, and the parser finds the rest where a ',' or '}' belongs.
    if (const auto colon = second_colon_in_flow(at.text)) {
      return say(stop_line, static_cast<int>(colon->value_column) + 1,
                 absl::StrCat("the value of ", quoted(colon->key), " contains ': ', which YAML reads as the start "
                              "of another key inside { }; put the value in quotes: ",
                              colon->key, ": \"", colon->value, "\""));
    }
    if (const auto open = unclosed_flow(lines, stop_line)) {
      const char close = open->bracket == '[' ? ']' : '}';
      return say(open->line, open->column,
                 absl::StrCat("the '", std::string(1, open->bracket), "' on line ", open->line, " is never closed with '",
                              std::string(1, close), "'"));
    }
  }

  // "- {host: mx2, preference: 20" with no '}': YAML reads on past the line
  // end, inside the braces, and stops lines later at a "- " item or a
  // "key:" that only block style allows, where the indentation looks wrong.
  // A flow collection may span lines, so the bracket is blamed only when a
  // line between it and the stop is block structure.
  if (const auto open = unclosed_flow(lines, stop_line); open && open->line < stop_line) {
    const bool block_inside = std::any_of(lines.begin() + open->line, lines.begin() + stop_line, [](const Line& l) {
      return l.content && (l.body.starts_with("- ") || l.body == "-" || (key_colon(l.body) && !has_inline_value(l)));
    });
    if (block_inside) {
      const char close = open->bracket == '[' ? ']' : '}';
      return say(open->line, open->column,
                 absl::StrCat("the '", std::string(1, open->bracket), "' on line ", open->line, " is never closed with '",
                              std::string(1, close), "', so YAML reads the lines after it as inside the '",
                              std::string(1, open->bracket), "' too; close it on line ", open->line));
    }
  }

  const Line* above = previous_content(lines, stop_line);
  if (above == nullptr || !at.content) return say(stop_line, column0 + 1, "this is not valid YAML");

  // "users [bob]" then "mx: [a]": the parser reads the first as a text and
  // stops at the second; the mistake is the missing ':' on the line above.
  const std::string_view above_entry = entry_of(*above);
  if (!above_entry.empty() && !key_colon(above_entry) && above->key_column == at.key_column &&
      std::string_view("[{\"'|>").find(above_entry[0]) == std::string_view::npos) {
    std::string hint = absl::StrCat("line ", above->number, " has no ':' after its key, so YAML reads ",
                                    quoted(above_entry), " as a text, not as a key with a value");
    if (const auto space = above_entry.find(' '); space != std::string_view::npos) {
      absl::StrAppend(&hint, "; write ", quoted(absl::StrCat(av(above_entry.substr(0, space)), ":",
                                                             av(above_entry.substr(space)))));
    }
    return say(above->number, above->key_column, hint);
  }

  if (at.indent + 1 > above->key_column && has_inline_value(*above)) {
    const std::string_view key = above_entry.substr(0, *key_colon(above_entry));
    return say(at.number, at.indent + 1,
               absl::StrCat("line ", at.number, " is indented more than line ", above->number, ", but ", quoted(key),
                            " on line ", above->number, " already has its value; to make it another key beside ",
                            quoted(key), ", start it at column ", above->key_column, " as line ", above->number,
                            " does"));
  }

  std::vector<std::string> columns;
  bool lines_up = false;
  for (const Level& level : open_levels(lines, *above)) {
    if (at.indent + 1 == level.column) lines_up = true;
    columns.push_back(absl::StrCat(level.column, " (line ", level.line, ")"));
  }
  if (!lines_up) {
    return say(at.number, at.indent + 1,
               absl::StrCat("the indentation of line ", at.number, " is probably wrong: it starts at column ",
                            at.indent + 1, ", which lines up with nothing above it (the levels open there start at "
                                           "columns ", absl::StrJoin(columns, ", "), ")"));
  }
  return say(stop_line, column0 + 1, "this is not valid YAML here");
}

}  // namespace smtplab::scenarios
