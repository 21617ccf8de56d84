#include "dns_records/record_check.hpp"

#include <algorithm>
#include <cctype>

#include "dns_records/tag_list.hpp"
#include "mailauth/spf/evaluator.hpp"
#include "mailauth/spf/ip_address.hpp"
#include "mailauth/spf/record.hpp"

namespace postern::dns_records {

using mailauth::Answer;
using mailauth::AnswerStatus;
using mailauth::Question;
using mailauth::RrType;
using mailauth::spf::IpAddress;

const char* status_name(Status status) {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::warning:
      return "warning";
    case Status::fail:
      return "fail";
  }
  return "?";
}

namespace {

std::string lowercase(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string without_space(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

bool same_address(const std::string& a, const std::string& b) {
  const auto x = IpAddress::parse(a);
  const auto y = IpAddress::parse(b);
  return x && y && *x == *y;
}

bool contains_address(const std::vector<std::string>& list, const std::string& address) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& a) { return same_address(a, address); });
}

class Checker {
 public:
  Checker(const ServerIdentity& server, const Lookup& lookup) : s_(server), lookup_(lookup) {}

  std::vector<Finding> run() {
    check_mx();
    check_host_addresses();
    check_spf();
    for (const auto& key : s_.dkim) check_dkim(key);
    check_dmarc();
    for (const auto& address : s_.addresses) check_ptr(address);
    return std::move(out_);
  }

 private:
  Answer ask(const std::string& name, RrType type) {
    std::string n = lowercase(name);
    while (!n.empty() && n.back() == '.') n.pop_back();
    return lookup_(Question{n, type});
  }

  void add(Kind kind, Status status, std::string code, std::string message, std::string fix = {}) {
    Finding f;
    f.kind = kind;
    f.status = status;
    f.code = std::move(code);
    f.message = std::move(message);
    f.fix = std::move(fix);
    out_.push_back(std::move(f));
  }

  // A lookup that failed says nothing about the record: report it as such.
  void lookup_failed(Kind kind, const std::string& what) {
    add(kind, Status::fail, "lookup_failed",
        "could not look up " + what + ": the DNS server did not answer or answered SERVFAIL",
        "run the check again; if it persists, check the domain's name servers");
  }

  std::string publish(Kind kind) const {
    for (const auto& r : required_records(s_)) {
      if (r.kind == kind) return "publish: " + zone_line(r, false);
    }
    return {};
  }

  // The hostname's addresses (A and AAAA), asked once.
  const std::vector<std::string>& host_addresses() {
    if (!host_addresses_) {
      host_addresses_.emplace();
      host_lookup_failed_ = false;
      for (RrType t : {RrType::a, RrType::aaaa}) {
        const Answer a = ask(s_.hostname, t);
        if (a.status == AnswerStatus::temporary_failure) host_lookup_failed_ = true;
        for (const auto& r : a.records) host_addresses_->push_back(r);
      }
    }
    return *host_addresses_;
  }

  // The addresses SPF must cover and PTR must exist for: the configured or
  // detected ones, else what the hostname resolves to.
  std::vector<std::string> our_addresses() {
    return s_.addresses.empty() ? host_addresses() : s_.addresses;
  }

  void check_mx() {
    const Answer mx = ask(s_.domain, RrType::mx);
    if (mx.status == AnswerStatus::temporary_failure)
      return lookup_failed(Kind::mx, "the MX of " + s_.domain);
    if (mx.status == AnswerStatus::nxdomain) {
      return add(Kind::mx, Status::fail, "domain_missing",
                 s_.domain + " does not exist in DNS (NXDOMAIN)",
                 "check the spelling, that the domain is registered and delegated to your DNS "
                 "provider, then " +
                     publish(Kind::mx));
    }
    std::vector<std::string> hosts;
    for (const auto& h : mx.records) {
      std::string n = lowercase(h);
      while (!n.empty() && n.back() == '.') n.pop_back();
      if (!n.empty()) hosts.push_back(n);
    }
    if (hosts.empty()) {
      return add(Kind::mx, Status::fail, "mx_missing",
                 s_.domain +
                     " has no MX record: other servers do not know where to deliver its "
                     "mail",
                 publish(Kind::mx));
    }
    if (std::find(hosts.begin(), hosts.end(), lowercase(s_.hostname)) == hosts.end()) {
      return add(
          Kind::mx, Status::fail, "mx_elsewhere",
          "the MX of " + s_.domain + " points at " + join(hosts) + ", not at this server (" +
              s_.hostname + "): mail for " + s_.domain + " is delivered there",
          "if this server should receive it, " + publish(Kind::mx) + " (and remove the old MX)");
    }
    add(Kind::mx, Status::ok, "mx_ok", "the MX of " + s_.domain + " points at " + s_.hostname);
  }

  void check_host_addresses() {
    const auto& found = host_addresses();
    const Kind kind = Kind::a;
    if (found.empty()) {
      if (host_lookup_failed_) return lookup_failed(kind, "the address of " + s_.hostname);
      return add(kind, Status::fail, "address_missing",
                 s_.hostname +
                     " has no A or AAAA record: the MX and the PTR point at a name "
                     "that does not resolve",
                 s_.addresses.empty() ? "publish an A record for " + s_.hostname +
                                            " with this server's public address"
                                      : publish(Kind::a));
    }
    for (const auto& address : s_.addresses) {
      if (!contains_address(found, address)) {
        return add(kind, Status::fail, "address_mismatch",
                   s_.hostname + " resolves to " + join(found) + ", not to this server's address " +
                       address,
                   publish(IpAddress::parse(address) && IpAddress::parse(address)->v6 ? Kind::aaaa
                                                                                      : Kind::a));
      }
    }
    add(kind, Status::ok, "address_ok", s_.hostname + " resolves to " + join(found));
  }

  mailauth::spf::Verdict evaluate_spf(const std::string& ip) {
    mailauth::spf::Request r;
    r.ip = ip;
    r.sender = "postmaster@" + s_.domain;
    r.helo = s_.hostname;
    return mailauth::spf::evaluate(r, lookup_);
  }

  void check_spf() {
    const auto addresses = our_addresses();
    std::string ours;
    if (!addresses.empty()) ours = mailauth::spf::result_name(evaluate_spf(addresses[0]).result);
    const std::size_t before = out_.size();
    check_spf_records(addresses);
    for (std::size_t i = before; i < out_.size(); ++i) out_[i].spf_result = ours;
  }

  void check_spf_records(const std::vector<std::string>& addresses) {
    using mailauth::spf::Result;
    const Answer txt = ask(s_.domain, RrType::txt);
    if (txt.status == AnswerStatus::temporary_failure)
      return lookup_failed(Kind::spf, "the TXT records of " + s_.domain);
    std::vector<std::string> records;
    for (const auto& r : txt.records) {
      if (mailauth::spf::is_spf_record(r)) records.push_back(r);
    }
    if (records.empty()) {
      return add(Kind::spf, Status::fail, "spf_missing",
                 s_.domain +
                     " has no SPF record: receivers cannot tell which servers may send "
                     "its mail",
                 publish(Kind::spf));
    }
    if (records.size() > 1) {
      return add(Kind::spf, Status::fail, "spf_multiple",
                 s_.domain + " has " + std::to_string(records.size()) +
                     " SPF records; receivers treat that as an error (permerror, RFC 7208 "
                     "§4.5) and SPF fails for all of its mail",
                 "merge them into one TXT record, e.g. " + spf_record_for(s_));
    }
    // The walk a receiver makes for a forger: every term is looked at.
    const auto anyone = evaluate_spf(kNobodysAddress);
    if (report_spf_error(anyone)) return;
    // The IPv6 walk only looks for a pass (ip6:::/0): its errors, such as
    // void AAAA lookups, matter only to a server that sends over IPv6.
    const auto anyone_v6 = evaluate_spf(kNobodysIpv6Address);
    if (anyone.result == Result::pass || anyone_v6.result == Result::pass) {
      const bool v4 = anyone.result == Result::pass;
      return add(Kind::spf, Status::fail, "spf_allows_everyone",
                 "the SPF record of " + s_.domain + " lets any address send as " + s_.domain +
                     " (" + (v4 ? anyone : anyone_v6).reason + " for " +
                     (v4 ? kNobodysAddress : kNobodysIpv6Address) +
                     ", an address nobody owns): '+all' or an equivalent",
                 "end the record with -all (or ~all) and list only your servers, e.g. " +
                     spf_record_for(s_));
    }
    if (!s_.smarthost.empty()) {
      return add(Kind::spf, Status::warning, "spf_smarthost",
                 "mail leaves through the smarthost " + s_.smarthost +
                     ", so SPF must cover the provider's servers, not this one",
                 "add the include: term from the provider's documentation to the SPF record");
    }
    if (addresses.empty()) {
      return add(Kind::spf, Status::warning, "spf_unchecked",
                 "this server's address is unknown, so SPF coverage was not checked",
                 "give it with --address IP");
    }
    for (const auto& address : addresses) {
      const auto v = evaluate_spf(address);
      if (report_spf_error(v)) return;
      if (v.result != Result::pass) {
        std::string why = v.reason;
        return add(Kind::spf, Status::fail, "spf_not_covering",
                   "the SPF record of " + s_.domain + " does not cover this server's address " +
                       address + ": receivers get '" + mailauth::spf::result_name(v.result) +
                       "' (" + why + ")",
                   "add " + std::string(IpAddress::parse(address)->v6 ? "ip6:" : "ip4:") +
                       IpAddress::parse(address)->text() + " before the all term, e.g. " +
                       spf_record_for(s_));
      }
    }
    add(Kind::spf, Status::ok, "spf_ok",
        "the SPF record of " + s_.domain + " passes for " + join(addresses));
  }

  // permerror and temperror, named by their cause; true when reported.
  bool report_spf_error(const mailauth::spf::Verdict& v) {
    using mailauth::spf::Result;
    if (v.result == Result::temperror) {
      lookup_failed(Kind::spf,
                    "a name the SPF record of " + s_.domain + " needs (" + v.reason + ")");
      return true;
    }
    if (v.result != Result::permerror) return false;
    if (v.dns_lookups > mailauth::spf::kMaxDnsLookups) {
      add(Kind::spf, Status::fail, "spf_too_many_lookups",
          "the SPF record of " + s_.domain +
              " needs more than 10 DNS lookups; receivers stop "
              "there and treat it as an error (permerror): " +
              v.reason,
          "replace include:, a and mx terms by ip4:/ip6: ranges, or drop includes you no longer "
          "use");
    } else {
      add(Kind::spf, Status::fail, "spf_invalid",
          "the SPF record of " + s_.domain + " is an error for receivers (permerror): " + v.reason,
          "fix it, e.g. " + spf_record_for(s_));
    }
    return true;
  }

  void check_dkim(const DkimPublication& key) {
    const std::string name = key.selector + "._domainkey." + s_.domain;
    const std::string value_fix = "publish one TXT record at " + name +
                                  " with this value (a registrar's form takes it as one string; "
                                  "`postern dns` shows the zone-file form): " +
                                  key.value;
    const Answer txt = ask(name, RrType::txt);
    if (txt.status == AnswerStatus::temporary_failure) return lookup_failed(Kind::dkim, name);
    if (txt.records.empty()) {
      return add(Kind::dkim, Status::fail, "dkim_missing",
                 "no DKIM record at " + name +
                     ": receivers cannot verify the signatures made "
                     "with " +
                     key.key_file,
                 value_fix);
    }
    for (const auto& r : txt.records) {
      if (r.find('"') != std::string::npos) {
        return add(Kind::dkim, Status::fail, "dkim_split_wrongly",
                   "the DKIM record at " + name +
                       " contains quote characters: the zone-file "
                       "quoting was pasted into the value, so the key cannot be read",
                   value_fix);
      }
    }
    if (txt.records.size() > 1) {
      return add(Kind::dkim, Status::fail, "dkim_split_wrongly",
                 "the DKIM key at " + name + " is split over " +
                     std::to_string(txt.records.size()) +
                     " separate TXT records; it must be one record (made of several strings if "
                     "it is long), or verifiers read only a piece of it",
                 value_fix);
    }
    const auto tags = parse_tag_list(txt.records[0]);
    const std::string* p = tags ? find_tag(*tags, "p") : nullptr;
    const std::string* v = tags ? find_tag(*tags, "v") : nullptr;
    if (!tags || p == nullptr || (v != nullptr && (*v != "DKIM1" || tags->front().first != "v"))) {
      return add(Kind::dkim, Status::fail, "dkim_invalid",
                 "the TXT record at " + name + " is not a valid DKIM key record (RFC 6376 §3.6.1)",
                 value_fix);
    }
    const auto ours_tags = parse_tag_list(key.value);
    const std::string* ours_p = ours_tags ? find_tag(*ours_tags, "p") : nullptr;
    const std::string theirs = without_space(*p);
    const std::string ours = ours_p ? without_space(*ours_p) : std::string();
    if (theirs.empty()) {
      return add(Kind::dkim, Status::fail, "dkim_revoked",
                 "the DKIM record at " + name + " has an empty p=: the key is revoked", value_fix);
    }
    if (theirs == ours) {
      return add(Kind::dkim, Status::ok, "dkim_ok",
                 "the DKIM record at " + name + " matches " + key.key_file);
    }
    if (theirs.size() < ours.size() && ours.compare(0, theirs.size(), theirs) == 0) {
      return add(Kind::dkim, Status::fail, "dkim_truncated",
                 "the DKIM key at " + name + " is cut short: " + std::to_string(theirs.size()) +
                     " of its " + std::to_string(ours.size()) +
                     " characters are published (a form that keeps only 255 characters, or a "
                     "split that lost a piece)",
                 value_fix);
    }
    add(Kind::dkim, Status::fail, "dkim_key_mismatch",
        "the DKIM record at " + name + " does not match the key in " + key.key_file +
            ": signatures made with it will fail",
        value_fix);
  }

  void check_dmarc() {
    const std::string name = "_dmarc." + s_.domain;
    const Answer txt = ask(name, RrType::txt);
    if (txt.status == AnswerStatus::temporary_failure) return lookup_failed(Kind::dmarc, name);
    // RFC 7489 §6.6.3: records not starting with "v=DMARC1" are ignored.
    std::vector<std::string> records;
    for (const auto& r : txt.records) {
      if (r.rfind("v=DMARC1", 0) == 0) records.push_back(r);
    }
    if (records.empty()) {
      if (!txt.records.empty()) {
        return add(Kind::dmarc, Status::fail, "dmarc_invalid",
                   "the TXT record at " + name +
                       " is not a DMARC record: it must start with "
                       "\"v=DMARC1\"",
                   publish(Kind::dmarc));
      }
      return add(Kind::dmarc, Status::fail, "dmarc_missing",
                 "no DMARC record at " + name + ": large mailbox providers require one",
                 publish(Kind::dmarc));
    }
    if (records.size() > 1) {
      return add(Kind::dmarc, Status::fail, "dmarc_invalid",
                 name + " has " + std::to_string(records.size()) +
                     " DMARC records; receivers then ignore DMARC for the domain (RFC 7489 "
                     "§6.6.3)",
                 "keep one: " + dmarc_record_for(s_.domain));
    }
    const std::string why = dmarc_problem(records[0]);
    if (!why.empty()) {
      return add(Kind::dmarc, Status::fail, "dmarc_invalid",
                 "the DMARC record at " + name + " cannot be used: " + why, publish(Kind::dmarc));
    }
    const auto tags = parse_tag_list(records[0]);
    const std::string policy = *find_tag(*tags, "p");
    if (policy == "none") {
      return add(Kind::dmarc, Status::warning, "dmarc_policy_none",
                 "the DMARC policy of " + s_.domain +
                     " is p=none: receivers report but protect "
                     "nothing yet",
                 "once the aggregate reports show only your own servers passing, change it to "
                 "p=quarantine");
    }
    add(Kind::dmarc, Status::ok, "dmarc_ok",
        "the DMARC policy of " + s_.domain + " is p=" + policy);
  }

  // RFC 7489 §6.3: v=DMARC1 first, p= required with a known policy; the
  // optional tags whose values are checked have the same rule.
  static std::string dmarc_problem(const std::string& record) {
    const auto tags = parse_tag_list(record);
    if (!tags) return "it is not a list of tag=value pairs separated by ';'";
    if (tags->front().first != "v" || tags->front().second != "DMARC1") {
      return "\"v=DMARC1\" must come first";
    }
    auto policy_ok = [](const std::string& p) {
      return p == "none" || p == "quarantine" || p == "reject";
    };
    const std::string* p = find_tag(*tags, "p");
    if (p == nullptr) return "the policy tag p= is missing";
    if (!policy_ok(*p)) return "p=" + *p + " is not none, quarantine or reject";
    if (const std::string* sp = find_tag(*tags, "sp"); sp && !policy_ok(*sp)) {
      return "sp=" + *sp + " is not none, quarantine or reject";
    }
    for (const char* align : {"adkim", "aspf"}) {
      if (const std::string* a = find_tag(*tags, align); a && *a != "r" && *a != "s") {
        return std::string(align) + "=" + *a + " is not r or s";
      }
    }
    if (const std::string* pct = find_tag(*tags, "pct")) {
      const bool digits = !pct->empty() && pct->size() <= 3 &&
                          pct->find_first_not_of("0123456789") == std::string::npos;
      if (!digits || std::stoi(*pct) > 100) return "pct=" + *pct + " is not a number from 0 to 100";
    }
    return {};
  }

  void check_ptr(const std::string& address) {
    const std::string reverse = reverse_name(address);
    if (reverse.empty()) return;
    const std::string fix = "set the reverse DNS (PTR) of " + address + " to " + s_.hostname +
                            " in the panel of the provider the address comes from";
    const Answer ptr = ask(reverse, RrType::ptr);
    if (ptr.status == AnswerStatus::temporary_failure)
      return lookup_failed(Kind::ptr, "the PTR of " + address);
    std::vector<std::string> names;
    for (const auto& n : ptr.records) {
      std::string x = lowercase(n);
      while (!x.empty() && x.back() == '.') x.pop_back();
      names.push_back(x);
    }
    if (names.empty()) {
      return add(Kind::ptr, Status::fail, "ptr_missing",
                 address +
                     " has no PTR (reverse DNS) record: many receivers refuse mail from "
                     "such addresses",
                 fix);
    }
    if (std::find(names.begin(), names.end(), lowercase(s_.hostname)) == names.end()) {
      return add(Kind::ptr, Status::fail, "ptr_mismatch",
                 "the PTR of " + address + " is " + join(names) + ", not " + s_.hostname, fix);
    }
    if (!contains_address(host_addresses(), address)) {
      return add(Kind::ptr, Status::fail, "ptr_not_confirmed",
                 "the PTR of " + address + " names " + s_.hostname + ", but " + s_.hostname +
                     " does not resolve back to " + address +
                     " (forward-confirmed reverse DNS fails)",
                 publish(IpAddress::parse(address)->v6 ? Kind::aaaa : Kind::a));
    }
    add(Kind::ptr, Status::ok, "ptr_ok",
        "the PTR of " + address + " is " + s_.hostname + " and it resolves back");
  }

  const ServerIdentity& s_;
  const Lookup& lookup_;
  std::vector<Finding> out_;
  std::optional<std::vector<std::string>> host_addresses_;
  bool host_lookup_failed_ = false;
};

}  // namespace

std::vector<Finding> check_records(const ServerIdentity& server, const Lookup& lookup) {
  return Checker(server, lookup).run();
}

}  // namespace postern::dns_records
