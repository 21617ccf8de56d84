// Prometheus metrics (SPEC §1.6): counters, gauges read at scrape time and
// histograms, kept in one process-wide registry and rendered in the text
// exposition format 0.0.4. Incrementing is one relaxed atomic add on a
// counter the caller looked up once (or looks up under a short lock: label
// sets are few and fixed by the configuration, never by what a client sends).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace postern::metrics {

// Label pairs in the order given; values are escaped when rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(std::int64_t n) { value_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf last
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // per bound, +Inf last
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Seconds, for delivery latency: from a local Maildir write (milliseconds)
// to a remote server that answers slowly (minutes).
std::vector<double> latency_buckets();

class Registry {
 public:
  // The returned references live as long as the registry.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& bounds, const Labels& labels = {});
  // A gauge whose values are read when scraped (queue size and age).
  using Sampler = std::function<std::vector<std::pair<Labels, double>>()>;
  void sampled_gauge(const std::string& name, const std::string& help, Sampler sampler);

  // The whole registry in the text exposition format: each family once,
  // with its HELP and TYPE lines and all its samples together.
  std::string render() const;

 private:
  enum class Type { counter, gauge, histogram };
  struct Family {
    Type type = Type::counter;
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
    Sampler sampler;
  };
  Family& family(const std::string& name, const std::string& help, Type type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// The server's registry. Tests make their own Registry.
Registry& process_registry();

// Text exposition helpers, exposed for tests.
std::string escape_label_value(const std::string& value);
std::string format_labels(const Labels& labels);
std::string format_number(double value);

}  // namespace postern::metrics
