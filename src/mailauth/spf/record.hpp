// An SPF record's syntax (RFC 7208 §4.5, §4.6, §12): which TXT records are
// SPF records, and the parsed list of terms. A syntax error anywhere makes
// the whole record a permerror before anything is evaluated (§4.6).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/spf/ip_address.hpp"

namespace postern::mailauth::spf {

enum class Qualifier { pass, fail, softfail, neutral };  // + - ~ ?

struct Mechanism {
  enum class Kind { all, include, a, mx, ptr, ip4, ip6, exists };
  Kind kind = Kind::all;
  Qualifier qualifier = Qualifier::pass;
  std::string domain_spec;  // macro string; empty = the current domain
  int cidr4 = 32;           // a, mx, ip4
  int cidr6 = 128;          // a, mx, ip6
  IpAddress network;        // ip4, ip6
  std::string text;         // as written, for messages
};

struct Record {
  std::vector<Mechanism> mechanisms;
  std::optional<std::string> redirect;  // domain-spec of redirect=
  std::optional<std::string> exp;       // domain-spec of exp=
  std::string text;
};

// RFC 7208 §4.5: the version section "v=spf1" (any case) followed by a
// space or the end of the record.
bool is_spf_record(std::string_view txt);

// nullopt and `error` (the offending term, in plain words) on a syntax
// error.
std::optional<Record> parse_record(std::string_view txt, std::string& error);

}  // namespace postern::mailauth::spf
