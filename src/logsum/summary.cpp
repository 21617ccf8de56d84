#include "logsum/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "core/text.hpp"

namespace postern::logsum {
namespace {

// A bound on how many distinct keys a table keeps, so a log full of
// distinct junk cannot make the summary grow without limit.
constexpr std::size_t kMaxKeys = 100000;
// Reasons are grouped by their text, cut here (pflogsumm cuts too).
constexpr std::size_t kMaxReason = 120;

std::uint64_t number(std::string_view text) {
  std::uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return ec == std::errc() ? n : 0;
}

std::string reason_key(std::string_view reason) {
  std::string r(reason.substr(0, kMaxReason));
  return r.empty() ? "(no reason given)" : r;
}

template <typename Map>
typename Map::mapped_type* slot(Map& map, std::string key) {
  auto it = map.find(key);
  if (it != map.end()) return &it->second;
  if (map.size() >= kMaxKeys) return nullptr;
  return &map.emplace(std::move(key), typename Map::mapped_type{}).first->second;
}

}  // namespace

void SummaryBuilder::add_line(std::string_view line) {
  auto record = parse_log_line(line);
  if (!record) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (!line.empty()) ++summary_.other_lines;
    return;
  }
  add(*record);
}

void SummaryBuilder::add_text(std::string_view text) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    add_line(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
}

void SummaryBuilder::add(const LogRecord& r) {
  Summary& s = summary_;
  ++s.lines;
  if (!r.date.empty()) {
    if (s.first_date.empty()) s.first_date = r.date;
    s.last_date = r.date;
  }
  HourCounts* hour =
      r.hour >= 0 && r.hour < 24 ? &s.per_hour[static_cast<std::size_t>(r.hour)] : nullptr;
  const std::string_view id = r.field("id");
  if (r.event == "queued") {
    const std::uint64_t size = number(r.field("size"));
    ++s.received;
    s.bytes_received += size;
    if (hour) ++hour->received;
    if (!id.empty() && size_by_id_.size() < kMaxKeys) size_by_id_[std::string(id)] = size;
    std::string sender(strip_angles(r.field("from")));
    if (sender.empty()) sender = "<>";
    if (auto* t = slot(s.senders, std::move(sender))) {
      ++t->count;
      t->bytes += size;
    }
  } else if (r.event == "delivered") {
    std::uint64_t size = 0;
    if (auto it = size_by_id_.find(id); it != size_by_id_.end()) size = it->second;
    ++s.delivered;
    s.bytes_delivered += size;
    if (hour) ++hour->delivered;
    if (auto* t = slot(s.recipients, std::string(strip_angles(r.field("to"))))) {
      ++t->count;
      t->bytes += size;
    }
  } else if (r.event == "deferred") {
    ++s.deferrals;
    if (hour) ++hour->deferred;
    if (!id.empty() && !deferred_ids_.count(id) && deferred_ids_.size() < kMaxKeys) {
      deferred_ids_[std::string(id)] = true;
      ++s.deferred_messages;
    }
    if (auto* n = slot(s.deferral_reasons, reason_key(r.field("reason")))) ++*n;
  } else if (r.event == "failed") {
    ++s.bounced;
    if (hour) ++hour->bounced;
    if (auto* n = slot(s.bounce_reasons, reason_key(r.field("reply")))) ++*n;
  } else if (r.event == "reject") {
    ++s.rejected;
    if (hour) ++hour->rejected;
    std::string_view why = r.field("reply");
    if (why.empty()) why = r.field("reason");
    if (auto* n = slot(s.reject_reasons, reason_key(why))) ++*n;
  } else if (r.event == "auth" && r.field("result") == "failed") {
    ++s.auth_failures;
    if (auto* n = slot(s.auth_failures_by_client, std::string(r.field("client")))) ++*n;
  } else if (r.event == "connect") {
    ++s.connections;
  }
}

namespace {

// 1234567 -> "1206k" as pflogsumm shows sizes; small values stay exact.
std::string size_text(std::uint64_t bytes) {
  if (bytes < 1024 * 10) return std::to_string(bytes);
  if (bytes < 1024ull * 1024 * 10) return std::to_string(bytes / 1024) + "k";
  return std::to_string(bytes / (1024 * 1024)) + "m";
}

void heading(std::string& out, std::string_view title) {
  out += fmt::format("\n{}\n{}\n", title, std::string(title.size(), '-'));
}

void top_traffic(std::string& out, std::string_view title, const std::map<std::string, Traffic>& m,
                 bool by_size, std::size_t top) {
  heading(out, title);
  if (m.empty()) {
    out += "none\n";
    return;
  }
  std::vector<std::pair<std::string, Traffic>> rows(m.begin(), m.end());
  std::stable_sort(rows.begin(), rows.end(), [by_size](const auto& a, const auto& b) {
    return by_size ? a.second.bytes > b.second.bytes : a.second.count > b.second.count;
  });
  for (std::size_t i = 0; i < rows.size() && i < top; ++i) {
    out += fmt::format("{:>8} {:>8}   {}\n", rows[i].second.count, size_text(rows[i].second.bytes),
                       printable(rows[i].first));
  }
}

void top_counts(std::string& out, std::string_view title,
                const std::map<std::string, std::uint64_t>& m, std::size_t top) {
  heading(out, title);
  if (m.empty()) {
    out += "none\n";
    return;
  }
  std::vector<std::pair<std::string, std::uint64_t>> rows(m.begin(), m.end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (std::size_t i = 0; i < rows.size() && i < top; ++i) {
    out += fmt::format("{:>8}   {}\n", rows[i].second, printable(rows[i].first));
  }
}

}  // namespace

std::string render_summary(const Summary& s, const RenderOptions& o) {
  std::string out = "postern log summary";
  if (!s.first_date.empty()) {
    out += " (" + printable(s.first_date);
    if (s.last_date != s.first_date) out += " to " + printable(s.last_date);
    out += ")";
  }
  out += "\n";
  heading(out, "Grand totals");
  out += fmt::format("{:>8}   received\n", s.received);
  out += fmt::format("{:>8}   delivered\n", s.delivered);
  out += fmt::format("{:>8}   deferred  ({} deferrals)\n", s.deferred_messages, s.deferrals);
  out += fmt::format("{:>8}   bounced\n", s.bounced);
  out += fmt::format("{:>8}   rejected\n", s.rejected);
  out += "\n";
  out += fmt::format("{:>8}   bytes received\n", size_text(s.bytes_received));
  out += fmt::format("{:>8}   bytes delivered\n", size_text(s.bytes_delivered));
  out += fmt::format("{:>8}   senders\n", s.senders.size());
  out += fmt::format("{:>8}   recipients\n", s.recipients.size());
  out += fmt::format("{:>8}   connections\n", s.connections);
  out += fmt::format("{:>8}   AUTH failures\n", s.auth_failures);

  heading(out, "Per-hour traffic");
  out += "    time      received  delivered  deferred  bounced  rejected\n";
  for (std::size_t h = 0; h < s.per_hour.size(); ++h) {
    const HourCounts& c = s.per_hour[h];
    out += fmt::format("    {:02}00-{:02}00  {:>8}  {:>9}  {:>8}  {:>7}  {:>8}\n", h, h + 1,
                       c.received, c.delivered, c.deferred, c.bounced, c.rejected);
  }
  top_traffic(out, "Senders by message count", s.senders, false, o.top);
  top_traffic(out, "Senders by message size", s.senders, true, o.top);
  top_traffic(out, "Recipients by message count", s.recipients, false, o.top);
  top_traffic(out, "Recipients by message size", s.recipients, true, o.top);
  top_counts(out, "Message deferral detail", s.deferral_reasons, o.top);
  top_counts(out, "Message bounce detail", s.bounce_reasons, o.top);
  top_counts(out, "Message reject detail", s.reject_reasons, o.top);
  top_counts(out, "AUTH failures by client", s.auth_failures_by_client, o.top);
  if (s.lines == 0) {
    out += "\nNo postern log lines found";
    if (s.other_lines > 0) out += fmt::format(" ({} other lines)", s.other_lines);
    out += ".\n";
  }
  return out;
}

std::string summarize(std::string_view log_text) {
  SummaryBuilder builder;
  builder.add_text(log_text);
  return render_summary(builder.summary());
}

}  // namespace postern::logsum
