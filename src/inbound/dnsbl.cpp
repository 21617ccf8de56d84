#include "inbound/dnsbl.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

namespace postern::inbound {

std::optional<std::string> dnsbl_query_name(std::string_view client_ip, std::string_view zone) {
  const std::string ip(client_ip);
  unsigned char v4[4];
  if (::inet_pton(AF_INET, ip.c_str(), v4) == 1) {
    return fmt::format("{}.{}.{}.{}.{}", v4[3], v4[2], v4[1], v4[0], zone);
  }
  unsigned char v6[16];
  if (::inet_pton(AF_INET6, ip.c_str(), v6) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string name;
    name.reserve(64 + zone.size());
    for (int i = 15; i >= 0; --i) {
      name += kHex[v6[i] & 15];
      name += '.';
      name += kHex[v6[i] >> 4];
      name += '.';
    }
    name += zone;
    return name;
  }
  return std::nullopt;
}

std::string safe_reason(std::string_view txt) {
  std::string out;
  bool space = false;
  for (const char ch : txt) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += (c > 0x20 && c < 0x7f) ? ch : '?';
    if (out.size() >= kMaxReasonLength) {
      out.resize(kMaxReasonLength - 3);
      out += "...";
      break;
    }
  }
  return out;
}

DnsblResult judge_dnsbl(std::string_view zone, const mailauth::Answer& a,
                        const mailauth::Answer* txt) {
  DnsblResult r;
  r.zone = std::string(zone);
  switch (a.status) {
    case mailauth::AnswerStatus::nxdomain:
    case mailauth::AnswerStatus::no_data:
      return r;
    case mailauth::AnswerStatus::temporary_failure:
      r.status = DnsblResult::Status::failed;
      r.note = "the lookup failed or timed out; the client is not blocked by this list";
      return r;
    case mailauth::AnswerStatus::ok:
      break;
  }
  // §2.1: entries are A records in 127.0.0.0/8. Anything else is a list that
  // is gone or misconfigured (a parked domain answers every name with its
  // web server). 127.255.255.0/24 is how lists such as Spamhaus say "your
  // query was refused" (a public resolver, over quota): not a listing either.
  for (const std::string& record : a.records) {
    unsigned char b[4];
    if (::inet_pton(AF_INET, record.c_str(), b) != 1 || b[0] != 127) {
      r.status = DnsblResult::Status::unusable;
      r.code = safe_reason(record);
      r.note =
          "answered with an address outside 127.0.0.0/8: the list looks misconfigured "
          "or gone; remove it from [inbound] dnsbl";
      continue;
    }
    if (b[1] == 255 && b[2] == 255) {
      r.status = DnsblResult::Status::unusable;
      r.code = record;
      r.note =
          "answered with an error code: the list refused the query (it may refuse public "
          "resolvers or need a subscription); check [delivery] resolver";
      continue;
    }
    r.status = DnsblResult::Status::listed;
    r.code = record;
    r.note.clear();
    break;
  }
  if (r.status == DnsblResult::Status::listed && txt != nullptr &&
      txt->status == mailauth::AnswerStatus::ok && !txt->records.empty()) {
    r.reason = safe_reason(txt->records.front());
  }
  return r;
}

Reply dnsbl_refusal(std::string_view client_ip, const DnsblResult& listed) {
  std::string text = fmt::format("Service unavailable; client [{}] blocked using {}",
                                 safe_reason(client_ip), listed.zone);
  if (!listed.reason.empty()) text += ": " + listed.reason;
  return Reply(554, "5.7.1", std::move(text));
}

}  // namespace postern::inbound
