#include "message/submission_headers.hpp"

#include <fmt/format.h>

#include "message/date.hpp"
#include "message/header_section.hpp"

namespace postern::message {

std::string date_header(std::chrono::system_clock::time_point now) {
  return "Date: " + rfc5322_date(now) + "\r\n";
}

std::string message_id_header(std::string_view session_id, std::size_t n,
                              std::chrono::system_clock::time_point now,
                              std::string_view hostname) {
  const auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return fmt::format("Message-ID: <{}.{}.{}@{}>\r\n", session_id, n, secs, hostname);
}

std::string missing_submission_headers(std::string_view message, std::string_view session_id,
                                       std::size_t n, std::chrono::system_clock::time_point now,
                                       std::string_view hostname) {
  std::string out;
  if (!has_header(message, "Date")) out += date_header(now);
  if (!has_header(message, "Message-ID")) out += message_id_header(session_id, n, now, hostname);
  return out;
}

}  // namespace postern::message
