#include "addresses/address_book.hpp"

#include <algorithm>

#include "policy/address.hpp"

namespace postern::addresses {
namespace {

std::pair<std::string, std::string> split(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return {std::string(address), {}};
  return {std::string(address.substr(0, at)), std::string(address.substr(at + 1))};
}

std::string strip_dot(std::string d) {
  if (!d.empty() && d.back() == '.') d.pop_back();
  return d;
}

}  // namespace

struct AddressBook::Walk {
  std::vector<std::string> path;   // alias keys being expanded, for loop detection
  std::vector<std::string> steps;  // the trace down to the current address
  std::vector<Target> targets;
  std::vector<std::string> dangling;  // local targets that lead nowhere
  Status status = Status::deliver;
  std::string detail;
  std::string first_reason;

  void add(std::string address, bool local) {
    const std::string key = policy::ascii_lower(address);
    for (const auto& t : targets) {
      if (policy::ascii_lower(t.address) == key) return;  // two aliases, one mailbox: once
    }
    targets.push_back(Target{std::move(address), local, steps});
  }
  void fail(Status s, std::string why) {
    if (status == Status::deliver) {
      status = s;
      detail = std::move(why);
    }
  }
};

AddressBook::AddressBook(BookSettings settings, const std::vector<std::string>& users,
                         std::vector<AliasEntry> aliases, std::string aliases_name)
    : settings_(std::move(settings)),
      aliases_(std::move(aliases)),
      aliases_name_(std::move(aliases_name)) {
  for (const auto& d : settings_.local_domains)
    domains_.push_back(strip_dot(policy::ascii_lower(d)));
  for (const auto& u : users) users_.push_back(policy::ascii_lower(u));
  std::sort(users_.begin(), users_.end());
  std::sort(aliases_.begin(), aliases_.end(),
            [](const AliasEntry& a, const AliasEntry& b) { return a.alias < b.alias; });
  settings_.srs.domain = policy::ascii_lower(settings_.srs.domain);

  if (!settings_.postmaster.empty()) {
    postmaster_ = canonical(settings_.postmaster);
  } else if (!users.empty()) {
    postmaster_ = policy::ascii_lower(users.front());
  }

  const auto now = std::chrono::system_clock::time_point{};
  auto where = [&](int line) { return aliases_name_ + ":" + std::to_string(line); };
  for (const AliasEntry& e : aliases_) {
    const auto [local, domain] = split(e.alias);
    if (!is_local_domain(domain)) {
      problems_.push_back(
          {false, where(e.line),
           (local.empty() ? "catch-all " : "alias ") + e.alias + " is for " + domain +
               ", which is not in local_domains: mail for it is never accepted here",
           "add \"" + domain + "\" to local_domains, or remove the line"});
      continue;
    }
    Walk walk;
    walk.path.push_back(e.alias);
    for (const auto& t : e.targets) {
      if (canonical(t) == e.alias && is_user(t)) continue;
      expand(t, walk, 1, {}, now);
    }
    if (walk.status == Status::loop || walk.status == Status::too_deep) {
      problems_.push_back({true, where(e.line), walk.detail,
                           "make one of the aliases on the way point at a mailbox"});
    }
    for (const auto& d : walk.dangling) {
      problems_.push_back({false, where(e.line),
                           e.alias + " points at " + d +
                               ", which is no user, alias or catch-all here: that copy is "
                               "dropped",
                           "create the user (postern user add " + d + ") or fix the target"});
    }
  }
  // With no users and no aliases nothing is delivered here at all (the
  // users-file lints say so); the warning is for a server that takes mail.
  if (postmaster_.empty() && !aliases_.empty()) {
    problems_.push_back({false, aliases_name_,
                         "postmaster@ has nowhere to go (no users and no [addresses] postmaster); "
                         "RFC 5321 §4.5.1 requires it",
                         "set [addresses] postmaster = \"you@example.com\""});
  }
}

bool AddressBook::is_local_domain(std::string_view domain) const {
  const std::string d = strip_dot(policy::ascii_lower(domain));
  return std::find(domains_.begin(), domains_.end(), d) != domains_.end();
}

bool AddressBook::is_srs_domain(std::string_view domain) const {
  return !settings_.srs.secrets.empty() && !settings_.srs.domain.empty() &&
         strip_dot(policy::ascii_lower(domain)) == settings_.srs.domain;
}

bool AddressBook::is_user(std::string_view address) const {
  return std::binary_search(users_.begin(), users_.end(), policy::ascii_lower(address));
}

std::string AddressBook::canonical(std::string_view address) const {
  return canonical_address(address, settings_.default_domain);
}

const AliasEntry* AddressBook::find_alias(const std::string& key) const {
  auto it = std::lower_bound(aliases_.begin(), aliases_.end(), key,
                             [](const AliasEntry& e, const std::string& k) { return e.alias < k; });
  return it != aliases_.end() && it->alias == key ? &*it : nullptr;
}

std::optional<std::string> AddressBook::strip_tag(std::string_view local) const {
  if (settings_.recipient_delimiter.empty()) return std::nullopt;
  const auto pos = local.find_first_of(settings_.recipient_delimiter);
  // "+tag" alone (an empty base) is no subaddress of anything.
  if (pos == std::string_view::npos || pos == 0) return std::nullopt;
  return std::string(local.substr(0, pos));
}

void AddressBook::expand(std::string_view address, Walk& walk, std::size_t depth, std::string via,
                         std::chrono::system_clock::time_point now) const {
  if (walk.status != Status::deliver) return;
  const std::string canon = canonical(address);
  const auto [local, domain] = split(canon);
  auto step = [&](std::string text) {
    walk.steps.push_back(via.empty() ? text : via + "; " + text);
    if (depth == 0 && walk.first_reason.empty()) {
      walk.first_reason = text.substr(text.find(": ") + 2);
      walk.first_reason = walk.first_reason.substr(0, walk.first_reason.find(' '));
    }
  };
  auto pop = [&] { walk.steps.pop_back(); };

  if (is_srs_domain(domain) && is_srs_local_part(split(address).first)) {
    const SrsDecoded d = srs_reverse(settings_.srs, split(address).first, now);
    if (d.status != SrsStatus::ok) {
      walk.fail(Status::srs_invalid,
                std::string(address) + ": " + std::string(to_string(d.status)));
      return;
    }
    step(canon + ": srs (decoded to " + d.original + ")");
    expand(d.original, walk, depth + 1, {}, now);
    pop();
    return;
  }
  if (!is_local_domain(domain)) {
    // Remote targets keep their local part as written: only the remote
    // server knows whether its case matters (RFC 5321 §2.4).
    const auto [raw_local, raw_domain] = split(address);
    step(std::string(address) + ": remote");
    walk.add(raw_local + "@" + policy::ascii_lower(raw_domain), false);
    pop();
    return;
  }

  auto follow = [&](const AliasEntry& a, const std::string& reason) -> bool {
    if (std::find(walk.path.begin(), walk.path.end(), a.alias) != walk.path.end()) {
      std::string chain;
      for (const auto& p : walk.path) chain += p + " -> ";
      walk.fail(Status::loop, "alias loop: " + chain + a.alias);
      return true;
    }
    if (walk.path.size() >= kMaxAliasDepth) {
      walk.fail(Status::too_deep, "aliases nest deeper than " + std::to_string(kMaxAliasDepth) +
                                      " levels at " + a.alias);
      return true;
    }
    step(canon + ": " + reason + " (" + aliases_name_ + ":" + std::to_string(a.line) + ")");
    walk.path.push_back(a.alias);
    for (const auto& t : a.targets) {
      // "alice@x: alice@x, bob@y" keeps a copy in alice's own mailbox, as
      // with Postfix; it is no loop.
      if (canonical(t) == a.alias && is_user(a.alias)) {
        step(a.alias + ": user (own copy)");
        walk.add(a.alias, true);
        pop();
        continue;
      }
      expand(t, walk, depth + 1, {}, now);
    }
    walk.path.pop_back();
    pop();
    return true;
  };

  // 1-2: the address as written.
  if (const AliasEntry* a = find_alias(canon)) {
    follow(*a, "alias");
    return;
  }
  if (is_user(canon)) {
    step(canon + ": user (mailbox)");
    walk.add(canon, true);
    pop();
    return;
  }
  // 3: without the subaddress (RFC 5233 calls it a "detail").
  if (const auto base = strip_tag(local)) {
    const std::string b = *base + "@" + domain;
    if (const AliasEntry* a = find_alias(b)) {
      follow(*a, "plus-tag of " + b + ", alias");
      return;
    }
    if (is_user(b)) {
      step(canon + ": plus-tag of " + b + " (mailbox)");
      walk.add(b, true);
      pop();
      return;
    }
  }
  // 4: role addresses of every local domain.
  const std::string role_local = strip_tag(local).value_or(local);
  const std::string& role_target = role_local == "postmaster" ? postmaster_
                                   : role_local == "abuse"    ? settings_.abuse
                                                              : std::string();
  if (!role_target.empty() && canonical(role_target) != canon) {
    const std::string key = role_local + "@" + domain;
    if (std::find(walk.path.begin(), walk.path.end(), key) != walk.path.end()) {
      walk.fail(Status::loop, "role address loop at " + key);
      return;
    }
    step(canon + ": role (" + role_local + ", RFC " +
         (role_local == "postmaster" ? "5321 §4.5.1" : "2142") + ")");
    walk.path.push_back(key);
    expand(role_target, walk, depth + 1, {}, now);
    walk.path.pop_back();
    pop();
    return;
  }
  // 5: the domain's catch-all, only when nothing else matched.
  if (const AliasEntry* a = find_alias("@" + domain)) {
    follow(*a, "catch-all @" + domain);
    return;
  }
  if (depth > 0) walk.dangling.push_back(canon);
}

Resolution AddressBook::resolve(std::string_view address,
                                std::chrono::system_clock::time_point now) const {
  Resolution r;
  const auto [local, domain] = split(address);
  if (domain.empty()) {
    r.status = Status::unknown;
    r.detail = "no domain";
    return r;
  }
  if (!is_local_domain(domain) && !is_srs_domain(domain)) {
    r.status = Status::not_local;
    r.detail = domain + " is not a local domain";
    return r;
  }
  Walk walk;
  expand(address, walk, 0, {}, now);
  r.reason = walk.first_reason;
  if (walk.status != Status::deliver) {
    r.status = walk.status;
    r.detail = walk.detail;
    return r;
  }
  if (walk.targets.empty()) {
    r.status = Status::unknown;
    r.detail = walk.dangling.empty() ? "no user, alias or catch-all matches"
                                     : "every target leads nowhere";
    return r;
  }
  r.status = Status::deliver;
  r.targets = std::move(walk.targets);
  return r;
}

bool AddressBook::owns(std::string_view user, std::string_view address) const {
  const std::string u = canonical(user);
  const std::string a = canonical(address);
  if (u == a) return true;
  const auto [a_local, a_domain] = split(a);
  if (const auto base = strip_tag(a_local); base && *base + "@" + a_domain == u) return true;
  if (is_srs_domain(a_domain) && is_srs_local_part(a_local)) return false;
  const Resolution r = resolve(a, std::chrono::system_clock::time_point{});
  if (r.status != Status::deliver || r.reason == "catch-all") return false;
  for (const auto& t : r.targets) {
    if (t.local && t.address == u) return true;
  }
  return false;
}

std::string_view to_string(Status status) {
  switch (status) {
    case Status::deliver:
      return "deliver";
    case Status::unknown:
      return "unknown";
    case Status::not_local:
      return "not-local";
    case Status::srs_invalid:
      return "srs-invalid";
    case Status::loop:
      return "loop";
    case Status::too_deep:
      return "too-deep";
  }
  return "?";
}

}  // namespace postern::addresses
