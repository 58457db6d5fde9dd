// The bytes a parser has received and not yet consumed. The server session
// and the reply parser both read from the front and keep the rest until
// more arrives; this is where the keeping lives, and the compaction that
// stops the buffer from growing with everything ever read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace smtplab::smtp {

class ReceiveBuffer {
 public:
  // What has not been consumed yet. Valid until the next append() or clear().
  std::string_view data() const { return std::string_view(bytes_).substr(pos_); }
  std::size_t size() const { return bytes_.size() - pos_; }
  bool empty() const { return pos_ == bytes_.size(); }

  // Consumed bytes are dropped here, not in consume(): views a parser took of
  // them stay valid until it asks for more. They go when all is consumed, or
  // once they pass kCompactAfter (one move per 64 KiB read, not one per line).
  void append(std::string_view more) {
    if (pos_ == bytes_.size()) {
      bytes_.clear();
      pos_ = 0;
    } else if (pos_ > kCompactAfter) {
      bytes_.erase(0, pos_);
      pos_ = 0;
    }
    bytes_.append(more);
  }
  void consume(std::size_t n) { pos_ += n < size() ? n : size(); }
  void clear() {
    bytes_.clear();
    pos_ = 0;
  }

 private:
  static constexpr std::size_t kCompactAfter = 64 * 1024;
  std::string bytes_;
  std::size_t pos_ = 0;
};

}  // namespace smtplab::smtp
