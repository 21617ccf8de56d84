// The SPF and DKIM results an Authentication-Results field is written from,
// built in one line: shared by the unit tests of the field and by the
// sample tool whose output python3-authres reads (tests/authres/).
#pragma once

#include <string>
#include <utility>

#include "mailauth/auth_results/checks.hpp"

namespace postern::testing {

inline mailauth::SpfCheck spf_check(mailauth::spf::Result result, std::string mail_from,
                                    std::string helo, std::string reason = "") {
  mailauth::SpfCheck c;
  c.result = result;
  c.mail_from = std::move(mail_from);
  c.helo = std::move(helo);
  c.reason = std::move(reason);
  return c;
}

inline mailauth::DkimCheck dkim_check(mailauth::DkimResult result, std::string domain,
                                      std::string selector, std::string b,
                                      std::string reason = "") {
  mailauth::DkimCheck c;
  c.result = result;
  c.domain = std::move(domain);
  c.selector = std::move(selector);
  c.b = std::move(b);
  c.reason = std::move(reason);
  return c;
}

}  // namespace postern::testing
