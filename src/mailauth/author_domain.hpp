// The author domain (RFC 5322 §3.6.2, RFC 7489 §3.1.1): the domain of the
// address in the header From:. DKIM signing picks its key by it; DMARC
// aligns with it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mailauth/dkim/message_view.hpp"

namespace postern::mailauth {

// One entry per From field in the header section, top first: the
// lowercased domain of the field's first mailbox, or "" when the field holds
// no address with a domain. Comments and quoted display names are skipped,
// so `"a@b" <c@example.com> (x@y)` gives example.com.
std::vector<std::string> from_domains(std::string_view message);
// The same from a message already parsed.
std::vector<std::string> from_domains(const dkim::MessageView& view);

// The domain of every mailbox in one From:-like field value (RFC 5322
// §3.4 mailbox-list, with RFC 6854 groups), lowercased, in order; "" for a
// mailbox without a domain. Comments and quoted strings are skipped, and a
// comma inside <...> (an obsolete route) does not split. An empty group
// ("undisclosed-recipients:;") gives nothing.
std::vector<std::string> mailbox_domains(std::string_view field_value);

// The domain of a bare address ("user@Example.COM" -> "example.com"); ""
// for the null path or an address without "@".
std::string address_domain(std::string_view address);

}  // namespace postern::mailauth
