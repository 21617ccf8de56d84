#include "policy/relay.hpp"

namespace postern::policy {
namespace {

// Local parts that older MTAs (sendmail, some gateways) read as routing:
// "user%other@local" (the percent hack), "other!user@local" (UUCP bang
// path), and a quoted local part hiding a second '@'. Accepting them for a
// local domain lets a downstream system forward the mail elsewhere.
bool routes_elsewhere(const Mailbox& m) {
  return m.local.find_first_of("%!") != std::string::npos ||
         (m.quoted && m.local.find('@') != std::string::npos);
}

}  // namespace

RcptVerdict check_recipient(const Path& path, const Directory& directory, bool may_relay) {
  if (path.null) return RcptVerdict::relay_denied;  // "<>" is never a recipient
  const Mailbox& m = path.mailbox;
  const bool local = !m.domain.empty() && m.domain.front() != '[' &&
                     directory.is_local_domain(ascii_lower(m.domain));
  if (local) {
    if (path.source_route || routes_elsewhere(m)) return RcptVerdict::relay_denied;
    if (directory.mailboxes_are_remote()) return RcptVerdict::lookup;
    return directory.mailbox_exists(m.text()) ? RcptVerdict::accept : RcptVerdict::unknown_user;
  }
  if (!may_relay) return RcptVerdict::relay_denied;
  // Trusted clients may relay anywhere, but not through routing tricks that
  // make the destination ambiguous.
  if (path.source_route) return RcptVerdict::relay_denied;
  return RcptVerdict::accept;
}

}  // namespace postern::policy
