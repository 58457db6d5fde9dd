#include "capture/pcapng_writer.hpp"

#include <cerrno>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace smtplab::capture {
namespace {

constexpr std::uint32_t kSectionHeaderBlock = 0x0A0D0D0A;
constexpr std::uint32_t kInterfaceDescriptionBlock = 0x00000001;
constexpr std::uint32_t kEnhancedPacketBlock = 0x00000006;
constexpr std::uint16_t kLinkTypeEthernet = 1;
constexpr std::uint32_t kSnapLength = 262144;

constexpr std::uint16_t kOptEndOfOptions = 0;
constexpr std::uint16_t kOptComment = 1;
constexpr std::uint16_t kShbUserApplication = 4;
constexpr std::uint16_t kIfName = 2;
constexpr std::uint16_t kIfTimestampResolution = 9;

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
  put16(out, static_cast<std::uint16_t>(v >> 16));
}
void pad32(std::string& out) {
  while (out.size() % 4 != 0) out.push_back(0);
}
void put_option(std::string& out, std::uint16_t code, std::string_view value) {
  // An option's length field is 16 bits; a longer comment is cut.
  value = value.substr(0, 0xfff0);
  put16(out, code);
  put16(out, static_cast<std::uint16_t>(value.size()));
  out.append(value);
  pad32(out);
}
void end_options(std::string& out) {
  put16(out, kOptEndOfOptions);
  put16(out, 0);
}

absl::Status io_error(const std::string& path, const char* what) {
  return absl::InternalError(absl::StrCat(path, ": cannot ", what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<PcapngWriter> PcapngWriter::create(const std::string& path, std::string_view interface_name) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return io_error(path, "create the capture");
  PcapngWriter w(f, path);
  std::string shb;
  put32(shb, 0x1A2B3C4D);  // byte-order magic: the reader learns we wrote little-endian
  put16(shb, 1);
  put16(shb, 0);
  put32(shb, 0xffffffff);  // section length: not given
  put32(shb, 0xffffffff);
  put_option(shb, kShbUserApplication, "smtplab");
  end_options(shb);
  if (auto st = w.write_block(kSectionHeaderBlock, shb); !st.ok()) return st;
  std::string idb;
  put16(idb, kLinkTypeEthernet);
  put16(idb, 0);
  put32(idb, kSnapLength);
  put_option(idb, kIfName, interface_name);
  put_option(idb, kIfTimestampResolution, std::string_view("\x06", 1));  // 10^-6 s
  end_options(idb);
  if (auto st = w.write_block(kInterfaceDescriptionBlock, idb); !st.ok()) return st;
  return w;
}

PcapngWriter::PcapngWriter(PcapngWriter&& other) noexcept : file_(other.file_), path_(std::move(other.path_)) {
  other.file_ = nullptr;
}

PcapngWriter::~PcapngWriter() {
  // An unclosed writer (an error on the way) still releases its file; the
  // error was reported where it happened.
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status PcapngWriter::write_block(std::uint32_t type, const std::string& body) {
  std::string block;
  const auto total = static_cast<std::uint32_t>(12 + body.size());
  put32(block, type);
  put32(block, total);
  block += body;
  put32(block, total);
  if (std::fwrite(block.data(), 1, block.size(), file_) != block.size()) return io_error(path_, "write the capture");
  return absl::OkStatus();
}

absl::Status PcapngWriter::write_packet(absl::Time at, std::string_view frame, const std::vector<std::string>& comments) {
  const auto micros = static_cast<std::uint64_t>(absl::ToUnixMicros(at));
  std::string epb;
  put32(epb, 0);  // interface 0
  put32(epb, static_cast<std::uint32_t>(micros >> 32));
  put32(epb, static_cast<std::uint32_t>(micros & 0xffffffff));
  put32(epb, static_cast<std::uint32_t>(frame.size()));
  put32(epb, static_cast<std::uint32_t>(frame.size()));
  epb.append(frame);
  pad32(epb);
  for (const std::string& c : comments) put_option(epb, kOptComment, c);
  if (!comments.empty()) end_options(epb);
  return write_block(kEnhancedPacketBlock, epb);
}

absl::Status PcapngWriter::close() {
  if (file_ == nullptr) return absl::OkStatus();
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) return io_error(path_, "finish the capture");
  return absl::OkStatus();
}

}  // namespace smtplab::capture
