// Known providers' submission endpoints. Each entry cites the provider's own
// page; ports are listed preferred first with the TLS mode the page gives
// (STARTTLS, RFC 3207, or implicit TLS, RFC 8314 §3.3).
#include "probe/presets.hpp"

#include <algorithm>
#include <cctype>

#include "core/text.hpp"

namespace postern::probe {
namespace {

constexpr TlsChoice kStarttls = TlsChoice::starttls;
constexpr TlsChoice kImplicit = TlsChoice::implicit;

std::vector<Preset> build() {
  std::vector<Preset> all;
  // https://support.google.com/mail/answer/7126229 (smtp.gmail.com, 465 SSL, 587 TLS)
  all.push_back({"gmail",
                 {"google", "googlemail"},
                 "smtp.gmail.com",
                 {{587, kStarttls}, {465, kImplicit}},
                 "https://support.google.com/mail/answer/7126229",
                 "needs an app password when 2-step verification is on",
                 false,
                 {},
                 {}});
  // https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365
  // (SMTP AUTH client submission: smtp.office365.com, 587 STARTTLS)
  all.push_back({"office365",
                 {"microsoft365", "m365", "exchange-online"},
                 "smtp.office365.com",
                 {{587, kStarttls}},
                 "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/"
                 "how-to-set-up-a-multifunction-device-or-application-to-send-email-using-"
                 "microsoft-365-or-office-365",
                 "SMTP AUTH must be enabled for the mailbox",
                 false,
                 {},
                 {}});
  // https://support.microsoft.com/en-us/office/pop-imap-and-smtp-settings-for-outlook-com-d088b986-291d-42b8-9564-9c414e2aa040
  // (outlook.com / hotmail.com accounts: smtp-mail.outlook.com, 587 STARTTLS)
  all.push_back({"outlook",
                 {"hotmail", "live"},
                 "smtp-mail.outlook.com",
                 {{587, kStarttls}},
                 "https://support.microsoft.com/en-us/office/"
                 "pop-imap-and-smtp-settings-for-outlook-com-d088b986-291d-42b8-9564-9c414e2aa040",
                 "consumer outlook.com accounts; work accounts use office365",
                 false,
                 {},
                 {}});
  // https://help.yahoo.com/kb/SLN4724.html (smtp.mail.yahoo.com, 465 SSL or 587 TLS)
  all.push_back({"yahoo",
                 {"ymail"},
                 "smtp.mail.yahoo.com",
                 {{465, kImplicit}, {587, kStarttls}},
                 "https://help.yahoo.com/kb/SLN4724.html",
                 "needs an app password",
                 false,
                 {},
                 {}});
  // https://support.apple.com/en-us/102525 (smtp.mail.me.com, 587 STARTTLS)
  all.push_back({"icloud",
                 {"apple"},
                 "smtp.mail.me.com",
                 {{587, kStarttls}},
                 "https://support.apple.com/en-us/102525",
                 "needs an app-specific password",
                 false,
                 {},
                 {}});
  // https://docs.aws.amazon.com/ses/latest/dg/smtp-connect.html
  // (STARTTLS on 25, 587 and 2587; TLS Wrapper on 465 and 2465; EC2
  // throttles 25 by default)
  all.push_back(
      {"ses",
       {"amazon-ses", "aws-ses"},
       "email-smtp.{region}.amazonaws.com",
       {{587, kStarttls}, {2587, kStarttls}, {465, kImplicit}, {2465, kImplicit}, {25, kStarttls}},
       "https://docs.aws.amazon.com/ses/latest/dg/smtp-connect.html",
       "SMTP credentials are not the IAM access key; give the region: ses:eu-west-1",
       true,
       {},
       {}});
  // https://www.twilio.com/docs/sendgrid/for-developers/sending-email/integrating-with-the-smtp-api
  // (smtp.sendgrid.net, 25/587/2525 unencrypted or STARTTLS, 465 SSL)
  all.push_back({"sendgrid",
                 {"twilio-sendgrid"},
                 "smtp.sendgrid.net",
                 {{587, kStarttls}, {2525, kStarttls}, {465, kImplicit}, {25, kStarttls}},
                 "https://www.twilio.com/docs/sendgrid/for-developers/sending-email/"
                 "integrating-with-the-smtp-api",
                 "user is the literal string apikey, the password an API key",
                 false,
                 {},
                 {}});
  // https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/send-smtp
  // (smtp.mailgun.org, EU smtp.eu.mailgun.org; 25, 587, 2525 STARTTLS, 465 SSL)
  all.push_back({"mailgun",
                 {},
                 "smtp.mailgun.org",
                 {{587, kStarttls}, {2525, kStarttls}, {465, kImplicit}, {25, kStarttls}},
                 "https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/"
                 "send-smtp",
                 "EU domains: mailgun:eu",
                 false,
                 {{"eu", "smtp.eu.mailgun.org"}, {"us", "smtp.mailgun.org"}},
                 {}});
  // https://postmarkapp.com/developer/user-guide/send-email-with-smtp
  // (smtp.postmarkapp.com, ports 25, 2525 or 587, STARTTLS)
  all.push_back({"postmark",
                 {},
                 "smtp.postmarkapp.com",
                 {{587, kStarttls}, {2525, kStarttls}, {25, kStarttls}},
                 "https://postmarkapp.com/developer/user-guide/send-email-with-smtp",
                 "user and password are both the server API token",
                 false,
                 {},
                 {}});
  // https://dev.mailjet.com/smtp-relay/configuration/
  // (in-v3.mailjet.com, 587 or 25 STARTTLS, 465 SSL)
  all.push_back({"mailjet",
                 {},
                 "in-v3.mailjet.com",
                 {{587, kStarttls}, {465, kImplicit}, {25, kStarttls}},
                 "https://dev.mailjet.com/smtp-relay/configuration/",
                 "user is the API key, password the secret key",
                 false,
                 {},
                 {}});
  // https://developers.sparkpost.com/api/smtp/
  // (smtp.sparkpostmail.com, EU smtp.eu.sparkpostmail.com; 587 or 2525, STARTTLS)
  all.push_back({"sparkpost",
                 {},
                 "smtp.sparkpostmail.com",
                 {{587, kStarttls}, {2525, kStarttls}},
                 "https://developers.sparkpost.com/api/smtp/",
                 "user SMTP_Injection, password an API key; EU accounts: sparkpost:eu",
                 false,
                 {{"eu", "smtp.eu.sparkpostmail.com"}, {"us", "smtp.sparkpostmail.com"}},
                 {}});
  // https://help.mailtrap.io/article/63-smtp-integration
  // (live.smtp.mailtrap.io, 587/2525/25 STARTTLS, 465 SSL)
  all.push_back({"mailtrap",
                 {},
                 "live.smtp.mailtrap.io",
                 {{587, kStarttls}, {2525, kStarttls}, {465, kImplicit}, {25, kStarttls}},
                 "https://help.mailtrap.io/article/63-smtp-integration",
                 "user api, password an API token (sending, not the testing sandbox)",
                 false,
                 {},
                 {}});
  // https://www.zoho.com/mail/help/zoho-smtp.html (smtp.zoho.com, 465 SSL,
  // 587 TLS; accounts in other data centres use smtp.zoho.eu, .in, ...)
  all.push_back({"zoho",
                 {"zohomail"},
                 "smtp.zoho.com",
                 {{587, kStarttls}, {465, kImplicit}},
                 "https://www.zoho.com/mail/help/zoho-smtp.html",
                 "use the host of your account's data centre: zoho:eu, zoho:in, zoho:au, "
                 "zoho:jp; paid domain accounts use smtppro",
                 false,
                 {{"us", "smtp.zoho.com"},
                  {"eu", "smtp.zoho.eu"},
                  {"in", "smtp.zoho.in"},
                  {"au", "smtp.zoho.com.au"},
                  {"jp", "smtp.zoho.jp"},
                  {"ca", "smtp.zohocloud.ca"},
                  {"sa", "smtp.zoho.sa"}},
                 {}});
  return all;
}

bool all_of(std::string_view s, int (*pred)(int)) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [pred](unsigned char c) { return pred(c) != 0; });
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = build();
  return all;
}

bool valid_aws_region(std::string_view region) {
  // partition-area[-more]-number: "eu-west-1", "ap-southeast-5", "us-gov-west-1".
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = region.find('-', start);
    parts.push_back(region.substr(start, dash == std::string_view::npos ? dash : dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  if (parts.size() < 3 || parts.size() > 4) return false;
  if (parts.front().size() != 2 || !all_of(parts.front(), islower)) return false;
  for (std::size_t i = 1; i + 1 < parts.size(); ++i)
    if (!all_of(parts[i], islower)) return false;
  return parts.back().size() <= 2 && all_of(parts.back(), isdigit);
}

namespace {

// "gmail:465": that port only, with the documented TLS mode when listed.
void keep_port(Preset& p, std::uint16_t port) {
  const auto it = std::find_if(p.ports.begin(), p.ports.end(),
                               [port](const PresetPort& pp) { return pp.port == port; });
  p.ports = {it != p.ports.end() ? *it : PresetPort{port, TlsChoice::automatic}};
}

std::optional<std::uint16_t> port_number(const std::string& text) {
  if (text.size() > 5 || !all_of(text, isdigit)) return std::nullopt;
  const unsigned long n = std::stoul(text);
  if (n == 0 || n > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(n);
}

}  // namespace

std::optional<Preset> find_preset(std::string_view text, std::string& why) {
  why.clear();
  // name[:region][:port]
  std::string name = ascii_lower(text);
  std::optional<std::uint16_t> port;
  if (const std::size_t last = name.rfind(':'); last != std::string::npos) {
    if (const auto p = port_number(name.substr(last + 1))) {
      port = p;
      name.resize(last);
    }
  }
  const std::size_t colon = name.find(':');
  const std::string base = name.substr(0, colon);
  const std::string region = colon == std::string::npos ? "" : name.substr(colon + 1);
  for (const Preset& p : presets()) {
    const bool match =
        p.name == base || std::find(p.aliases.begin(), p.aliases.end(), base) != p.aliases.end();
    if (!match) continue;
    Preset out = p;
    if (p.needs_region) {
      if (region.empty()) {
        why = p.name + " needs a region after a colon, e.g. " + p.name + ":eu-west-1";
        return std::nullopt;
      }
      if (!valid_aws_region(region)) {
        why = "\"" + region + "\" is not an AWS region name (like eu-west-1 or us-east-2)";
        return std::nullopt;
      }
      const std::size_t at = out.host.find("{region}");
      out.host.replace(at, std::string_view("{region}").size(), region);
      out.region = region;
    } else if (!region.empty()) {
      const auto r = std::find_if(p.regional_hosts.begin(), p.regional_hosts.end(),
                                  [&region](const RegionalHost& h) { return h.region == region; });
      if (r == p.regional_hosts.end()) {
        why = p.name + " has no region \"" + region + "\"";
        if (!p.regional_hosts.empty()) {
          why += " (known:";
          for (const RegionalHost& h : p.regional_hosts) why += " " + h.region;
          why += ")";
        }
        return std::nullopt;
      }
      out.host = r->host;
      out.region = region;
    }
    if (port) keep_port(out, *port);
    return out;
  }
  return std::nullopt;
}

}  // namespace postern::probe
