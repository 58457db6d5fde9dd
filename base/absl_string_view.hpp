// Debian's abseil (20220623) is built with ABSL_OPTION_USE_STD_STRING_VIEW=0,
// so absl::string_view is a type of its own and a std::string_view does not
// convert to it. The project speaks std::string_view; these two functions are
// the bridge wherever an abseil strings function needs a view.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace smtplab {

inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace smtplab
