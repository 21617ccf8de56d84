// Date and Message-ID, which a submission server adds when the client left
// them out (RFC 6409 §8.2, §8.3; both are required by RFC 5322 §3.6).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace postern::message {

// "Date: <RFC 5322 date>\r\n" in UTC.
std::string date_header(std::chrono::system_clock::time_point now);

// "Message-ID: <session.N.unixtime@hostname>\r\n": unique because session
// ids are, and N counts the messages of the session.
std::string message_id_header(std::string_view session_id, std::size_t n,
                              std::chrono::system_clock::time_point now, std::string_view hostname);

// The fields of the two above that `message` lacks in its header section,
// concatenated (empty when it has both).
std::string missing_submission_headers(std::string_view message, std::string_view session_id,
                                       std::size_t n, std::chrono::system_clock::time_point now,
                                       std::string_view hostname);

}  // namespace postern::message
