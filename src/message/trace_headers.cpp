#include "message/trace_headers.hpp"

#include <fmt/format.h>

#include <ctime>

namespace postern::message {
namespace {

// Client-supplied text in a header must not break the header apart.
std::string clean(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '(' || c == ')') continue;
    out += c;
    if (out.size() >= 255) break;
  }
  return out;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string rfc5322_date(std::chrono::system_clock::time_point when) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string received_header(const ReceivedInfo& info) {
  // Continuation lines start with a tab (RFC 5322 §2.2.3 folding); each stays
  // far below the 998-octet line limit because every part is bounded.
  std::string h = fmt::format("Received: from {} ([{}])\r\n\tby {} (postern) with {} id {}\r\n",
                              clean(info.helo).empty() ? "unknown" : clean(info.helo),
                              info.client_ip, info.hostname, info.protocol, info.id);
  std::string details = fmt::format("listener {} role {}", info.listener, info.role);
  if (!info.tls_version.empty()) {
    details += fmt::format("; {} cipher {}", info.tls_version, info.tls_cipher);
  }
  if (!info.auth_user.empty()) details += "; authenticated user " + clean(info.auth_user);
  h += "\t(" + details + ")\r\n";
  if (!info.for_recipient.empty()) h += "\tfor <" + clean(info.for_recipient) + ">";
  h += "; " + rfc5322_date(info.when) + "\r\n";
  return h;
}

bool has_header(std::string_view message, std::string_view name) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    const auto eol = message.find('\n', pos);
    std::string_view line =
        message.substr(pos, eol == std::string_view::npos ? message.npos : eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return false;  // end of the header section
    if (line.size() > name.size() && line[name.size()] == ':') {
      bool same = true;
      for (std::size_t i = 0; i < name.size() && same; ++i) same = lower(line[i]) == lower(name[i]);
      if (same) return true;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return false;
}

}  // namespace postern::message
