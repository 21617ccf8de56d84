#include "app/server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <csignal>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "addresses/address_directory.hpp"
#include "addresses/book_loader.hpp"
#include "app/dkim_keys.hpp"
#include "app/inbound_dns.hpp"
#include "config/redis_url.hpp"
#include "config/reload_diff.hpp"
#include "control/control_protocol.hpp"
#include "delivery/queue_runner.hpp"
#include "dns/idn.hpp"
#include "dns/resolver.hpp"
#include "dovecot/dovecot_client.hpp"
#include "dovecot/dovecot_directory.hpp"
#include "mailauth/dmarc/organizational_domain.hpp"
#include "metrics/registry.hpp"
#include "net/auth_service.hpp"
#include "net/control_server.hpp"
#include "net/listeners.hpp"
#include "net/metrics_server.hpp"
#include "net/shared_state.hpp"
#include "net/tls_context.hpp"
#include "obs/log.hpp"
#include "outbound/lmtp_courier.hpp"
#include "outbound/smtp_courier.hpp"
#include "service/descriptors.hpp"
#include "service/privileges.hpp"
#include "service/systemd_notify.hpp"
#include "spool/spool.hpp"
#include "state/in_process_store.hpp"
#include "state/redis_store.hpp"

namespace postern::app {
namespace {

// How often the users file is checked for changes made by `postern user`.
constexpr std::chrono::seconds kUsersPollInterval{2};

bool needs_tls(const config::Config& config) {
  for (const auto& l : config.listeners) {
    if (l.tls != TlsMode::none) return true;
  }
  return false;
}

// Delivery as configured: Maildirs here, the rest by MX or smarthost.
delivery::RunnerSettings make_runner_settings(const config::Config& config) {
  delivery::RunnerSettings r;
  r.mail_root = config.mail_dir();
  r.local_domains = config.local_domains;
  r.retry_initial = config.delivery.retry_initial;
  r.retry_max = config.delivery.retry_max;
  r.max_queue_lifetime = config.delivery.max_queue_lifetime;
  r.hostname = config.hostname;
  r.limits.max_connections = config.delivery.max_connections;
  r.limits.max_per_destination = config.delivery.max_connections_per_destination;
  r.limits.dead_backoff_initial = config.delivery.retry_initial;
  r.limits.dead_backoff_max = config.delivery.retry_max;
  r.smarthost = !config.delivery.smarthost.empty();
  dns::ResolverOptions resolver_options;
  resolver_options.server = config.delivery.resolver;
  std::shared_ptr<dns::Resolver> resolver(dns::Resolver::create(resolver_options));
  r.remote = std::make_shared<outbound::SmtpCourier>(config, resolver);
  // Destinations are MX host sets (docs/delivery.md): the runner looks a
  // domain up before it schedules mail to it.
  r.lookup_mx = [resolver](const std::string& domain) {
    delivery::MxAnswer answer;
    const auto a_label = dns::to_a_label(domain);
    if (!a_label) {
      answer.error = "not a valid domain name";
      return answer;
    }
    const dns::MxResult mx = resolver->lookup_mx(*a_label);
    answer.ok = mx.status == dns::Status::ok && !mx.hosts.empty();
    for (const dns::MxHost& h : mx.hosts) answer.hosts.push_back(h.host);
    answer.error = mx.error;
    return answer;
  };
  {
    std::string why;
    const auto local = config::parse_local_target(config.delivery.local, why);
    if (local && local->kind != config::LocalTarget::Kind::maildir) {
      outbound::LmtpOptions lmtp;
      lmtp.target = *local;
      lmtp.hostname = config.hostname;
      lmtp.connect_timeout = config.delivery.connect_timeout;
      lmtp.command_timeout = config.delivery.command_timeout;
      r.local = std::make_shared<outbound::LmtpCourier>(std::move(lmtp));
      obs::event("delivery", "local={}", local->text());
    }
  }
  return r;
}

}  // namespace

struct Server::Impl {
  // The running configuration; a reload replaces it whole (under reload_mu)
  // except the listeners, which are fixed at start: sessions and acceptors
  // hold references into `listener_configs`.
  config::Config config;
  const std::vector<config::ListenerConfig> listener_configs;
  std::mutex reload_mu;
  service::SystemdNotifier notifier = service::SystemdNotifier::from_environment();
  service::DescriptorNeeds descriptor_needs;
  std::uint64_t nofile = 0;
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::unique_ptr<net::Listeners> listeners;
  std::unique_ptr<spool::Spool> spool;
  std::unique_ptr<delivery::QueueRunner> runner;
  std::unique_ptr<net::ControlServer> control;
  std::unique_ptr<net::MetricsServer> metrics_http;
  std::unique_ptr<net::AuthService> auth;
  std::unique_ptr<net::SharedState> shared;
  std::unique_ptr<net::DkimService> dkim;
  // Shared counters (SPEC §1.10): in-process, or Redis with [state] url.
  std::unique_ptr<state::Store> store;
  std::unique_ptr<net::InboundService> inbound;

  explicit Impl(config::Config c) : config(std::move(c)), listener_configs(config.listeners) {}

  addresses::FileStamp aliases_stamp;
  addresses::FileStamp srs_stamp;

  // The address book from the users, the aliases file and the SRS secret
  // (SPEC §1.9). A file that does not load is refused whole: at start the
  // server does not start; on reload the previous book stays (SPEC §1.11).
  // Callers hold reload_mu or run before the loops do.
  void rebuild_directory(bool starting = false) {
    if (shared->dovecot()) {
      // Mailboxes are Dovecot's users: RCPT asks its userdb (SPEC §1.12).
      shared->set_directory(std::make_shared<dovecot::DovecotDirectory>(config.local_domains));
      return;
    }
    aliases_stamp = addresses::FileStamp::of(config.addresses.aliases_file);
    srs_stamp = addresses::FileStamp::of(config.addresses.srs_secret_file);
    addresses::LoadedBook loaded = addresses::load_address_book(config, auth->addresses());
    std::string errors;
    for (const auto& p : loaded.problems) {
      if (p.error) {
        errors += (errors.empty() ? "" : "; ") + p.where + ": " + p.message;
      } else {
        obs::warning("addresses", "where={} warning=\"{}\" fix=\"{}\"", p.where,
                     obs::sanitize(p.message), obs::sanitize(p.fix));
      }
    }
    if (!loaded.ok()) {
      if (starting) throw std::runtime_error("cannot load the addresses: " + errors);
      obs::error("reload", "what=addresses error=\"{}\" action=\"keeping the previous aliases\"",
                 obs::sanitize(errors));
      return;
    }
    shared->set_directory(std::make_shared<addresses::AddressDirectory>(std::move(loaded.book)));
  }

  bool address_files_changed() const {
    return addresses::FileStamp::of(config.addresses.aliases_file) != aliases_stamp ||
           addresses::FileStamp::of(config.addresses.srs_secret_file) != srs_stamp;
  }

  std::shared_ptr<asio::ssl::context> make_tls(const config::Config& c) const {
    if (!needs_tls(c)) return nullptr;
    return net::make_server_tls_context(c.tls.cert, c.tls.key);
  }

  std::size_t effective_max_sessions(const config::Config& c) const {
    const auto budget = service::plan_sessions(nofile, c.limits.max_sessions, descriptor_needs);
    if (budget.capped) {
      obs::warning("limits",
                   "max_sessions={} effective={} nofile={} reserved={} warning=\"max_sessions "
                   "does not fit the descriptor limit; clients over {} get 421\" "
                   "action=\"raise LimitNOFILE (or ulimit -Hn) or lower max_sessions\"",
                   c.limits.max_sessions, budget.effective_max_sessions, nofile, budget.reserved,
                   budget.effective_max_sessions);
    }
    return budget.effective_max_sessions;
  }

  asio::awaitable<void> watch_users_file() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      timer.expires_after(kUsersPollInterval);
      std::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      std::unique_lock lock(reload_mu, std::try_to_lock);
      if (!lock) continue;  // a reload is reading it right now
      // The users file and the aliases file, changed by an operator or by
      // `postern user`, take effect without a reload.
      const bool users = auth->reload_if_changed();
      if (users || address_files_changed()) {
        if (!users) obs::event("reload", "what=aliases");
        rebuild_directory();
      }
    }
  }

  // SIGHUP and `postern reload` (docs/service.md, "Reload"). Everything is
  // loaded and checked first; only when all of it loaded is it swapped in,
  // so a bad file changes nothing. Open sessions keep what they started
  // with. Seam for later features (aliases, DKIM keys, inbound policy):
  // load and check them in step 1 into values of their own, install them in
  // step 3 beside the others.
  control::Response reload() {
    std::lock_guard lock(reload_mu);
    notifier.reloading();
    control::Response answer = reload_locked();
    notifier.ready(answer.ok ? "reloaded" : "reload refused; running the previous configuration");
    return answer;
  }

  control::Response refuse(const std::vector<std::string>& errors) {
    std::string joined;
    for (const auto& e : errors) {
      obs::error("reload", "status=refused error=\"{}\"", obs::sanitize(e, 1000));
      joined += (joined.empty() ? "" : " | ") + e;
    }
    obs::error("reload", "status=refused action=\"the previous configuration keeps running\"");
    return control::error_response(control::ErrorKind::data, "refused: " + joined);
  }

  control::Response reload_locked() {
    // 1. Load and check everything.
    config::Config next;
    if (config.source.empty()) {
      next = config;  // the embedded default: certificates and users only
    } else {
      auto loaded = config::load_file(config.source);
      std::vector<std::string> errors;
      for (const auto& p : loaded.problems) {
        if (p.severity == config::Problem::Severity::error) {
          errors.push_back(p.where + ": " + p.message);
        }
      }
      if (loaded.config) {
        for (const auto& p : config::lint(*loaded.config)) {
          if (p.severity == config::Problem::Severity::error) {
            errors.push_back(p.where + ": " + p.message);
          }
        }
      }
      if (!errors.empty() || !loaded.config) return refuse(errors);
      next = std::move(*loaded.config);
    }
    auto restart = config::needs_restart(config, next);
    // Sessions keep meeting the listeners they were started with.
    next.listeners = listener_configs;
    std::shared_ptr<asio::ssl::context> tls;
    try {
      tls = make_tls(next);
    } catch (const std::exception& e) {
      std::string why = e.what();
      if (::geteuid() != 0 && why.find("key") != std::string::npos) {
        why +=
            " (the server no longer runs as root: the key must be readable by its user, "
            "e.g. chgrp that group and chmod 0640; docs/service.md)";
      }
      return refuse({why});
    }

    // The [[dkim]] keys were read and checked by the loader (a key that
    // does not load refused the file above): the new signer replaces the
    // old one whole, so a rotated key signs the next message.
    auto signer = outgoing_signer(next);

    // 2. Nothing can fail from here on.
    const std::size_t max_sessions = effective_max_sessions(next);
    next.auth.users_file = config.auth.users_file;
    next.auth.backend = config.auth.backend;
    next.auth.dovecot_auth_socket = config.auth.dovecot_auth_socket;
    next.data_dir = config.data_dir;
    next.user = config.user;
    next.metrics = config.metrics;
    config = std::move(next);

    // 3. Install.
    if (tls) shared->set_tls(std::move(tls));
    dkim->set_signer(std::move(signer));
    shared->set_policy(
        std::make_shared<const net::SessionPolicy>(net::SessionPolicy::from(config)));
    shared->limiter.set_limits(max_sessions, config.limits.max_sessions_per_ip);
    auth->set_cache_ttl(config.auth.cache_ttl);
    auth->reload_if_changed();
    rebuild_directory();

    std::string text = "reloaded " + (config.source.empty() ? std::string("embedded default")
                                                            : config.source.string());
    obs::event("reload",
               "status=applied file={} max_sessions={} max_sessions_per_ip={} dkim_keys={}",
               config.source.empty() ? "<embedded default>" : config.source.string(), max_sessions,
               config.limits.max_sessions_per_ip, config.dkim.size());
    for (const auto& r : restart) {
      obs::warning("reload", "needs_restart=\"{}\" action=\"applied at the next restart\"", r);
      text += " | needs a restart: " + r;
    }
    return control::ok_response(text);
  }

  // Queue size and age for the metrics, read when scraped.
  void register_queue_metrics() {
    metrics::process_registry().sampled_gauge(
        "postern_queue_messages", "Messages in the queue now.", [this] {
          return std::vector<std::pair<metrics::Labels, double>>{
              {{}, static_cast<double>(spool->list().size())}};
        });
    metrics::process_registry().sampled_gauge(
        "postern_queue_oldest_age_seconds", "Age of the oldest message in the queue.", [this] {
          double oldest = 0;
          const auto now = std::chrono::system_clock::now();
          for (const auto& m : spool->list()) {
            oldest = std::max(oldest, std::chrono::duration<double>(now - m.arrival).count());
          }
          return std::vector<std::pair<metrics::Labels, double>>{{{}, oldest}};
        });
  }
};

Server::Server(config::Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Server::~Server() = default;

namespace {

// Which user the server becomes, or nothing to stay as it is. Throws with
// the fix when the user does not exist (docs/service.md, "The service user").
std::optional<service::ServiceUser> service_user(const config::Config& config) {
  const bool root = ::geteuid() == 0;
  if (config.embedded) {
    // The embedded default is for trying postern out as yourself.
    if (root) {
      obs::warning("privileges",
                   "user=root warning=\"the embedded default runs as whoever starts it; as a "
                   "service use a configuration file, where postern drops root\"");
    }
    return std::nullopt;
  }
  const auto choice = service::choose_service_user(config.user, root);
  if (choice.name.empty()) return std::nullopt;
  auto user = service::find_user(choice.name);
  if (!user) {
    throw std::runtime_error(
        "started as root, postern runs as user \"" + choice.name +
        "\", which does not exist: create it (useradd --system --home-dir /var/lib/postern "
        "--shell /usr/sbin/nologin " +
        choice.name + ") or set user = \"name\" (`postern check` explains)");
  }
  return user;
}

// The data directory belongs to the service user. The whole tree is handed
// over when it is not yet theirs (first start, or earlier runs as root);
// otherwise only what root just created: the spool's files and the control
// socket.
void hand_over_data_dir(const config::Config& config, const service::ServiceUser& user) {
  struct stat st {};
  const bool theirs = ::stat(config.data_dir.c_str(), &st) == 0 && st.st_uid == user.uid;
  std::optional<std::string> err;
  if (!theirs) {
    err = service::chown_tree(config.data_dir, user);
  } else {
    err = service::chown_tree(config.spool_dir(), user);
    const auto sock = config.data_dir / control::kSocketName;
    if (!err && ::lchown(sock.c_str(), user.uid, user.gid) != 0) {
      err = "chown " + sock.string() + ": " + std::strerror(errno);
    }
  }
  if (err) throw std::runtime_error("cannot hand data_dir to user " + user.name + ": " + *err);
}

}  // namespace

int Server::run() {
  Impl& s = *impl_;
  const auto& config = s.config;
  obs::init_logging(config.log.target);

  // Descriptors: the soft limit up to the hard one, then max_sessions
  // capped so that the spool, deliveries and control keep theirs.
  const auto nofile = service::raise_nofile_limit();
  s.nofile = nofile.soft;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  s.descriptor_needs.listeners = config.listeners.size();
  s.descriptor_needs.event_loops = cores;
  s.descriptor_needs.outbound_connections = config.delivery.max_connections;
  const std::size_t max_sessions = s.effective_max_sessions(config);

  const auto user = service_user(config);

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create data_dir " + config.data_dir.string() + ": " +
                             ec.message());
  }

  spool::SpoolOptions spool_options;
  spool_options.unsafe_no_fsync = config.unsafe_ack_before_fsync;
  if (spool_options.unsafe_no_fsync) {
    obs::warning("config",
                 "unsafe_ack_before_fsync=true warning=\"acknowledged mail can be lost "
                 "on a crash; this setting is for benchmarks only\"");
  }
  s.spool = spool::Spool::open(config.spool_dir(), spool_options);
  std::shared_ptr<dovecot::DovecotClient> dovecot_client;
  if (config.auth.backend == "dovecot") {
    dovecot::ClientOptions options;
    options.auth_socket = config.auth.dovecot_auth_socket;
    options.userdb_socket = dovecot::userdb_socket_beside(options.auth_socket);
    dovecot_client = std::make_shared<dovecot::DovecotClient>(std::move(options));
    obs::event("dovecot", "auth_socket={} userdb_socket={}",
               dovecot_client->options().auth_socket.string(),
               dovecot_client->options().userdb_socket.string());
  }
  s.auth = std::make_unique<net::AuthService>(config.auth.users_file, 1, dovecot_client);
  s.auth->set_cache_ttl(config.auth.cache_ttl);
  s.shared = std::make_unique<net::SharedState>(config, max_sessions, *s.auth, *s.spool);
  s.shared->set_dovecot(dovecot_client);
  // Two signing threads: an RSA signature is a few hundred microseconds of
  // CPU (net/dkim_service.hpp says which messages go to them).
  s.dkim = std::make_unique<net::DkimService>(outgoing_signer(config), 2);
  s.shared->dkim = s.dkim.get();
  if (std::any_of(config.listeners.begin(), config.listeners.end(),
                  [](const auto& l) { return l.role == Role::relay; })) {
    // SPF, DKIM, DMARC and DNS blocklists ask the resolver delivery uses
    // (SPEC §1.8). One thread verifies DKIM for large messages.
    dns::ResolverOptions options;
    options.server = config.delivery.resolver;
    s.inbound = std::make_unique<net::InboundService>(
        std::make_shared<UnboundAsyncDns>(options),
        [](std::string_view domain) { return dns::to_a_label(domain); }, 1);
    // The Public Suffix List (DMARC's organisational domain) is read now,
    // not by the first session that needs it.
    const auto& psl = mailauth::dmarc::PublicSuffixList::system();
    s.shared->inbound = s.inbound.get();
    obs::event("inbound", "spf={} dkim={} dmarc={} dmarc_policy={} dnsbl={} resolver={} psl={}",
               config.inbound.spf, config.inbound.dkim, config.inbound.dmarc,
               config.inbound.dmarc_policy, config.inbound.dnsbl.size(),
               config.delivery.resolver.empty() ? std::string("system") : config.delivery.resolver,
               psl.source());
  }
  s.rebuild_directory(true);
  // The key is read here, while still root.
  if (auto tls = s.make_tls(config)) s.shared->set_tls(std::move(tls));

  for (unsigned i = 0; i < cores; ++i) {
    s.loops.push_back(std::make_unique<asio::io_context>(1));
  }
  // The counters: Redis's connection lives on the first loop.
  if (config.state.url.empty()) {
    s.store = std::make_unique<state::InProcessStore>();
  } else {
    s.store = std::make_unique<state::RedisStore>(*s.loops[0],
                                                  *config::parse_redis_url(config.state.url).url);
  }
  s.shared->store = s.store.get();
  // Signals are caught from here on: a SIGTERM during start-up is handled
  // once the loops run, instead of killing a half-started server.
  std::optional<asio::signal_set> signals;
  signals.emplace(*s.loops[0], SIGTERM, SIGINT, SIGHUP);
  std::function<void(const std::error_code&, int)> on_signal = [&](const std::error_code& err,
                                                                   int signo) {
    if (err) return;
    if (signo == SIGHUP) {
      obs::event("reload", "signal=HUP");
      s.reload();
      signals->async_wait(on_signal);
      return;
    }
    obs::event("stop", "signal={}", signo == SIGTERM ? "TERM" : "INT");
    s.notifier.stopping();
    s.listeners->close();
    s.control->close();
    if (s.metrics_http) s.metrics_http->close();
    for (auto& loop : s.loops) loop->stop();
  };
  signals->async_wait(on_signal);

  const delivery::RunnerSettings runner_settings = make_runner_settings(config);
  s.runner = std::make_unique<delivery::QueueRunner>(*s.spool, runner_settings);

  // Keep every loop alive while idle.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& loop : s.loops) guards.push_back(asio::make_work_guard(*loop));

  asio::co_spawn(*s.loops[0], s.watch_users_file(), asio::detached);
  // `postern queue`, `postern sendmail` and `postern reload` reach the
  // server here.
  s.control = std::make_unique<net::ControlServer>(
      *s.loops[0], config.data_dir / control::kSocketName, *s.shared, *s.runner);
  s.control->set_reload([&s] { return s.reload(); });
  s.control->start();
  // Bound while root (ports below 1024); accepting starts once the rest is
  // ready.
  s.listeners = std::make_unique<net::Listeners>(s.listener_configs, s.loops, *s.shared);
  s.listeners->open();
  if (!config.metrics.address.empty()) {
    s.register_queue_metrics();
    s.metrics_http = std::make_unique<net::MetricsServer>(
        *s.loops[0], config.metrics.host, config.metrics.port, metrics::process_registry());
    s.metrics_http->start();
  }

  // Root is given up here, before a byte from the network is read and
  // before the delivery threads start (SPEC §1.11).
  if (user) {
    if (user->uid != 0) hand_over_data_dir(config, *user);
    if (auto err = service::drop_privileges(*user)) {
      throw std::runtime_error("cannot become user " + user->name + ": " + *err);
    }
    obs::event("privileges", "user={} uid={} gid={}", user->name, user->uid, user->gid);
  }

  s.runner->start();
  s.listeners->start();

  // A client that vanishes mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  obs::event(
      "start", "hostname={} data_dir={} listeners={} loops={} nofile={}/{} max_sessions={} user={}",
      config.hostname, config.data_dir.string(), config.listeners.size(), s.loops.size(),
      nofile.soft, nofile.hard, max_sessions, user ? user->name : std::string("(unchanged)"));
  s.notifier.ready(fmt::format("serving {} listeners", config.listeners.size()));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.loops.size(); ++i) {
    threads.emplace_back([loop = s.loops[i].get()] { loop->run(); });
  }
  s.loops[0]->run();
  for (auto& t : threads) t.join();

  // Everything bound to a loop goes before the loops themselves. Sessions
  // still open are dropped with their loops; what they had acknowledged is
  // already durable.
  guards.clear();
  signals.reset();
  s.listeners.reset();
  s.metrics_http.reset();
  // The runner stops first so that no operator change still waits for a
  // delivery attempt; then the control thread ends before the loop it
  // answers on goes away.
  s.runner->stop();
  s.control->stop();
  // Commits still in flight post their results to the (stopped) loops, so
  // the spool finishes before the loops go away.
  s.spool->shutdown();
  if (auto d = s.shared->dovecot()) d->stop();
  s.shared->store = nullptr;
  s.store.reset();
  // The resolver's dispatcher posts late answers to the loops: it stops
  // while they still exist (stopped, so nothing runs).
  s.shared->inbound = nullptr;
  s.inbound.reset();
  s.loops.clear();
  s.control.reset();
  obs::event("stopped", "hostname={}", config.hostname);
  return 0;
}

}  // namespace postern::app
