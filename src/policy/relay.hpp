// The relay decision for one recipient (SPEC §1.1, never an open relay).
#pragma once

#include "core/reply.hpp"
#include "policy/address.hpp"
#include "policy/directory.hpp"

namespace postern::policy {

enum class RcptVerdict {
  accept,
  unknown_user,  // local domain, no such mailbox: 550 5.1.1
  relay_denied,  // not ours and the client may not relay: 554 5.7.1
  lookup,        // local domain, mailboxes in an outside user database: ask it
};

// `may_relay` is true for authenticated clients and clients in
// relay_networks. Routing tricks aimed at a local domain (percent hack
// "a%b@local", bang path "b!a@local", source routes, quoted local parts
// containing '@') are denied as relay attempts whoever the client is unless
// `may_relay`, because a downstream system could read them as another
// destination.
RcptVerdict check_recipient(const Path& path, const Directory& directory, bool may_relay);

}  // namespace postern::policy
