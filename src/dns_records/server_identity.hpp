// What postern knows about itself for one local domain: the facts the DNS
// records must state. Built from the configuration by the CLI; everything
// in this folder is pure and takes it as input.
#pragma once

#include <string>
#include <vector>

namespace postern::dns_records {

// One [[dkim]] key: its selector and the TXT value its public key gives
// ("v=DKIM1; k=ed25519; p=...").
struct DkimPublication {
  std::string selector;
  std::string value;
  std::string key_file;  // for messages ("the key in /etc/postern/dkim/...")
};

struct ServerIdentity {
  std::string domain;    // the local domain, lowercased A-label
  std::string hostname;  // the server's name (EHLO, MX target, PTR)
  // The public addresses mail leaves from and arrives at; empty when unknown
  // (then the A/AAAA, SPF and PTR records use the hostname's addresses).
  std::vector<std::string> addresses;
  std::vector<DkimPublication> dkim;
  // "[delivery] smarthost": mail leaves through it, so SPF must cover the
  // provider, not this server's address.
  std::string smarthost;
};

}  // namespace postern::dns_records
