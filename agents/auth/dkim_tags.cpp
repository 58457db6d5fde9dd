#include "agents/auth/dkim_tags.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::auth {

std::optional<std::string_view> TagList::find(std::string_view name) const {
  for (const Tag& tag : tags_) {
    if (tag.name == name) return tag.value;
  }
  return std::nullopt;
}

namespace {
bool is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_fws(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_fws(text.back())) text.remove_suffix(1);
  return text;
}
}  // namespace

std::variant<TagList, TagListError> parse_tag_list(std::string_view text) {
  TagList list;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t end = text.find(';', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view spec = text.substr(at, end - at);
    const std::size_t column = at + 1;
    at = end + 1;
    if (trim(spec).empty()) {
      if (end == text.size()) break;  // a final ";" is allowed (tag-list)
      return TagListError{column, "an empty tag between two ';' (RFC 6376 3.2)"};
    }
    const std::size_t equals = spec.find('=');
    if (equals == std::string_view::npos) {
      return TagListError{column, absl::StrCat("'", av(trim(spec)), "' has no '=' (RFC 6376 3.2)")};
    }
    const std::string_view name = trim(spec.substr(0, equals));
    bool valid = !name.empty() && absl::ascii_isalpha(static_cast<unsigned char>(name[0]));
    for (char c : name) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') valid = false;
    }
    if (!valid) {
      return TagListError{column, absl::StrCat("'", av(name), "' is not a tag name (RFC 6376 3.2)")};
    }
    if (list.find(name)) {
      return TagListError{column, absl::StrCat("the tag '", av(name), "' appears twice (RFC 6376 3.2)")};
    }
    list.add({std::string(name), std::string(trim(spec.substr(equals + 1)))});
  }
  return list;
}

std::string without_whitespace(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (!is_fws(c)) out += c;
  }
  return out;
}

}  // namespace smtplab::auth
