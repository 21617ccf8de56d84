// Where an address goes (SPEC §1.9): the users file, the aliases file,
// catch-alls, subaddresses and role addresses, resolved in one place. Pure:
// built from what the files said, asked questions, no I/O; the time is an
// argument because SRS addresses expire.
//
// Order for an address in a local domain (local parts without case, RFC
// 5321 §2.4 permits it and every common server does it):
//   1. an alias of the address as written          (reason "alias")
//   2. a user (mailbox) with that address          (reason "user")
//   3. the same two without the "+tag"             (reason "plus-tag")
//   4. postmaster@ and abuse@ of every local domain (reason "role";
//      RFC 5321 §4.5.1, RFC 2142 §2), unless 1-3 matched
//   5. the domain's catch-all "@domain"            (reason "catch-all")
// An address in the SRS domain that starts with SRS0= is decoded instead
// (reason "srs"). Alias targets are resolved the same way, recursively, up
// to kMaxAliasDepth levels; a loop is a configuration error (found when the
// book is built, so `postern check` and reload refuse it).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "addresses/aliases_file.hpp"
#include "addresses/srs.hpp"

namespace postern::addresses {

// Levels of aliases that may lead to another alias; Postfix allows 1000,
// sendmail 10. Ten is plenty for humans and keeps a trace readable.
inline constexpr std::size_t kMaxAliasDepth = 10;

struct BookSettings {
  std::vector<std::string> local_domains;  // any case
  std::string recipient_delimiter = "+";   // each character is a delimiter; "" = none
  std::string default_domain;              // qualifies bare names
  std::string postmaster;                  // where postmaster@ goes; "" = the first user
  std::string abuse;                       // where abuse@ goes; "" = not offered
  SrsKey srs;                              // srs.secrets empty = no SRS
};

enum class Status {
  deliver,      // at least one target
  unknown,      // local domain, nothing matches: 550 5.1.1
  not_local,    // not one of our domains: relay rules apply
  srs_invalid,  // SRS address that does not verify: 550 5.1.1
  loop,         // alias loop (a configuration error)
  too_deep,     // more than kMaxAliasDepth alias levels
};

struct Target {
  std::string address;             // canonical mailbox "alice@example.com" or a remote address
  bool local = false;              // a mailbox of ours (Maildir delivery)
  std::vector<std::string> trace;  // "info@example.com: alias (aliases:3)", ...
};

struct Resolution {
  Status status = Status::unknown;
  std::string reason;           // of the first step: user, alias, plus-tag, role, catch-all, srs
  std::vector<Target> targets;  // duplicates removed, first occurrence kept
  std::string detail;           // why not, for unknown/srs_invalid/loop/too_deep
};

struct BookProblem {
  bool error = true;  // errors refuse the file; warnings are for `postern check`
  std::string where;  // "aliases:3"
  std::string message;
  std::string fix;
};

class AddressBook {
 public:
  // `users`: addresses from the users file; `aliases_name` prefixes
  // problems. Problems found while building (loops, targets that are
  // unknown local addresses, catch-alls of domains that are not ours,
  // postmaster not deliverable) are in problems().
  AddressBook(BookSettings settings, const std::vector<std::string>& users,
              std::vector<AliasEntry> aliases, std::string aliases_name = "aliases");

  bool is_local_domain(std::string_view domain) const;
  // The SRS domain counts as ours for bounces even when not in local_domains.
  bool is_srs_domain(std::string_view domain) const;

  Resolution resolve(std::string_view address, std::chrono::system_clock::time_point now) const;

  // SPEC §1.9: `user` owns `address` when it is the user's own address, a
  // "+tag" form of it, or an alias (or role address) that resolves to the
  // user's mailbox (send-as). A catch-all never makes a user the owner of
  // every unknown name in the domain.
  bool owns(std::string_view user, std::string_view address) const;

  // A user (mailbox) with this address, compared without case.
  bool is_user(std::string_view address) const;
  // The canonical mailbox address for a login name ("ALICE@Example.com"
  // -> "alice@example.com").
  std::string canonical(std::string_view address) const;

  const std::vector<BookProblem>& problems() const { return problems_; }
  const BookSettings& settings() const { return settings_; }
  const std::string& postmaster_target() const { return postmaster_; }

 private:
  struct Walk;
  void expand(std::string_view address, Walk& walk, std::size_t depth, std::string via,
              std::chrono::system_clock::time_point now) const;
  const AliasEntry* find_alias(const std::string& key) const;
  // Splits "alice+tag" at the first delimiter; nullopt when there is none.
  std::optional<std::string> strip_tag(std::string_view local) const;

  BookSettings settings_;
  std::vector<std::string> domains_;  // lowercased
  std::vector<std::string> users_;    // canonical, sorted
  std::vector<AliasEntry> aliases_;   // sorted by alias
  std::string aliases_name_;
  std::string postmaster_;  // canonical target of postmaster@
  std::vector<BookProblem> problems_;
};

std::string_view to_string(Status status);

}  // namespace postern::addresses
