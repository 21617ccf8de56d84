#include "config/suggest.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace postern::config {

// Damerau-Levenshtein (optimal string alignment): a swapped pair of letters,
// the commonest typo, counts as one edit.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const auto ca = std::tolower(static_cast<unsigned char>(a[i - 1]));
      const auto cb = std::tolower(static_cast<unsigned char>(b[j - 1]));
      const std::size_t cost = ca == cb ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::string nearest(std::string_view word, std::span<const std::string_view> candidates) {
  std::string best;
  std::size_t best_distance = 0;
  for (const auto c : candidates) {
    const std::size_t dist = edit_distance(word, c);
    if (best.empty() || dist < best_distance) {
      best = std::string(c);
      best_distance = dist;
    }
  }
  // A third of the longer word, at least 2: "hostnmae" -> "hostname", but
  // "port" is not a typo of "cert".
  const std::size_t limit = std::max<std::size_t>(2, std::max(word.size(), best.size()) / 3);
  if (best.empty() || best_distance > limit) return {};
  return best;
}

}  // namespace postern::config
