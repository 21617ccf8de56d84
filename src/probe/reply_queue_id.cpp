#include "probe/reply_queue_id.hpp"

#include <cctype>
#include <vector>

#include "core/text.hpp"

namespace postern::probe {
namespace {

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Drops punctuation a server wraps an id in: "(4Xk2)", "4Xk2.", "[id]".
std::string trim_id(std::string_view w) {
  while (!w.empty() && (w.front() == '(' || w.front() == '[' || w.front() == '"')) {
    w.remove_prefix(1);
  }
  while (!w.empty() && (w.back() == ')' || w.back() == ']' || w.back() == '.' || w.back() == ',' ||
                        w.back() == ';' || w.back() == '"')) {
    w.remove_suffix(1);
  }
  return std::string(w);
}

// The text after a leading "250" and an enhanced status code (RFC 3463).
std::string_view strip_codes(std::string_view text) {
  std::vector<std::string_view> w = words(text);
  std::size_t skip = 0;
  if (!w.empty() && w[0].size() == 3 && std::isdigit(static_cast<unsigned char>(w[0][0]))) {
    skip = 1;
  }
  if (w.size() > skip && w[skip].size() >= 5 && w[skip][1] == '.' &&
      std::isdigit(static_cast<unsigned char>(w[skip][0]))) {
    ++skip;
  }
  if (skip == 0 || w.size() <= skip) return skip == 0 ? text : std::string_view();
  return text.substr(static_cast<std::size_t>(w[skip].data() - text.data()));
}

// An id looks like a token of letters, digits and a few separators.
bool plausible_id(std::string_view w) {
  if (w.size() < 4) return false;
  for (char c : w) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_' &&
        c != '@' && c != '<' && c != '>' && c != '=' && c != '+' && c != '/') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string find_queue_id(std::string_view reply_text) {
  const std::string low = ascii_lower(reply_text);
  const std::vector<std::string_view> w = words(reply_text);
  const std::vector<std::string_view> lw = words(low);

  // "queued as X" (postern, Postfix and many others).
  for (std::size_t i = 0; i + 2 < lw.size(); ++i) {
    if (lw[i] == "queued" && lw[i + 1] == "as") return trim_id(w[i + 2]);
  }
  // Exim: "id=X".
  for (std::size_t i = 0; i < lw.size(); ++i) {
    if (lw[i].starts_with("id=") && lw[i].size() > 3) return trim_id(w[i].substr(3));
  }
  // Exchange: the Message-ID in angle brackets before "Queued mail for delivery".
  if (low.find("queued mail for delivery") != std::string::npos) {
    for (std::string_view word : w) {
      if (word.size() > 2 && word.front() == '<' && word.back() == '>') return std::string(word);
    }
  }
  // Gmail: "... <timestamp> <id> - gsmtp".
  for (std::size_t i = 1; i + 1 < lw.size(); ++i) {
    if (lw[i] == "-" && lw[i + 1] == "gsmtp") return trim_id(w[i - 1]);
  }
  // Sendmail: "<id> Message accepted for delivery".
  for (std::size_t i = 1; i + 2 < lw.size(); ++i) {
    if (lw[i] == "message" && lw[i + 1] == "accepted") {
      const std::string id = trim_id(w[i - 1]);
      if (plausible_id(id) && id.find('.') != 1) return id;
    }
  }
  // qmail: "ok <timestamp> qp <number>".
  for (std::size_t i = 0; i + 1 < lw.size(); ++i) {
    if (lw[i] == "qp") return trim_id(w[i + 1]);
  }
  // Amazon SES and others: "Ok <id>" and nothing else.
  const std::vector<std::string_view> rest = words(strip_codes(reply_text));
  if (rest.size() == 2 && ascii_lower(rest[0]) == "ok" && plausible_id(rest[1]) &&
      rest[1].size() >= 12) {
    return trim_id(rest[1]);
  }
  return "";
}

}  // namespace postern::probe
