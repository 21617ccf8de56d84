#include "metrics/registry.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace postern::metrics {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + value, std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // The +Inf bucket and _count must agree (the exposition format's rule), so
  // both come from the same bucket sums rather than a separate counter read
  // at another moment.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
}

Registry::Family& Registry::family(const std::string& name, const std::string& help, Type type) {
  auto [it, created] = families_.try_emplace(name);
  if (created) {
    it->second.type = type;
    it->second.help = help;
  } else if (it->second.type != type) {
    throw std::logic_error("metric " + name + " registered with two types");
  }
  return it->second;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Type::counter).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Type::gauge).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Type::histogram).histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

void Registry::sampled_gauge(const std::string& name, const std::string& help, Sampler sampler) {
  std::lock_guard lock(mu_);
  family(name, help, Type::gauge).sampler = std::move(sampler);
}

std::string escape_label_value(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_labels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
  }
  return out + "}";
}

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  return fmt::format("{}", value);
}

namespace {

Labels with(const Labels& labels, std::string key, std::string value) {
  Labels out = labels;
  out.emplace_back(std::move(key), std::move(value));
  return out;
}

}  // namespace

std::string Registry::render() const {
  // Samplers may take other locks (the spool's); they run outside ours.
  std::vector<std::pair<std::string, Sampler>> samplers;
  std::string out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : families_) {
      if (f.sampler) {
        samplers.emplace_back(name, f.sampler);
        continue;
      }
      const char* type = f.type == Type::counter ? "counter"
                         : f.type == Type::gauge ? "gauge"
                                                 : "histogram";
      out += "# HELP " + name + " " + f.help + "\n";
      out += "# TYPE " + name + " " + type + "\n";
      for (const auto& [labels, c] : f.counters) {
        out += name + format_labels(labels) + " " + std::to_string(c->value()) + "\n";
      }
      for (const auto& [labels, g] : f.gauges) {
        out += name + format_labels(labels) + " " + std::to_string(g->value()) + "\n";
      }
      for (const auto& [labels, h] : f.histograms) {
        const auto s = h->snapshot();
        for (std::size_t i = 0; i < s.bounds.size(); ++i) {
          out += name + "_bucket" + format_labels(with(labels, "le", format_number(s.bounds[i]))) +
                 " " + std::to_string(s.cumulative[i]) + "\n";
        }
        out += name + "_bucket" + format_labels(with(labels, "le", "+Inf")) + " " +
               std::to_string(s.count) + "\n";
        out += name + "_sum" + format_labels(labels) + " " + format_number(s.sum) + "\n";
        out += name + "_count" + format_labels(labels) + " " + std::to_string(s.count) + "\n";
      }
    }
  }
  for (const auto& [name, sampler] : samplers) {
    std::string help;
    {
      std::lock_guard lock(mu_);
      help = families_.at(name).help;
    }
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
    for (const auto& [labels, value] : sampler()) {
      out += name + format_labels(labels) + " " + format_number(value) + "\n";
    }
  }
  return out;
}

Registry& process_registry() {
  static Registry registry;
  return registry;
}

}  // namespace postern::metrics
