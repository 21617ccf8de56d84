// What pflogsumm prints for Postfix, from postern's own log lines: totals
// (received, delivered, deferred, bounced, rejected), top senders and
// recipients by count and by size, deferral, bounce and reject reasons,
// traffic per hour of the day, and AUTH failures by client. Pure: fed
// lines, it counts; render_summary() turns the counts into the report.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "logsum/log_record.hpp"

namespace postern::logsum {

struct Traffic {
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
};

struct HourCounts {
  std::uint64_t received = 0, delivered = 0, deferred = 0, bounced = 0, rejected = 0;
};

struct Summary {
  std::uint64_t lines = 0;        // postern lines read
  std::uint64_t other_lines = 0;  // lines that were not postern's
  std::uint64_t received = 0;     // messages queued (SMTP and sendmail)
  std::uint64_t bytes_received = 0;
  std::uint64_t delivered = 0;  // recipient deliveries
  std::uint64_t bytes_delivered = 0;
  std::uint64_t deferrals = 0;          // deferred attempts
  std::uint64_t deferred_messages = 0;  // distinct messages deferred at least once
  std::uint64_t bounced = 0;            // recipients failed for good
  std::uint64_t rejected = 0;           // refusals during SMTP sessions
  std::uint64_t auth_failures = 0;
  std::uint64_t connections = 0;
  std::map<std::string, Traffic> senders;     // by envelope sender ("<>" for the null sender)
  std::map<std::string, Traffic> recipients;  // by delivered recipient
  std::map<std::string, std::uint64_t> deferral_reasons;
  std::map<std::string, std::uint64_t> bounce_reasons;
  std::map<std::string, std::uint64_t> reject_reasons;
  std::map<std::string, std::uint64_t> auth_failures_by_client;
  std::array<HourCounts, 24> per_hour{};
  std::string first_date, last_date;
};

class SummaryBuilder {
 public:
  void add_line(std::string_view line);
  void add(const LogRecord& record);
  // Every line of `text` (a whole file's contents).
  void add_text(std::string_view text);
  const Summary& summary() const { return summary_; }

 private:
  Summary summary_;
  std::map<std::string, std::uint64_t, std::less<>> size_by_id_;  // queue id -> size
  std::map<std::string, bool, std::less<>> deferred_ids_;
};

struct RenderOptions {
  std::size_t top = 10;  // rows per "top" table
};

std::string render_summary(const Summary& summary, const RenderOptions& options = {});

// The fuzz target's entry point: any bytes in, a report out, never a crash.
std::string summarize(std::string_view log_text);

}  // namespace postern::logsum
