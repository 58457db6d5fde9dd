// DKIM's tag=value lists (RFC 6376 3.2): the DKIM-Signature field, key
// records, and (with the same syntax) ARC's fields and DMARC's record.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace smtplab::auth {

struct Tag {
  std::string name;
  std::string value;  // folding white space around it removed, inner white space kept
};

struct TagListError {
  std::size_t column;   // 1-based
  std::string problem;  // with its RFC section
};

class TagList {
 public:
  const std::vector<Tag>& tags() const { return tags_; }
  // The tag's value, or nothing when it is absent.
  std::optional<std::string_view> find(std::string_view name) const;
  void add(Tag tag) { tags_.push_back(std::move(tag)); }

 private:
  std::vector<Tag> tags_;
};

// A tag name appearing twice is an error (3.2, "Tags with duplicate names
// MUST NOT occur"); so is a tag without "=" or a name that is not ALPHA
// followed by letters, digits and underscores.
std::variant<TagList, TagListError> parse_tag_list(std::string_view text);

// A value with every space, tab, CR and LF taken out: base64 values (b=, bh=,
// p=) may be folded anywhere (3.5, 3.6.1).
std::string without_whitespace(std::string_view value);

}  // namespace smtplab::auth
