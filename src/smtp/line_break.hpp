// Where the next CR or LF is. The DATA and BDAT decoders copy the ordinary
// octets between line breaks in one append; std::string_view::find_first_of
// runs one memchr per input octet in libstdc++ (a third of all the session's
// instructions per message, measured with bench/callgrind_session.sh), two
// memchr calls per line do the same work vectorised.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace postern::smtp {

// The index of the first '\r' or '\n' at or after `from`, or in.size().
inline std::size_t find_line_break(std::string_view in, std::size_t from) {
  const char* begin = in.data() + from;
  const std::size_t length = in.size() - from;
  const auto* lf = static_cast<const char*>(std::memchr(begin, '\n', length));
  const std::size_t until_lf = lf != nullptr ? static_cast<std::size_t>(lf - begin) : length;
  const auto* cr = static_cast<const char*>(std::memchr(begin, '\r', until_lf));
  return from + (cr != nullptr ? static_cast<std::size_t>(cr - begin) : until_lf);
}

}  // namespace postern::smtp
