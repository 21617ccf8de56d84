#include "app/server.hpp"

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

#include "app/dkim_keys.hpp"
#include "control/control_protocol.hpp"
#include "delivery/queue_runner.hpp"
#include "dns/resolver.hpp"
#include "dovecot/dovecot_client.hpp"
#include "dovecot/dovecot_directory.hpp"
#include "net/auth_service.hpp"
#include "net/control_server.hpp"
#include "net/listeners.hpp"
#include "net/shared_state.hpp"
#include "net/tls_context.hpp"
#include "obs/log.hpp"
#include "outbound/lmtp_courier.hpp"
#include "outbound/smtp_courier.hpp"
#include "policy/static_directory.hpp"
#include "spool/spool.hpp"

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

}  // namespace

struct Server::Impl {
  config::Config config;
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::unique_ptr<net::Listeners> listeners;
  std::unique_ptr<spool::Spool> spool;
  std::unique_ptr<delivery::QueueRunner> runner;
  std::unique_ptr<net::ControlServer> control;
  std::unique_ptr<net::AuthService> auth;
  std::unique_ptr<net::SharedState> shared;
  std::unique_ptr<net::DkimService> dkim;

  explicit Impl(config::Config c) : config(std::move(c)) {}

  void rebuild_directory() {
    if (shared->dovecot()) {
      // Mailboxes are Dovecot's users: RCPT asks its userdb (SPEC §1.12).
      shared->set_directory(std::make_shared<dovecot::DovecotDirectory>(config.local_domains));
      return;
    }
    shared->set_directory(
        std::make_shared<policy::StaticDirectory>(config.local_domains, auth->addresses()));
  }

  void load_tls() {
    if (!needs_tls(config)) return;
    shared->set_tls(net::make_server_tls_context(config.tls.cert, config.tls.key));
  }

  asio::awaitable<void> watch_users_file() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      timer.expires_after(kUsersPollInterval);
      std::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      if (auth->reload_if_changed()) rebuild_directory();
    }
  }
};

Server::Server(config::Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Server::~Server() = default;

int Server::run() {
  Impl& s = *impl_;
  const auto& config = s.config;
  obs::init_logging(config.log.target);

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
  s.shared = std::make_unique<net::SharedState>(config, *s.auth, *s.spool);
  s.shared->set_dovecot(dovecot_client);
  // Two signing threads: an RSA signature is a few hundred microseconds of
  // CPU (net/dkim_service.hpp says which messages go to them).
  s.dkim = std::make_unique<net::DkimService>(outgoing_signer(config), 2);
  s.shared->dkim = s.dkim.get();
  s.rebuild_directory();
  s.load_tls();

  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < cores; ++i) {
    s.loops.push_back(std::make_unique<asio::io_context>(1));
  }
  // Signals are caught from here on: a SIGTERM during start-up is handled
  // once the loops run, instead of killing a half-started server.
  std::optional<asio::signal_set> signals;
  signals.emplace(*s.loops[0], SIGTERM, SIGINT, SIGHUP);
  std::function<void(const std::error_code&, int)> on_signal = [&](const std::error_code& err,
                                                                   int signo) {
    if (err) return;
    if (signo == SIGHUP) {
      obs::event("reload", "what=\"certificates and users\"");
      try {
        s.load_tls();
      } catch (const std::exception& e) {
        obs::error("reload", "error=\"{}\" action=\"keeping the previous certificate\"", e.what());
      }
      s.auth->reload_if_changed();
      s.rebuild_directory();
      signals->async_wait(on_signal);
      return;
    }
    obs::event("stop", "signal={}", signo == SIGTERM ? "TERM" : "INT");
    s.listeners->close();
    s.control->close();
    for (auto& loop : s.loops) loop->stop();
  };
  signals->async_wait(on_signal);

  delivery::RunnerSettings runner_settings;
  runner_settings.mail_root = config.mail_dir();
  runner_settings.local_domains = config.local_domains;
  runner_settings.retry_initial = config.delivery.retry_initial;
  runner_settings.retry_max = config.delivery.retry_max;
  runner_settings.max_queue_lifetime = config.delivery.max_queue_lifetime;
  runner_settings.hostname = config.hostname;
  runner_settings.limits.max_connections = config.delivery.max_connections;
  runner_settings.limits.max_per_destination = config.delivery.max_connections_per_destination;
  runner_settings.limits.dead_backoff_initial = config.delivery.retry_initial;
  runner_settings.limits.dead_backoff_max = config.delivery.retry_max;
  runner_settings.smarthost = !config.delivery.smarthost.empty();
  dns::ResolverOptions resolver_options;
  resolver_options.server = config.delivery.resolver;
  runner_settings.remote = std::make_shared<outbound::SmtpCourier>(
      config, std::shared_ptr<dns::Resolver>(dns::Resolver::create(resolver_options)));
  {
    std::string why;
    const auto local = config::parse_local_target(config.delivery.local, why);
    if (local && local->kind != config::LocalTarget::Kind::maildir) {
      outbound::LmtpOptions lmtp;
      lmtp.target = *local;
      lmtp.hostname = config.hostname;
      lmtp.connect_timeout = config.delivery.connect_timeout;
      lmtp.command_timeout = config.delivery.command_timeout;
      runner_settings.local = std::make_shared<outbound::LmtpCourier>(std::move(lmtp));
      obs::event("delivery", "local={}", local->text());
    }
  }
  s.runner = std::make_unique<delivery::QueueRunner>(*s.spool, runner_settings);
  s.runner->start();

  // Keep every loop alive while idle.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& loop : s.loops) guards.push_back(asio::make_work_guard(*loop));

  asio::co_spawn(*s.loops[0], s.watch_users_file(), asio::detached);
  // `postern queue` and `postern sendmail` reach the server here.
  s.control = std::make_unique<net::ControlServer>(
      *s.loops[0], config.data_dir / control::kSocketName, *s.shared, *s.runner);
  s.control->start();
  // Listening last: once a port accepts, everything behind it is ready.
  s.listeners = std::make_unique<net::Listeners>(config.listeners, s.loops, *s.shared);
  s.listeners->open();
  s.listeners->start();

  // A client that vanishes mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  obs::event("start", "hostname={} data_dir={} listeners={} loops={}", config.hostname,
             config.data_dir.string(), config.listeners.size(), s.loops.size());
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
  // The runner stops first so that no operator change still waits for a
  // delivery attempt; then the control thread ends before the loop it
  // answers on goes away.
  s.runner->stop();
  s.control->stop();
  // Commits still in flight post their results to the (stopped) loops, so
  // the spool finishes before the loops go away.
  s.spool->shutdown();
  if (auto d = s.shared->dovecot()) d->stop();
  s.loops.clear();
  s.control.reset();
  obs::event("stopped", "hostname={}", config.hostname);
  return 0;
}

}  // namespace postern::app
