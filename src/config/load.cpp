// TOML -> typed Config (SPEC §2). Every problem is collected, each with
// file:line and a fix, so the operator sees all of them in one run
// (OpenSMTPD habit); nothing stops at the first error.
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <climits>

#include "config/duration.hpp"
#include "config/host_port.hpp"
#include "config/loader.hpp"
#include "config/suggest.hpp"
#include "core/durable_file.hpp"

namespace postern::config {
namespace {

namespace fs = std::filesystem;

}  // namespace

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number with a fraction";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

int line_of(const toml::node& node) {
  return static_cast<int>(node.source().begin.line);
}

bool is_hostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (const char c : name) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else {
      const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      if (!ok || (label == 0 && c == '-') || ++label > 63) return false;
    }
    prev = c;
  }
  return prev != '-' && prev != '.';
}

std::string port_hint(std::uint16_t port) {
  switch (port) {
    case 25:
      return "relay + starttls (port 25 is MTA-to-MTA)";
    case 465:
      return "submission + implicit (RFC 8314)";
    case 587:
    case 2525:
      return "submission + starttls-required (RFC 6409)";
    default:
      return "relay + starttls for servers, submission + starttls-required for clients";
  }
}

Loader::Loader(std::string source_name, fs::path base_dir, bool embedded)
    : source_name_(std::move(source_name)), base_dir_(std::move(base_dir)) {
  config_.embedded = embedded;
  if (!embedded) config_.source = source_name_;
}

LoadResult Loader::run(std::string_view text) {
  toml::table root;
  try {
    root = toml::parse(text, source_name_);
  } catch (const toml::parse_error& e) {
    const auto& pos = e.source().begin;
    add(Problem::Severity::error,
        source_name_ + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column),
        "TOML syntax error: " + std::string(e.description()),
        "fix the syntax at line " + std::to_string(pos.line) + ", column " +
            std::to_string(pos.column) +
            " (strings need double quotes, arrays [\"a\", \"b\"], tables [name], listeners "
            "[[listener]])");
    return finish();
  }
  check_keys(root, "", kTopKeys);
  load_top(root);
  load_tls(root);
  load_auth(root);
  load_listeners(root);
  load_limits(root);
  load_rate_limits(root);
  load_state(root);
  load_delivery(root);
  load_log(root);
  load_spool(root);
  load_service(root);
  load_metrics(root);
  load_inbound(root);
  load_dovecot(root);
  load_dkim(root);
  load_addresses(root);
  return finish();
}

std::string Loader::where(int line) const {
  return line > 0 ? source_name_ + ":" + std::to_string(line) : source_name_;
}

void Loader::add(Problem::Severity severity, std::string where_text, std::string message,
                 std::string fix) {
  if (severity == Problem::Severity::error) ++errors_;
  result_.problems.push_back({severity, std::move(where_text), std::move(message), std::move(fix)});
}

void Loader::error(int line, std::string message, std::string fix) {
  add(Problem::Severity::error, where(line), std::move(message), std::move(fix));
}

void Loader::note_line(const std::string& key, const toml::node& node) {
  config_.lines[key] = line_of(node);
}

LoadResult Loader::finish() {
  if (errors_ == 0) result_.config = std::move(config_);
  return std::move(result_);
}

// Unknown keys: a typo gets the nearest known key; a key that belongs in
// another table gets that table's name.
void Loader::check_keys(const toml::table& table, std::string_view section,
                        std::span<const std::string_view> known) {
  for (auto&& [key, node] : table) {
    (void)node;
    const std::string_view name = key.str();
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const int line = static_cast<int>(key.source().begin.line);
    const std::string full =
        section.empty() ? std::string(name) : std::string(section) + "." + std::string(name);
    std::string fix;
    for (const auto& s : kSections) {
      if (s.name == section) continue;
      if (std::find(s.keys.begin(), s.keys.end(), name) != s.keys.end()) {
        fix =
            "\"" + std::string(name) + "\" belongs in the [" + std::string(s.name) + "] table" +
            (s.name == "listener" || s.name == "dkim" ? " (a [[" + std::string(s.name) + "]] entry)"
                                                      : "");
        break;
      }
    }
    if (const std::string near = nearest(name, known); fix.empty() && !near.empty()) {
      fix = "did you mean \"" + near + "\"?";
    }
    if (fix.empty()) {
      std::string list;
      for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fix = "remove it; known keys " +
            (section.empty() ? std::string("at the top level")
                             : "in [" + std::string(section) + "]") +
            ": " + list;
    }
    error(line, "unknown key \"" + full + "\"", fix);
  }
}

// Typed lookups: nullptr/nullopt when absent; a type error is reported
// and also yields nullopt.
const toml::node* Loader::find(const toml::table& t, std::string_view key) const {
  return t.get(key);
}

std::optional<std::string> Loader::get_string(const toml::table& t, std::string_view key,
                                              const std::string& full, std::string_view example) {
  const toml::node* n = find(t, key);
  if (!n) return std::nullopt;
  note_line(full, *n);
  if (const auto* s = n->as_string()) return s->get();
  error(line_of(*n), full + " must be a string, found " + std::string(type_name(*n)),
        "write it in double quotes, e.g. " + std::string(key) + " = " + std::string(example));
  return std::nullopt;
}

std::optional<bool> Loader::get_bool(const toml::table& t, std::string_view key,
                                     const std::string& full) {
  const toml::node* n = find(t, key);
  if (!n) return std::nullopt;
  note_line(full, *n);
  if (const auto* b = n->as_boolean()) return b->get();
  error(
      line_of(*n), full + " must be true or false, found " + std::string(type_name(*n)),
      "write " + std::string(key) + " = true or " + std::string(key) + " = false (without quotes)");
  return std::nullopt;
}

std::optional<std::int64_t> Loader::get_int(const toml::table& t, std::string_view key,
                                            const std::string& full, std::int64_t min,
                                            std::int64_t max) {
  const toml::node* n = find(t, key);
  if (!n) return std::nullopt;
  note_line(full, *n);
  const auto* i = n->as_integer();
  const std::string range =
      "use a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (!i) {
    error(line_of(*n), full + " must be an integer, found " + std::string(type_name(*n)),
          range + ", without quotes");
    return std::nullopt;
  }
  if (i->get() < min || i->get() > max) {
    error(line_of(*n), full + " = " + std::to_string(i->get()) + " is out of range", range);
    return std::nullopt;
  }
  return i->get();
}

const toml::table* Loader::get_table(const toml::table& root, std::string_view key) {
  const toml::node* n = find(root, key);
  if (!n) return nullptr;
  if (const auto* t = n->as_table()) return t;
  error(line_of(*n), std::string(key) + " must be a table, found " + std::string(type_name(*n)),
        "write it as a [" + std::string(key) + "] section");
  return nullptr;
}

std::optional<std::vector<std::pair<std::string, int>>> Loader::get_string_array(
    const toml::table& t, std::string_view key, std::string_view example) {
  const toml::node* n = find(t, key);
  if (!n) return std::nullopt;
  note_line(std::string(key), *n);
  const auto* arr = n->as_array();
  if (!arr) {
    error(line_of(*n),
          std::string(key) + " must be an array of strings, found " + std::string(type_name(*n)),
          "write it as " + std::string(key) + " = " + std::string(example));
    return std::nullopt;
  }
  std::vector<std::pair<std::string, int>> out;
  for (const auto& item : *arr) {
    const int line = line_of(item) > 0 ? line_of(item) : line_of(*n);
    if (const auto* s = item.as_string()) {
      out.emplace_back(s->get(), line);
    } else {
      error(line,
            std::string(key) + " must contain only strings, found " + std::string(type_name(item)),
            "write it as " + std::string(key) + " = " + std::string(example));
    }
  }
  return out;
}

fs::path Loader::resolve(const std::string& p) const {
  fs::path path(p);
  if (path.is_relative()) path = base_dir_ / path;
  return path.lexically_normal();
}

// A duration key: "90s", "5m", "1h30m", "5d", or an integer of seconds,
// within [min, max]. Absent or wrong: nullopt (wrong is reported).
std::optional<std::chrono::seconds> Loader::get_duration(const toml::table& t, std::string_view key,
                                                         const std::string& full,
                                                         std::chrono::seconds min,
                                                         std::chrono::seconds max,
                                                         std::string_view example) {
  const toml::node* n = find(t, key);
  if (!n) return std::nullopt;
  note_line(full, *n);
  const std::string fix = "write a duration from " + duration_text(min) + " to " +
                          duration_text(max) + ", e.g. " + std::string(key) + " = " +
                          std::string(example) +
                          " (suffix s, m, h or d, combinable as \"1h30m\"; a plain integer "
                          "means seconds)";
  std::optional<std::chrono::seconds> d;
  if (const auto* s = n->as_string()) {
    d = parse_duration(s->get());
    if (!d) {
      error(line_of(*n), full + " \"" + s->get() + "\" is not a duration", fix);
      return std::nullopt;
    }
  } else if (const auto* i = n->as_integer()) {
    if (i->get() >= 0) d = std::chrono::seconds(i->get());
  } else {
    error(line_of(*n), full + " must be a duration, found " + std::string(type_name(*n)), fix);
    return std::nullopt;
  }
  if (!d || *d < min || *d > max) {
    error(line_of(*n), full + " is out of range", fix);
    return std::nullopt;
  }
  return d;
}

std::string Loader::duration_text(std::chrono::seconds d) {
  const auto n = d.count();
  if (n % 86400 == 0) return std::to_string(n / 86400) + "d";
  if (n % 3600 == 0) return std::to_string(n / 3600) + "h";
  if (n % 60 == 0) return std::to_string(n / 60) + "m";
  return std::to_string(n) + "s";
}

// One of a fixed set of words; the fix lists them.
std::optional<std::string> Loader::get_choice(const toml::table& t, std::string_view key,
                                              const std::string& full,
                                              std::initializer_list<std::string_view> choices,
                                              std::string_view why) {
  std::string list;
  for (const auto c : choices) list += (list.empty() ? "\"" : ", \"") + std::string(c) + "\"";
  auto v = get_string(t, key, full, "\"" + std::string(*choices.begin()) + "\"");
  if (!v) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *v) != choices.end()) return v;
  const std::string near = nearest(*v, std::span<const std::string_view>(choices));
  error(config_.lines[full], "unknown " + full + " \"" + *v + "\"",
        (near.empty() ? std::string() : "did you mean \"" + near + "\"? ") + std::string(key) +
            " must be one of " + list + " (" + std::string(why) + ")");
  return std::nullopt;
}

LoadResult load_string(std::string_view toml_text, const std::string& source_name,
                       const std::filesystem::path& base_dir) {
  return Loader(source_name, base_dir, false).run(toml_text);
}

LoadResult load_string(std::string_view toml_text, const std::string& source_name) {
  std::filesystem::path base = std::filesystem::path(source_name).parent_path();
  if (base.empty()) base = std::filesystem::current_path();
  return load_string(toml_text, source_name, base);
}

LoadResult load_file(const std::filesystem::path& path) {
  std::string text;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    ec = std::make_error_code(std::errc::is_a_directory);
  } else if (read_file(path, text, ec)) {
    ec.clear();
  }
  if (ec) {
    LoadResult result;
    result.unreadable = true;
    result.problems.push_back({Problem::Severity::error, path.string(),
                               "cannot read the configuration file: " + ec.message(),
                               "check the path given to --config and its permissions"});
    return result;
  }
  std::error_code abs_ec;
  auto base = std::filesystem::absolute(path, abs_ec).parent_path();
  if (abs_ec) base = path.parent_path();
  return load_string(text, path.string(), base);
}

Config embedded_default(const std::filesystem::path& base_dir) {
  LoadResult r = Loader(std::string(kEmbeddedName), base_dir, true).run(embedded_default_toml());
  // The embedded text is part of the program; failing to load it is a bug.
  if (!r.config) throw std::logic_error("the embedded default configuration does not load");
  return std::move(*r.config);
}

}  // namespace postern::config
