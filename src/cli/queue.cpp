// `postern queue list|show|flush|delete|hold|release`: inspects and acts on
// the spool. `list` and `show` read the spool files directly (read-only), so
// they work whether or not the server runs; the other actions ask the
// running server through <data_dir>/control.sock, because only the server
// may change the queue while it delivers from it.
//
// Exit status: 0 done; 1 failed (no such message, spool unreadable,
// configuration unusable, the server refused); 2 usage errors; 3 the server
// is not running (flush/delete/hold/release only).
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "cli/config_source.hpp"
#include "cli/control_target.hpp"
#include "control/control_client.hpp"
#include "control/control_protocol.hpp"
#include "control/message_text.hpp"
#include "core/text.hpp"
#include "delivery/destination.hpp"
#include "spool/spool.hpp"

namespace postern::cli {
namespace {

using Clock = std::chrono::system_clock;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNotRunning = 3;

// A change may wait for a delivery attempt of that message to end (it is
// never applied half-way through one); attempts are bounded by the outbound
// timeouts, so this is generous.
constexpr std::chrono::minutes kChangeTimeout{10};
constexpr std::chrono::seconds kFlushTimeout{30};

struct QueueOptions {
  std::string action;
  std::string config_path;
  std::vector<std::string> ids;
  // delete/hold/release by selection instead of ids (postsuper -d ALL)
  bool all = false;
  std::string sender;     // envelope sender, or @domain
  std::string recipient;  // a recipient, or @domain
  bool json = false;
  bool body = false;
};

std::string_view state_name(spool::RecipientState s) {
  switch (s) {
    case spool::RecipientState::pending:
      return "pending";
    case spool::RecipientState::delivered:
      return "delivered";
    case spool::RecipientState::failed:
      return "failed";
  }
  return "pending";
}

// "45s", "12m", "3h", "2d": how operators read queue ages.
std::string short_duration(std::chrono::seconds d) {
  const long long s = std::max<long long>(0, d.count());
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m", s / 60);
  if (s < 86400) return fmt::format("{}h", s / 3600);
  return fmt::format("{}d", s / 86400);
}

std::string iso_time(Clock::time_point t) {
  return fmt::format(
      "{:%Y-%m-%dT%H:%M:%SZ}",
      fmt::gmtime(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count()));
}

std::string next_attempt_text(const spool::QueuedMessage& m, Clock::time_point now) {
  if (m.held) return "held";
  if (m.next_attempt <= now) return "due";
  return "in " +
         short_duration(std::chrono::duration_cast<std::chrono::seconds>(m.next_attempt - now));
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += fmt::format("\\u{:04x}", u);
        } else {
          out += c;  // UTF-8 passes through as is (RFC 8259 §7)
        }
    }
  }
  return out + "\"";
}

std::string message_json(const spool::QueuedMessage& m, Clock::time_point now) {
  std::string out = "{";
  out += "\"id\":" + json_string(m.id);
  out += ",\"arrival\":" + json_string(iso_time(m.arrival));
  out += fmt::format(",\"age_seconds\":{}",
                     std::chrono::duration_cast<std::chrono::seconds>(now - m.arrival).count());
  out += fmt::format(",\"size\":{}", m.size);
  out += ",\"sender\":" + json_string(m.envelope.mail_from);
  out += fmt::format(",\"held\":{}", m.held ? "true" : "false");
  out += ",\"next_attempt\":" + json_string(iso_time(m.next_attempt));
  out += ",\"recipients\":[";
  for (std::size_t i = 0; i < m.recipients.size(); ++i) {
    const auto& r = m.recipients[i];
    if (i > 0) out += ",";
    out += "{\"address\":" + json_string(r.recipient.address);
    out += ",\"state\":" + json_string(state_name(r.state));
    out += fmt::format(",\"attempts\":{}", r.attempts);
    out += ",\"last_reply\":" + json_string(spool::last_reply_text(r));
    out += fmt::format(",\"bounce_owed\":{}}}", r.bounce_owed ? "true" : "false");
  }
  out += "]}";
  return out;
}

std::string sender_text(const spool::QueuedMessage& m) {
  return "<" + printable(m.envelope.mail_from) + ">";
}

// Opens the spool read-only; prints why not and returns null when it cannot.
std::unique_ptr<spool::Spool> open_spool(const config::Config& config, bool& missing) {
  missing = false;
  const auto dir = config.spool_dir();
  std::error_code ec;
  if (!std::filesystem::exists(dir / "queue", ec) && !ec) {
    missing = true;
    return nullptr;
  }
  spool::SpoolOptions options;
  options.read_only = true;
  try {
    return spool::Spool::open(dir, options);
  } catch (const std::system_error& e) {
    std::cerr << "postern queue: cannot read the spool " << dir.string() << ": "
              << e.code().message()
              << (e.code() == std::errc::permission_denied
                      ? " (run this as the user postern runs as, or as root)"
                      : "")
              << "\n";
    return nullptr;
  }
}

// Per destination (as the scheduler counts them, delivery/destination.hpp):
// how many recipients wait, when the next try is, and the reason the most
// recently tried one gave. A destination the server has marked dead shows
// here as its recipients' shared reason; the log says when it was marked.
void print_destinations(const config::Config& config,
                        const std::vector<spool::QueuedMessage>& messages, Clock::time_point now) {
  struct Row {
    std::size_t pending = 0;
    std::size_t held = 0;
    Clock::time_point next = Clock::time_point::max();
    std::string reason;
    int attempts = -1;
  };
  std::map<std::string, Row> rows;
  const bool smarthost = !config.delivery.smarthost.empty();
  for (const auto& m : messages) {
    for (const auto& r : m.recipients) {
      if (r.state != spool::RecipientState::pending) continue;
      Row& row =
          rows[delivery::destination_for(r.recipient.address, config.local_domains, smarthost)];
      ++row.pending;
      if (m.held) {
        ++row.held;
        continue;
      }
      row.next = std::min(row.next, m.next_attempt);
      if (!r.last_reply.empty() && r.attempts >= row.attempts) {
        row.attempts = r.attempts;
        row.reason = spool::last_reply_text(r);
      }
    }
  }
  if (rows.empty()) return;
  std::cout << fmt::format("\n{:<28}  {:>7}  {:<8}  {}\n", "DESTINATION", "PENDING", "NEXT",
                           "LAST REASON");
  for (const auto& [name, row] : rows) {
    std::string next =
        row.held == row.pending ? "held"
        : row.next <= now
            ? "due"
            : "in " +
                  short_duration(std::chrono::duration_cast<std::chrono::seconds>(row.next - now));
    std::cout << fmt::format("{:<28}  {:>7}  {:<8}  {}\n", printable(name), row.pending, next,
                             printable(row.reason.substr(0, 120)));
  }
}

// What the running server's scheduler has in flight and which destinations
// it considers dead (STATUS on the control socket); nothing when it does
// not run.
void print_scheduler(const config::Config& config) {
  const auto result =
      control::call(control_socket(config),
                    control::format_request(control::Request{control::Verb::status, {}, 0, 0}),
                    std::chrono::seconds(5));
  if (result.status != control::CallResult::Status::answered || !result.response.ok) return;
  std::cout << "\nin flight now (running server):\n";
  std::string_view text = result.response.text;
  while (!text.empty()) {
    const std::size_t end = text.find("; ");
    std::cout << "  " << printable(text.substr(0, end)) << "\n";
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 2);
  }
}

int run_list(const FoundConfig& found, const QueueOptions& o) {
  const config::Config& config = found.config;
  bool missing = false;
  auto spool = open_spool(config, missing);
  std::vector<spool::QueuedMessage> messages;
  if (spool) {
    messages = spool->list();
  } else if (!missing) {
    return kExitFailed;
  }
  if (found.choice.origin != ConfigChoice::Origin::option && !o.json) {
    // Which spool this is depends on where the configuration came from.
    std::cerr << "postern queue: spool " << config.spool_dir().string() << " from "
              << describe(found.choice) << "\n";
  }
  if (missing && found.choice.origin == ConfigChoice::Origin::embedded) {
    // Saying "empty" here would hide a real queue elsewhere: the operator
    // most likely ran this in a directory the server does not use.
    std::cerr << "postern queue: no configuration found (no --config, no $" << kConfigEnvironment
              << ", no " << kSystemConfig << ") and no spool at " << config.spool_dir().string()
              << "; name the server's configuration with --config FILE or $" << kConfigEnvironment
              << "\n";
    return kExitFailed;
  }
  std::sort(messages.begin(), messages.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });  // ids sort by arrival
  const auto now = Clock::now();
  if (o.json) {
    std::cout << "[";
    for (std::size_t i = 0; i < messages.size(); ++i) {
      std::cout << (i > 0 ? ",\n " : "") << message_json(messages[i], now);
    }
    std::cout << "]\n";
    return kExitOk;
  }
  if (missing) {
    std::cout << "The queue is empty (no spool at " << config.spool_dir().string() << " yet).\n";
    return kExitOk;
  }
  if (messages.empty()) {
    std::cout << "The queue is empty.\n";
    return kExitOk;
  }
  std::size_t pending = 0;
  std::cout << fmt::format("{:<16}  {:>5}  {:>9}  {:<8}  {}\n", "ID", "AGE", "SIZE", "NEXT",
                           "SENDER");
  for (const auto& m : messages) {
    std::cout << fmt::format(
        "{:<16}  {:>5}  {:>9}  {:<8}  {}\n", m.id,
        short_duration(std::chrono::duration_cast<std::chrono::seconds>(now - m.arrival)), m.size,
        next_attempt_text(m, now), sender_text(m));
    for (const auto& r : m.recipients) {
      if (r.state == spool::RecipientState::pending) ++pending;
      std::string line = fmt::format("    {:<9} attempts={:<2} {}", state_name(r.state), r.attempts,
                                     printable(r.recipient.address));
      if (!r.last_reply.empty()) line += "  (" + printable(spool::last_reply_text(r)) + ")";
      std::cout << line << "\n";
    }
  }
  print_destinations(config, messages, now);
  print_scheduler(config);
  std::cout << fmt::format("-- {} message(s), {} recipient(s) pending\n", messages.size(), pending);
  return kExitOk;
}

int run_show(const FoundConfig& found, const QueueOptions& o) {
  const config::Config& config = found.config;
  bool missing = false;
  auto spool = open_spool(config, missing);
  const std::string& id = o.ids.front();
  std::optional<spool::QueuedMessage> m;
  if (spool) m = spool->load(id);
  if (!m) {
    if (spool || missing) {
      std::cerr << "postern queue: no message " << id << " in the queue at "
                << config.spool_dir().string() << " (" << describe(found.choice) << ")\n";
    }
    return kExitFailed;
  }
  std::string data;
  const bool have_data = spool->read_data(id, data);
  const auto now = Clock::now();
  const auto& e = m->envelope;
  std::cout << "id:           " << m->id << "\n"
            << "arrival:      " << iso_time(m->arrival) << " ("
            << short_duration(std::chrono::duration_cast<std::chrono::seconds>(now - m->arrival))
            << " ago)\n"
            << "size:         " << m->size << " bytes\n"
            << "sender:       " << sender_text(*m) << "\n"
            << "held:         " << (m->held ? "yes" : "no") << "\n"
            << "next attempt: " << (m->held ? "none while held" : iso_time(m->next_attempt)) << " ("
            << next_attempt_text(*m, now) << ")\n"
            << "from client:  "
            << (e.client_ip.empty() ? std::string("local") : printable(e.client_ip))
            << (e.helo.empty() ? "" : " helo=" + printable(e.helo))
            << (e.auth_user.empty() ? "" : " user=" + printable(e.auth_user)) << "\n"
            << "recipients:\n";
  for (const auto& r : m->recipients) {
    std::cout << "  " << printable(r.recipient.address) << "\n"
              << "    state:    " << state_name(r.state) << ", attempts " << r.attempts << "\n";
    if (!r.last_reply.empty()) {
      std::cout << "    last:     " << printable(spool::last_reply_text(r)) << "\n";
    }
  }
  if (!have_data) {
    std::cout << "message: (cannot be read: gone meanwhile, or damaged)\n";
    return kExitOk;
  }
  const std::size_t header_end = control::header_section_end(data);
  std::string_view shown =
      o.body ? std::string_view(data) : std::string_view(data).substr(0, header_end);
  std::cout << (o.body ? "message:\n" : "headers:\n");
  // CRLF on disk; the terminal wants LF. Other control bytes stay out.
  std::string text;
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const char c = shown[i];
    if (c == '\r' && i + 1 < shown.size() && shown[i + 1] == '\n') continue;
    const auto u = static_cast<unsigned char>(c);
    text += (c == '\n' || c == '\t' || (u >= 0x20 && u != 0x7f)) ? c : '?';
  }
  std::cout << text;
  if (!o.body && header_end < data.size()) {
    std::cout << "(body: " << data.size() - header_end << " bytes; --body shows it)\n";
  }
  return kExitOk;
}

// Sends one request; prints the outcome. Returns the exit status.
int call_server(const config::Config& config, const control::Request& request,
                std::chrono::milliseconds timeout) {
  const auto result =
      control::call(control_socket(config), control::format_request(request), timeout);
  switch (result.status) {
    case control::CallResult::Status::not_running:
      std::cerr << "postern queue: " << not_running_text(config)
                << ". `postern queue list` and `show` work without it.\n";
      return kExitNotRunning;
    case control::CallResult::Status::failed:
      std::cerr << "postern queue: " << result.error << "\n";
      return kExitFailed;
    case control::CallResult::Status::answered:
      break;
  }
  if (!result.response.ok) {
    std::cerr << "postern queue: " << result.response.text << "\n";
    return kExitFailed;
  }
  std::cout << result.response.text << "\n";
  return kExitOk;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "alice@example.com" matches that address; "@example.com" every address
// in that domain. Case-insensitive, as operators type them.
bool address_matches(std::string_view address, const std::string& pattern) {
  const std::string a = lower(address);
  const std::string p = lower(pattern);
  if (p.starts_with("@")) return a.size() > p.size() && a.ends_with(p);
  return a == p;
}

bool selected(const spool::QueuedMessage& m, const QueueOptions& o) {
  if (!o.sender.empty() && !address_matches(m.envelope.mail_from, o.sender)) return false;
  if (!o.recipient.empty()) {
    return std::any_of(m.recipients.begin(), m.recipients.end(), [&](const auto& r) {
      return r.state == spool::RecipientState::pending &&
             address_matches(r.recipient.address, o.recipient);
    });
  }
  return true;
}

// The ids a selection (--all, --sender, --recipient) names, read from the
// spool as `list` does; the server then acts on each, so a message that is
// delivered meanwhile is simply reported as gone.
std::optional<std::vector<std::string>> select_ids(const FoundConfig& found,
                                                   const QueueOptions& o) {
  bool missing = false;
  auto spool = open_spool(found.config, missing);
  if (!spool && !missing) return std::nullopt;
  std::vector<std::string> ids;
  if (spool) {
    for (const auto& m : spool->list()) {
      if (selected(m, o)) ids.push_back(m.id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

int run_queue(const QueueOptions& o) {
  auto found = find_config("postern queue", o.config_path);
  if (!found) return kExitFailed;
  const config::Config& config = found->config;
  if (o.action == "list") return run_list(*found, o);
  if (o.action == "show") return run_show(*found, o);
  if (o.action == "flush") {
    return call_server(config, control::Request{control::Verb::flush, {}, 0, 0}, kFlushTimeout);
  }
  control::Verb verb = control::Verb::hold;
  if (o.action == "delete") verb = control::Verb::remove;
  if (o.action == "release") verb = control::Verb::release;
  const bool by_selection = o.all || !o.sender.empty() || !o.recipient.empty();
  if (by_selection == !o.ids.empty()) {
    std::cerr << "postern queue " << o.action << ": "
              << (by_selection ? "give either queue ids or --all/--sender/--recipient, not both"
                               : "name the messages: queue ids, --all, --sender ADDRESS or "
                                 "--recipient ADDRESS")
              << "\n";
    return kExitUsage;
  }
  if (o.all && (!o.sender.empty() || !o.recipient.empty())) {
    std::cerr << "postern queue " << o.action
              << ": --all cannot be combined with --sender or --recipient\n";
    return kExitUsage;
  }
  for (const auto& id : o.ids) {
    if (!control::is_wire_queue_id(id)) {
      std::cerr << "postern queue: " << printable(id) << " is not a queue id\n";
      return kExitUsage;
    }
  }
  std::vector<std::string> ids = o.ids;
  if (by_selection) {
    auto chosen = select_ids(*found, o);
    if (!chosen) return kExitFailed;
    ids = std::move(*chosen);
    if (ids.empty()) {
      std::cout << "postern queue " << o.action << ": no message matches (queue at "
                << config.spool_dir().string() << ", " << describe(found->choice) << ")\n";
      return kExitOk;
    }
  }
  int status = kExitOk;
  for (const auto& id : ids) {
    const int s = call_server(config, control::Request{verb, id, 0, 0}, kChangeTimeout);
    if (s == kExitNotRunning) return s;  // the same for every id
    if (s != kExitOk) status = s;
  }
  if (by_selection) {
    std::cout << "postern queue " << o.action << ": " << ids.size() << " message(s)\n";
  }
  return status;
}

}  // namespace

Command add_queue(CLI::App& app) {
  auto* sub = app.add_subcommand("queue", "Inspect and act on the mail queue");
  auto options = std::make_shared<QueueOptions>();
  sub->require_subcommand(1);
  add_config_option(*sub, options->config_path);
  auto add_action = [&](const char* name, const char* help) {
    auto* a = sub->add_subcommand(name, help);
    add_config_option(*a, options->config_path);
    a->callback([options, name] { options->action = name; });
    return a;
  };
  auto* list = add_action("list", "List queued messages (works without a running server)");
  list->add_flag("--json", options->json, "One JSON array, for scripts");
  auto* show = add_action("show", "Show one message: envelope, recipients, headers");
  show->add_option("id", options->ids, "Queue id")->required()->expected(1);
  show->add_flag("--body", options->body, "Show the whole message, not only its headers");
  add_action("flush", "Make every queued message (except held ones) due now");
  // The messages to act on: ids, or a selection (postsuper -d ALL).
  auto add_selection = [&](CLI::App* a) {
    a->add_option("ids", options->ids, "Queue ids");
    a->add_flag("--all", options->all, "Every message in the queue");
    a->add_option("--sender", options->sender, "Messages from this envelope sender (or @domain)");
    a->add_option("--recipient", options->recipient,
                  "Messages with this pending recipient (or @domain)");
  };
  add_selection(add_action("delete", "Delete messages from the queue (no bounce is sent)"));
  add_selection(add_action("hold", "Hold messages: no delivery until released"));
  add_selection(add_action("release", "Release held messages; they are due at once"));
  return {sub, [options] { return run_queue(*options); }};
}

}  // namespace postern::cli
