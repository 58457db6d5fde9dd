#include "agents/auth/dkim_sign.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agents/auth/dkim_signature.hpp"
#include "agents/auth/mail_message.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::auth {
namespace {

// RFC 6376 5.4.1's list of fields that SHOULD be signed, in a sensible order.
constexpr std::string_view kRecommendedFields[] = {
    "From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
    "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "List-Id", "List-Unsubscribe"};

bool has_field(const MailMessage& m, std::string_view name) {
  for (const HeaderField& f : m.fields) {
    if (absl::EqualsIgnoreCase(av(f.name), av(name))) return true;
  }
  return false;
}

// Appends "tag; " pieces, breaking lines before 78 columns with CRLF TAB.
void append_folded(std::string& out, std::size_t& column, std::string_view piece) {
  if (column + piece.size() > 77 && column > 1) {
    out += "\r\n\t";
    column = 1;
  }
  out += piece;
  column += piece.size();
}

}  // namespace

std::variant<std::string, DkimSignError> dkim_sign(std::string_view text, const DkimSignRequest& request,
                                                   const Pkey& key) {
  std::optional<DkimKeyType> type = key_type(key);
  if (!type) return DkimSignError{"the key is neither RSA nor Ed25519"};
  if (request.domain.empty() || request.selector.empty()) return DkimSignError{"a signature needs d= and s="};
  const MailMessage message = parse_mail_message(text);
  if (!has_field(message, "From")) return DkimSignError{"the message has no From field, which DKIM must sign (RFC 6376 5.4)"};

  std::vector<std::string> fields;
  if (request.fields.empty()) {
    for (std::string_view name : kRecommendedFields) {
      if (has_field(message, name)) fields.push_back(absl::AsciiStrToLower(av(name)));
    }
  } else {
    fields = request.fields;
    bool from = false;
    for (const std::string& f : fields) from = from || absl::EqualsIgnoreCase(f, "from");
    if (!from) fields.insert(fields.begin(), "from");
  }

  std::string body = canonical_body(message.body, request.canonicalization.body);
  const DkimAlgorithm algorithm = *type == DkimKeyType::kEd25519 ? DkimAlgorithm::kEd25519Sha256 : DkimAlgorithm::kRsaSha256;

  std::vector<std::string> tags = {
      "v=1",
      absl::StrCat("a=", av(dkim_algorithm_name(algorithm))),
      absl::StrCat("c=", canonicalization_text(request.canonicalization)),
      absl::StrCat("d=", request.domain),
      absl::StrCat("s=", request.selector),
  };
  if (!request.identity.empty()) tags.push_back(absl::StrCat("i=", request.identity));
  if (request.timestamp) tags.push_back(absl::StrCat("t=", *request.timestamp));
  if (request.expiration) tags.push_back(absl::StrCat("x=", *request.expiration));
  if (request.body_length) tags.push_back(absl::StrCat("l=", body.size()));
  tags.push_back(absl::StrCat("h=", absl::StrJoin(fields, ":")));
  tags.push_back(absl::StrCat("bh=", absl::Base64Escape(av(sha256(body)))));

  std::string field = "DKIM-Signature:";
  std::size_t column = field.size();
  for (const std::string& tag : tags) append_folded(field, column, absl::StrCat(" ", tag, ";"));
  append_folded(field, column, " b=");

  // What the signature covers: the chosen fields (bottom-up instances, as a
  // verifier selects them, 5.4.2), then this field with b= empty, no CRLF.
  std::string data = canonical_signed_fields(message, fields, request.canonicalization.header);
  std::string self = canonical_header(field, request.canonicalization.header);
  self.resize(self.size() - 2);
  data += self;

  const std::string signature = sign_data(key, data);
  if (signature.empty()) return DkimSignError{"OpenSSL could not sign with the key"};
  const std::string b = absl::Base64Escape(av(signature));
  // The b= value may be folded anywhere; its white space is not signed (3.5).
  for (std::size_t at = 0; at < b.size();) {
    const std::size_t room = column < 77 ? 77 - column : 0;
    if (room == 0) {
      field += "\r\n\t";
      column = 1;
      continue;
    }
    const std::size_t n = std::min(room, b.size() - at);
    field.append(b, at, n);
    column += n;
    at += n;
  }
  field += "\r\n";
  return field;
}

}  // namespace smtplab::auth
