#include "agents/mta/queue_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "agents/smtp/command.hpp"

namespace smtplab::agents {
namespace {

using Json = nlohmann::ordered_json;

absl::Status errno_status(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status write_durably(const std::string& path, const std::string& bytes, bool fsync) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("cannot create " + tmp);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return errno_status("cannot write " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (fsync && ::fsync(fd) != 0) {
    ::close(fd);
    return errno_status("cannot fsync " + tmp);
  }
  if (::close(fd) != 0) return errno_status("cannot close " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_status("cannot rename " + tmp);
  return absl::OkStatus();
}

absl::Status sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open " + dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : errno_status("cannot fsync " + dir);
}

std::string without_crlf(std::string line) {
  if (line.size() >= 2) line.resize(line.size() - 2);
  return line;
}

// The envelope is kept as the SMTP commands that carry it: the engine's own
// formatter writes them and its parser reads them back, parameters and all.
Json to_json(const QueuedMessage& m, absl::Time arrival) {
  Json j;
  j["id"] = m.id;
  j["message_id"] = m.message_id;
  j["mail"] = without_crlf(smtp::format_command(smtp::make_mail(m.reverse_path, m.params)));
  j["arrival_unix_us"] = absl::ToUnixMicros(arrival);
  j["attempts"] = m.attempts;
  j["is_bounce"] = m.is_bounce;
  Json rcpts = Json::array();
  for (const auto& r : m.recipients) {
    Json rj;
    rj["rcpt"] = without_crlf(smtp::format_command(smtp::make_rcpt(r.path, r.params)));
    rj["state"] = r.state == QueuedRecipient::State::kPending     ? "pending"
                  : r.state == QueuedRecipient::State::kDelivered ? "delivered"
                                                                  : "bounced";
    if (r.last_reply) rj["last_reply"] = without_crlf(r.last_reply->format());
    rj["last_host"] = r.last_host;
    rcpts.push_back(std::move(rj));
  }
  j["recipients"] = std::move(rcpts);
  return j;
}

absl::StatusOr<QueueStore::Loaded> from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string header;
  if (!std::getline(in, header)) return absl::DataLossError(absl::StrCat(path, ": empty"));
  QueueStore::Loaded out;
  QueuedMessage& m = out.message;
  try {
    const Json j = Json::parse(header);
    m.id = j.at("id").get<std::string>();
    m.message_id = j.at("message_id").get<std::string>();
    smtp::CommandParse mail = smtp::parse_command(j.at("mail").get<std::string>(), {.allow_utf8 = true});
    if (!mail.ok()) return absl::DataLossError(absl::StrCat(path, ": bad MAIL line: ", mail.error->message));
    m.reverse_path = mail.command.path;
    m.params = mail.command.mail;
    out.arrival = absl::FromUnixMicros(j.at("arrival_unix_us").get<std::int64_t>());
    m.attempts = j.at("attempts").get<int>();
    m.is_bounce = j.at("is_bounce").get<bool>();
    for (const auto& rj : j.at("recipients")) {
      smtp::CommandParse rcpt = smtp::parse_command(rj.at("rcpt").get<std::string>(), {.allow_utf8 = true});
      if (!rcpt.ok()) return absl::DataLossError(absl::StrCat(path, ": bad RCPT line: ", rcpt.error->message));
      QueuedRecipient r{rcpt.command.path, rcpt.command.rcpt};
      const std::string state = rj.at("state").get<std::string>();
      r.state = state == "pending"     ? QueuedRecipient::State::kPending
                : state == "delivered" ? QueuedRecipient::State::kDelivered
                                       : QueuedRecipient::State::kBounced;
      if (rj.contains("last_reply")) {
        smtp::ReplyParser parser;
        parser.feed(rj["last_reply"].get<std::string>() + "\r\n");
        if (auto reply = parser.next(); reply && reply->ok()) r.last_reply = **reply;
      }
      r.last_host = rj.value("last_host", "");
      m.recipients.push_back(std::move(r));
    }
  } catch (const Json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": bad queue file header: ", e.what()));
  }
  m.content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SpoolDirectory>> SpoolDirectory::open(std::string directory, bool fsync) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create spool ", directory, ": ", ec.message()));
  return std::unique_ptr<SpoolDirectory>(new SpoolDirectory(std::move(directory), fsync));
}

absl::Status SpoolDirectory::save(const QueuedMessage& m, absl::Time arrival) {
  const std::string bytes = to_json(m, arrival).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n" + m.content;
  if (auto s = write_durably(absl::StrCat(directory_, "/", m.id), bytes, fsync_); !s.ok()) return s;
  return fsync_ ? sync_dir(directory_) : absl::OkStatus();
}

absl::Status SpoolDirectory::remove(const std::string& queue_id) {
  const std::string path = absl::StrCat(directory_, "/", queue_id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_status("cannot remove " + path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<QueueStore::Loaded>> SpoolDirectory::load() {
  std::vector<Loaded> out;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
      // A write that never finished: its 250 was never sent.
      std::filesystem::remove(entry.path());
      continue;
    }
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());  // queue ids sort in arrival order
  for (const auto& name : names) {
    auto loaded = from_file(absl::StrCat(directory_, "/", name));
    if (!loaded.ok()) return loaded.status();
    out.push_back(*std::move(loaded));
  }
  return out;
}

}  // namespace smtplab::agents
