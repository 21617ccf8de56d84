#include "smtp/client_commands.hpp"

#include <algorithm>
#include <charconv>

#include "core/text.hpp"
#include "sasl/sasl.hpp"

namespace postern::smtp::client {

Capabilities parse_capabilities(const ServerReply& reply) {
  Capabilities caps;
  caps.esmtp = true;
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    std::string line = ascii_upper(reply.lines[i]);
    // Some old servers announce "AUTH=PLAIN LOGIN" besides "AUTH PLAIN LOGIN".
    if (line.starts_with("AUTH=")) line[4] = ' ';
    const std::vector<std::string> words = split_words(line);
    if (words.empty()) continue;
    const std::string& keyword = words[0];
    if (keyword == "PIPELINING") {
      caps.pipelining = true;
    } else if (keyword == "SIZE") {
      caps.size = true;
      if (words.size() > 1) {
        std::size_t limit = 0;
        const auto [p, ec] =
            std::from_chars(words[1].data(), words[1].data() + words[1].size(), limit);
        if (ec == std::errc() && p == words[1].data() + words[1].size()) caps.size_limit = limit;
      }
    } else if (keyword == "STARTTLS") {
      caps.starttls = true;
    } else if (keyword == "8BITMIME") {
      caps.eightbitmime = true;
    } else if (keyword == "SMTPUTF8") {
      caps.smtputf8 = true;
    } else if (keyword == "DSN") {
      caps.dsn = true;
    } else if (keyword == "AUTH") {
      for (std::size_t w = 1; w < words.size(); ++w) {
        if (std::find(caps.auth.begin(), caps.auth.end(), words[w]) == caps.auth.end())
          caps.auth.push_back(words[w]);
      }
    }
  }
  return caps;
}

bool offers(const Capabilities& caps, std::string_view mechanism) {
  return std::find(caps.auth.begin(), caps.auth.end(), mechanism) != caps.auth.end();
}

std::string mail_from_command(std::string_view sender, const MailParameters& params,
                              const Capabilities& caps) {
  std::string cmd = "MAIL FROM:<" + std::string(sender) + ">";
  if (caps.size && params.size) cmd += " SIZE=" + std::to_string(*params.size);
  if (params.eight_bit && caps.eightbitmime) cmd += " BODY=8BITMIME";
  if (params.smtputf8) cmd += " SMTPUTF8";
  if (caps.dsn) {
    if (!params.dsn_ret.empty()) cmd += " RET=" + params.dsn_ret;
    if (!params.dsn_envid.empty()) cmd += " ENVID=" + params.dsn_envid;
  }
  return cmd;
}

std::string rcpt_to_command(const Recipient& recipient, const Capabilities& caps) {
  std::string cmd = "RCPT TO:<" + recipient.address + ">";
  if (caps.dsn) {
    if (!recipient.notify.empty()) cmd += " NOTIFY=" + recipient.notify;
    if (!recipient.orcpt.empty()) cmd += " ORCPT=" + recipient.orcpt;
  }
  return cmd;
}

std::string auth_plain_command(std::string_view user, std::string_view password) {
  std::string response;
  response += '\0';
  response += user;
  response += '\0';
  response += password;
  return "AUTH PLAIN " + sasl::base64_encode(response);
}

}  // namespace postern::smtp::client
