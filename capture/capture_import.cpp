#include "capture/capture_import.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "capture/packet_decode.hpp"
#include "capture/smtp_observer.hpp"

namespace smtplab::capture {
namespace {

std::string endpoint_text(const SocketAddress& a) {
  return a.ip.v6 ? absl::StrCat("[", ip_text(a.ip), "]:", a.port) : absl::StrCat(ip_text(a.ip), ":", a.port);
}

// Streams to the SMTP ports, each with its observer; the events of all of
// them, sorted into one trace at the end.
class Importer {
 public:
  explicit Importer(const ImportOptions& options) : options_(options), reassembler_(options.reassembly) {}

  void add(const TcpSegment& s) {
    if (!started_) {
      started_ = true;
      result_.first_packet = s.at;
    }
    std::vector<StreamEvent> events;
    reassembler_.add(s, events);
    handle(events);
  }

  ImportedCapture finish() {
    std::vector<StreamEvent> events;
    reassembler_.finish(events);
    handle(events);
    for (auto& e : trace_) e.time_us = std::max<std::int64_t>(e.time_us, 0);
    std::stable_sort(trace_.begin(), trace_.end(),
                     [](const sim::TraceEvent& a, const sim::TraceEvent& b) { return a.time_us < b.time_us; });
    for (std::size_t i = 0; i < trace_.size(); ++i) trace_[i].sequence = i + 1;
    result_.events = std::move(trace_);
    return std::move(result_);
  }

  ImportedCapture& result() { return result_; }

 private:
  bool is_smtp(const StreamInfo& info) const {
    return std::find(options_.smtp_ports.begin(), options_.smtp_ports.end(), info.server.port) !=
           options_.smtp_ports.end();
  }

  void handle(const std::vector<StreamEvent>& events) {
    for (const StreamEvent& e : events) {
      const StreamInfo& info = reassembler_.streams()[e.stream];
      if (e.kind == StreamEvent::Kind::kOpen) {
        if (!is_smtp(info)) {
          ++result_.other_connections;
          continue;
        }
        ++result_.smtp_connections;
        ObservedConnection c{e.stream + 1, ip_text(info.client.ip), ip_text(info.server.ip), info.server.port,
                             result_.first_packet, options_.keys};
        auto& o = observers_[e.stream] = std::make_unique<SmtpObserver>(c, trace_);
        o->opened(e.at, endpoint_text(info.client), endpoint_text(info.server), info.midstream);
        continue;
      }
      auto it = observers_.find(e.stream);
      if (it == observers_.end()) continue;
      SmtpObserver& o = *it->second;
      switch (e.kind) {
        case StreamEvent::Kind::kBytes:
          e.from_client ? o.client_bytes(e.at, e.bytes) : o.server_bytes(e.at, e.bytes);
          break;
        case StreamEvent::Kind::kGap: o.gap(e.at, e.from_client, e.missing); break;
        case StreamEvent::Kind::kClose: o.closed(e.at, e.from_client); break;
        case StreamEvent::Kind::kReset: o.reset(e.at); break;
        case StreamEvent::Kind::kOpen: break;
      }
    }
  }

  const ImportOptions& options_;
  TcpReassembler reassembler_;
  std::map<std::size_t, std::unique_ptr<SmtpObserver>> observers_;
  std::vector<sim::TraceEvent> trace_;
  ImportedCapture result_;
  bool started_ = false;
};

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

std::string offset_in(pcap_t* p) {
  std::FILE* f = pcap_file(p);
  const long at = f != nullptr ? std::ftell(f) : -1;
  return at >= 0 ? absl::StrCat("at offset ", at) : "at an unknown offset";
}

}  // namespace

bool looks_like_capture(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char m[4] = {};
  if (!in.read(reinterpret_cast<char*>(m), 4)) return false;
  const std::uint32_t le = m[0] | m[1] << 8 | m[2] << 16 | static_cast<std::uint32_t>(m[3]) << 24;
  const std::uint32_t be = m[3] | m[2] << 8 | m[1] << 16 | static_cast<std::uint32_t>(m[0]) << 24;
  // pcap in microseconds or nanoseconds, either byte order; pcapng's section header.
  for (std::uint32_t magic : {0xa1b2c3d4u, 0xa1b23c4du, 0x0a0d0d0au}) {
    if (le == magic || be == magic) return true;
  }
  return false;
}

bool is_capture_file(const std::string& path) {
  for (const char* ext : {".pcap", ".pcapng", ".cap"}) {
    const std::string_view e(ext);
    if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) return true;
  }
  return looks_like_capture(path);
}

ImportedCapture import_segments(const std::vector<TcpSegment>& segments, const ImportOptions& options) {
  Importer importer(options);
  for (const TcpSegment& s : segments) importer.add(s);
  ImportedCapture r = importer.finish();
  r.packets = segments.size();
  return r;
}

absl::StatusOr<ImportedCapture> import_capture(const std::string& path, const ImportOptions& options) {
  char err[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, PcapCloser> p(
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err));
  if (!p) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a capture smtplab can read (at offset 0: ", err, ")"));
  }
  const int dlt = pcap_datalink(p.get());
  if (!is_supported_link_type(dlt)) {
    const char* name = pcap_datalink_val_to_name(dlt);
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", offset_in(p.get()), ": link type ", dlt, name ? absl::StrCat(" (", name, ")") : "",
        " is not one smtplab reads (Ethernet, raw IP, Linux cooked capture, loopback)"));
  }
  Importer importer(options);
  std::size_t packets = 0;
  std::map<std::string, std::size_t> not_tcp;
  while (true) {
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(p.get(), &h, &data);
    if (rc == PCAP_ERROR_BREAK) break;  // the end of the file
    if (rc != 1) {
      return absl::DataLossError(
          absl::StrCat(path, ": ", offset_in(p.get()), ", after ", packets, packets == 1 ? " packet: " : " packets: ",
                       pcap_geterr(p.get())));
    }
    ++packets;
    const absl::Time at = absl::FromUnixSeconds(h->ts.tv_sec) + absl::Microseconds(h->ts.tv_usec);
    const Decoded d = decode_frame(dlt, std::string_view(reinterpret_cast<const char*>(data), h->caplen), at);
    if (!d.segment) {
      ++not_tcp[std::string(not_tcp_name(d.why))];
      continue;
    }
    importer.add(*d.segment);
  }
  ImportedCapture r = importer.finish();
  r.packets = packets;
  r.not_tcp = std::move(not_tcp);
  return r;
}

}  // namespace smtplab::capture
