#include "probe/diagnosis.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/text.hpp"

namespace postern::probe {
namespace {

std::string all_text(const smtp::client::ServerReply& reply) {
  std::string out;
  for (const std::string& line : reply.lines) out += line + " ";
  return ascii_lower(out);
}

// The option that selects a mode, as the user would type it.
std::string tls_option(TlsFound found) {
  switch (found) {
    case TlsFound::implicit:
      return "--tls implicit";
    case TlsFound::starttls:
      return "--tls starttls";
    case TlsFound::plaintext:
      return "--tls none";
    case TlsFound::unknown:
      break;
  }
  return "--tls auto";
}

std::string host_port(const ProbeResult& r) {
  const bool v6 = r.host.find(':') != std::string::npos;
  return (v6 ? "[" + r.host + "]" : r.host) + ":" + std::to_string(r.port);
}

}  // namespace

std::string mail_command(const std::string& sender, const std::vector<std::string>& recipients,
                         const std::optional<std::string>& message,
                         const smtp::client::Capabilities& caps) {
  smtp::client::MailParameters params;
  if (message) params.size = message->size();
  params.eight_bit = message && has_non_ascii(*message);
  bool utf8 = has_non_ascii(sender);
  for (const std::string& r : recipients) utf8 = utf8 || has_non_ascii(r);
  params.smtputf8 = utf8 && caps.smtputf8;
  return smtp::client::mail_from_command(sender, params, caps);
}

std::string enhanced_code(const smtp::client::ServerReply& reply) {
  if (reply.lines.empty()) return "";
  const std::vector<std::string> words = split_words(reply.lines.front());
  if (words.empty()) return "";
  const std::string& w = words.front();
  const bool shaped = w.size() >= 5 && std::isdigit(static_cast<unsigned char>(w[0])) &&
                      w[1] == '.' && std::count(w.begin(), w.end(), '.') == 2;
  return shaped ? w : "";
}

Diagnosis classify_banner(const smtp::client::ServerReply& reply) {
  if (reply.code == 220) return Diagnosis::ok;
  if (reply.code >= 400 && reply.code < 500) return Diagnosis::server_busy;
  if (reply.code >= 500 && reply.code < 600) return Diagnosis::banner_rejected;
  return Diagnosis::protocol_error;
}

Diagnosis classify_auth(const smtp::client::ServerReply& reply) {
  if (reply.code == 235) return Diagnosis::ok;
  // 530/538: the server wants TLS before AUTH (RFC 4954 §6).
  if (reply.code == 530 || reply.code == 538) return Diagnosis::auth_not_offered_before_tls;
  if (reply.code == 504) return Diagnosis::auth_mechanism_unsupported;
  if (reply.code >= 400 && reply.code < 500) return Diagnosis::auth_temporary;
  if (reply.code >= 500 && reply.code < 600) return Diagnosis::auth_failed;
  return Diagnosis::protocol_error;
}

Diagnosis classify_mail(const smtp::client::ServerReply& reply) {
  if (reply.code == 250) return Diagnosis::ok;
  if (reply.code >= 400 && reply.code < 500) return Diagnosis::temporary_rejection;
  if (reply.code >= 500 && reply.code < 600) return Diagnosis::sender_rejected;
  return Diagnosis::protocol_error;
}

Diagnosis classify_rcpt(const smtp::client::ServerReply& reply) {
  if (reply.code == 250 || reply.code == 251) return Diagnosis::ok;
  if (reply.code >= 400 && reply.code < 500) return Diagnosis::temporary_rejection;
  if (reply.code >= 500 && reply.code < 600) {
    // RFC 3463 5.7.1 "delivery not authorized" on RCPT is the relay refusal;
    // servers without enhanced codes say "relay" in words.
    const std::string text = all_text(reply);
    if (enhanced_code(reply) == "5.7.1" || text.find("relay") != std::string::npos) {
      return Diagnosis::relay_denied;
    }
    return Diagnosis::recipient_refused;
  }
  return Diagnosis::protocol_error;
}

Diagnosis classify_data(const smtp::client::ServerReply& reply) {
  if (reply.code == 250) return Diagnosis::ok;
  if (reply.code >= 400 && reply.code < 500) return Diagnosis::temporary_rejection;
  if (reply.code >= 500 && reply.code < 600) return Diagnosis::message_rejected;
  return Diagnosis::protocol_error;
}

std::string choose_mechanism(const std::vector<std::string>& offered) {
  for (const char* m : {"PLAIN", "LOGIN"}) {
    if (std::find(offered.begin(), offered.end(), m) != offered.end()) return m;
  }
  return "";
}

void explain(ProbeResult& r, const ProbeOptions& o) {
  const std::string where = host_port(r);
  std::string reply;
  if (!r.server_reply.empty()) {
    reply = " The server said: " + r.server_reply;
    if (!reply.ends_with('.')) reply += '.';
  }
  std::string& what = r.explanation;
  std::string& advice = r.advice;
  switch (r.diagnosis) {
    case Diagnosis::ok:
      what = "Every step worked.";
      advice = "";
      return;
    case Diagnosis::name_not_found:
      what = r.host + " does not resolve to an address" +
             (o.ipv4_only   ? " (IPv4 only)"
              : o.ipv6_only ? " (IPv6 only)"
                            : "") +
             ": the name does not exist or has no A/AAAA record.";
      advice = "Check the spelling of the host name (the provider's documentation names it)";
      advice += o.ipv4_only || o.ipv6_only ? ", or drop --ipv4/--ipv6." : ".";
      return;
    case Diagnosis::dns_failure:
      what = "The DNS lookup for " + r.host +
             " failed (no answer or SERVFAIL): the resolver, "
             "not the name, is the problem.";
      advice =
          "Check /etc/resolv.conf and that this machine can reach its DNS server; try again "
          "later, or give an IP address instead of the name.";
      return;
    case Diagnosis::connect_timeout:
      what = "Nothing answered the connection to " + where +
             " before the timeout: a firewall or "
             "an egress filter drops the packets.";
      if (r.port == 25) {
        what +=
            " Outgoing port 25 is blocked by most ISPs and clouds (AWS, GCP, Azure, home "
            "connections) to stop spam.";
        advice =
            "For sending as a client use port 587 (STARTTLS) or 465 (implicit TLS): "
            "`postern probe " +
            r.host + ":587`.";
      } else {
        advice =
            "Check the firewall on both sides and the host's security group; try port 2525 "
            "if the provider offers it, or run `postern probe " +
            r.host + "` to try every submission port.";
      }
      return;
    case Diagnosis::connect_refused:
      what = "The connection to " + where +
             " was refused: the host is up but nothing listens "
             "on that port (or a firewall rejects it).";
      advice = "Check the port number; run `postern probe " + r.host +
               "` (no port) to try 587, 465, 2525 and 25.";
      return;
    case Diagnosis::network_unreachable:
      what = "There is no route to " + where + " from this machine.";
      advice = r.address.find(':') != std::string::npos
                   ? "This machine may lack IPv6 connectivity: try --ipv4."
                   : "Check this machine's network connection and routes.";
      return;
    case Diagnosis::banner_timeout:
      what = "The TCP connection to " + where +
             " opened, but the server said nothing, and a TLS "
             "handshake got no answer either.";
      advice =
          "The server may be overloaded or a proxy in between holds the connection; try a "
          "longer --timeout, or another port.";
      return;
    case Diagnosis::expects_implicit_tls:
      what =
          "This port speaks implicit TLS (as port 465 does): the server waits for a TLS "
          "handshake and never greets in plaintext.";
      advice = "Use --tls implicit (or --tls auto).";
      return;
    case Diagnosis::expects_plaintext:
      if (r.tls_found == TlsFound::plaintext) {
        what = "This port greets in plaintext (\"" + r.banner +
               "\") and offers no STARTTLS: "
               "a TLS handshake as the first thing cannot work.";
        advice = "Use --tls none (only on a trusted network), or another port with TLS.";
      } else {
        what =
            "This port speaks STARTTLS (as port 587 does): the server greets in plaintext "
            "first" +
            (r.banner.empty() ? "" : " (\"" + r.banner + "\")") +
            " and only upgrades to TLS after the STARTTLS command.";
        advice = "Use --tls starttls (or --tls auto).";
      }
      return;
    case Diagnosis::server_busy:
      what = "The server refused the session for now." + reply;
      advice = "Wait and try again; if it persists, this IP may be rate-limited or listed.";
      return;
    case Diagnosis::banner_rejected:
      what = "The server refuses to talk to this machine." + reply;
      advice =
          "The server does not accept connections from this IP (a blocklist or a policy): "
          "read its text, or use the provider's submission port with credentials.";
      return;
    case Diagnosis::ehlo_rejected:
      what = "The server rejected the EHLO greeting." + reply;
      advice =
          "Some servers want a fully qualified name in EHLO; this machine's hostname is "
          "used.";
      return;
    case Diagnosis::starttls_not_offered:
      if (o.tls == TlsChoice::automatic) {
        what =
            "The server greets in plaintext and does not offer STARTTLS: the password would "
            "travel unencrypted.";
        advice = "Use the port that offers TLS (try `postern probe " + r.host +
                 "`), or --tls none if you accept plaintext on a trusted network.";
      } else {
        what = "The server does not offer STARTTLS on this port.";
        advice = "Try --tls implicit (port 465) or --tls auto; `postern probe " + r.host +
                 "` tries every submission port.";
      }
      return;
    case Diagnosis::tls_handshake_failed:
      what = "The TLS handshake with " + where + " failed" +
             (r.server_reply.empty() ? "." : ": " + r.server_reply);
      advice =
          "The server and this machine share no TLS version or cipher, or something in "
          "between breaks TLS; compare with `openssl s_client -connect " +
          where +
          (o.tls == TlsChoice::implicit || r.tls_found == TlsFound::implicit ? "`."
                                                                             : " -starttls smtp`.");
      return;
    case Diagnosis::certificate_expired:
      what = "The server's certificate expired on " + r.certificate.not_after + ".";
      advice =
          "The server's administrator must renew it (e.g. check that certbot's renewal "
          "runs and the server reloads it).";
      return;
    case Diagnosis::certificate_not_yet_valid:
      what = "The server's certificate is valid only from " + r.certificate.not_before + ".";
      advice = "Check this machine's clock, then the server's certificate.";
      return;
    case Diagnosis::certificate_self_signed:
      what = "The server's certificate is self-signed (" + r.certificate.subject +
             "): nothing vouches for it, so clients cannot tell it from an impostor.";
      advice =
          "Install a certificate from a public CA (e.g. Let's Encrypt) on the server, or, "
          "for a private server, pass its certificate with --ca-file FILE.";
      return;
    case Diagnosis::certificate_name_mismatch:
      what = "The server's certificate does not cover the name " + r.host + "; it covers: " +
             (r.certificate.names.empty() ? "no name" : join(r.certificate.names, ", ")) + ".";
      advice = r.certificate.names.empty()
                   ? "The server needs a certificate issued for " + r.host + "."
                   : "Connect with one of the names it covers (e.g. `postern probe " +
                         r.certificate.names.front() + ":" + std::to_string(r.port) +
                         "`), or get a certificate for " + r.host + ".";
      return;
    case Diagnosis::certificate_untrusted:
      what = r.certificate.present
                 ? "The server's certificate does not chain to a trusted CA (" +
                       r.certificate.verify_error +
                       "): the server may not send its intermediate certificates, or it uses a "
                       "private CA."
                 : "The server sent no certificate.";
      advice =
          "If the server uses a private CA, pass it with --ca-file FILE; otherwise the "
          "server must send its full chain (fullchain.pem, not cert.pem).";
      return;
    case Diagnosis::auth_not_offered_before_tls:
      what =
          "The server offers AUTH only after STARTTLS, which is right on a submission port: "
          "passwords must not travel in plaintext.";
      advice = r.starttls_offered || r.port == 587 ? "Use --tls starttls (or --tls auto)."
                                                   : "Use --tls implicit or --tls starttls.";
      if (!r.server_reply.empty()) what += reply;
      return;
    case Diagnosis::auth_not_offered:
      what =
          "The server does not offer AUTH on this port: it is a relay (MX) port, not a "
          "submission port.";
      advice =
          "Submit with credentials on port 587 (STARTTLS) or 465 (implicit TLS); port 25 "
          "is for server-to-server relay.";
      return;
    case Diagnosis::auth_mechanism_unsupported:
      what = "The server offers no mechanism postern can use (PLAIN or LOGIN); it offers: " +
             (r.auth_mechanisms.empty() ? std::string("none") : join(r.auth_mechanisms, " ")) +
             "." + reply;
      advice =
          "Use a client that supports one of the offered mechanisms (e.g. XOAUTH2 for "
          "Gmail or Microsoft 365 with OAuth), or enable PLAIN/LOGIN on the server.";
      return;
    case Diagnosis::auth_failed:
      what = "The server refused the credentials for " + o.user.value_or("") + "." + reply +
             " Offered mechanisms: " +
             (r.auth_mechanisms.empty() ? std::string("none") : join(r.auth_mechanisms, " ")) + ".";
      advice =
          "Check the user name (often the full address) and the password; providers with "
          "2FA (Gmail, iCloud, Yahoo) need an app password, and Microsoft 365 needs SMTP "
          "AUTH enabled for the mailbox.";
      return;
    case Diagnosis::auth_temporary:
      what = "The server could not check the credentials right now." + reply;
      advice = "Wait and try again; repeated failures may have slowed or locked this client.";
      return;
    case Diagnosis::sender_rejected:
      what = "The server refused the sender " + o.mail_from.value_or("<>") + "." + reply;
      if (r.server_reply.starts_with("530")) {
        advice = "The server wants authentication before MAIL: add --user and --password-stdin.";
      } else {
        advice = o.user ? "Use a sender address the account " + *o.user +
                              " owns (--from), or an alias the provider lets it send as."
                        : "Authenticate with --user to send as this address, or use an address "
                          "the server accepts.";
      }
      return;
    case Diagnosis::relay_denied:
      what =
          "The server refuses to relay to this recipient: it is not one of its own domains "
          "and this client is not allowed to relay." +
          reply;
      advice = o.user ? "This account may not send to outside domains here; check its rights."
                      : "Authenticate (--user, on port 587 or 465) to send to other domains; "
                        "port 25 accepts only mail for the server's own domains.";
      return;
    case Diagnosis::recipient_refused:
      what = "The server refused the recipient." + reply;
      advice = "Check the recipient address (--to); the mailbox may not exist.";
      return;
    case Diagnosis::temporary_rejection:
      what = "The server answered with a temporary failure." + reply;
      advice =
          "Wait and try again (greylisting or a rate limit does this); a real mail server "
          "retries on its own.";
      return;
    case Diagnosis::message_rejected:
      what = "The server refused the message after reading it." + reply;
      advice =
          "Read the server's text: content filters, size limits and DMARC/SPF policies "
          "refuse at this point.";
      return;
    case Diagnosis::protocol_error:
      what = "The server answered something that does not fit the SMTP dialogue" +
             (r.server_reply.empty() ? std::string(".") : ": " + r.server_reply);
      advice = "Check that " + where + " is an SMTP port; run with -v to see the transcript (" +
               tls_option(r.tls_found) + ").";
      return;
  }
}

}  // namespace postern::probe
