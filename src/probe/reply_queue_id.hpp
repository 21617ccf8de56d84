// The queue id a server names in its 250 after DATA, for `postern send`:
// servers say it in their own words, none of it standardised (RFC 5321
// §4.2 leaves the text free).
#pragma once

#include <string>
#include <string_view>

namespace postern::probe {

// Recognises, in this order:
//   postern, Postfix   "250 2.0.0 Ok: queued as 4Xk2Lm0Bz1"
//   Exim               "250 OK id=1rAbCd-000Ab1-2x"
//   Exchange/Office365 "250 2.6.0 <MSGID@host> [InternalId=...] Queued mail for delivery"
//   Gmail              "250 2.0.0 OK  1700000000 a1-20020a05.123 - gsmtp"
//   Sendmail           "250 2.0.0 4AMH1x2Q012345 Message accepted for delivery"
//   qmail              "250 ok 1700000000 qp 12345"
//   Amazon SES         "250 Ok 0100018bd3f2c0a1-...-000000"
// Returns "" when the text names no id.
std::string find_queue_id(std::string_view reply_text);

}  // namespace postern::probe
