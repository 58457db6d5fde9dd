// A zone held in memory that answers the checks' questions at once: the
// records of `smtplab auth check --dns ZONE.yaml`, and of tests. Names are
// compared without case; a CNAME is followed to the name it points at, as a
// recursive resolver does (RFC 1034 3.6.2), and a loop is a server failure.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agents/auth/dns_lookup.hpp"

namespace smtplab::auth {

class DnsZone {
 public:
  // A record of `name`; TXT values are the record's strings already joined.
  void add(std::string_view name, DnsType type, std::string value);
  void add_cname(std::string_view name, std::string_view target);
  // Every query for `name` ends this way (kServFail or kTimeout).
  void fail(std::string_view name, DnsOutcome outcome);

  DnsResult resolve(const DnsQuestion& question) const;

 private:
  struct Node {
    std::vector<std::pair<DnsType, std::string>> records;
    std::string cname;
    DnsOutcome failure = DnsOutcome::kAnswer;  // kAnswer: no failure
  };
  Node& node(std::string_view name);
  std::map<std::string, Node, std::less<>> names_;
};

}  // namespace smtplab::auth
