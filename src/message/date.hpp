// Dates in the form mail headers use.
#pragma once

#include <chrono>
#include <string>

namespace postern::message {

// RFC 5322 §3.3 date-time in UTC: "Mon, 23 Nov 2026 00:28:32 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point when);

}  // namespace postern::message
