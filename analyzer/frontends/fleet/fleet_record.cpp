#include "analyzer/frontends/fleet/fleet_record.hpp"

#include <fmt/format.h>

namespace coroner::frontends::fleet {

namespace {

// A string member of an object, "" when absent or null.
std::string text_of(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

// MurmurHash3's 64-bit finalizer: FNV's high bits change little when only
// the last bytes differ; this spreads every bit over the whole identity.
uint64_t mixed(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

}  // namespace

std::string identity_hash_hex(std::string_view data) {
  using u128 = unsigned __int128;
  const u128 prime = (u128(1) << 88) | 0x13b;
  u128 hash = (u128(0x6c62272e07bb0142ULL) << 64) | 0x62b821756295c58dULL;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= prime;
  }
  const uint64_t high = mixed(uint64_t(hash >> 64) ^ uint64_t(hash));
  const uint64_t low = mixed(uint64_t(hash) ^ high);
  return fmt::format("{:016x}{:016x}", high, low);
}

std::string dump_identity(const nlohmann::json& report) {
  const nlohmann::json& system = report.value("system", nlohmann::json::object());
  nlohmann::json key = {text_of(system, "machine"), text_of(system, "nodename"), text_of(system, "release"),
                        text_of(system, "version"), text_of(system, "build_id"),
                        system.value("crash_time", nlohmann::json())};
  if (key.back().is_null()) {
    const nlohmann::json& log = report.value("log", nlohmann::json::object());
    const nlohmann::json& tail = log.value("tail", nlohmann::json::array());
    key.push_back(tail.empty() ? nlohmann::json() : tail.back());
  }
  return identity_hash_hex(key.dump());
}

Expected<FleetRecord> record_from_report(const nlohmann::json& report, int64_t now) {
  if (!report.is_object() || report.value("format", "") != "coroner-triage/1")
    return make_error(Errc::invalid_argument, "not a coroner triage report (format coroner-triage/1)");
  for (const char* part : {"system", "signature"})
    if (!report.contains(part) || !report[part].is_object())
      return make_error(Errc::invalid_argument, "the report has no \"{}\" object", part);
  const nlohmann::json& system = report["system"];
  const nlohmann::json& signature = report["signature"];
  FleetRecord record;
  record.identity = dump_identity(report);
  record.host = text_of(system, "nodename");
  record.crash_time = system.contains("crash_time") && system["crash_time"].is_number_integer()
                          ? system["crash_time"].get<int64_t>()
                          : now;
  record.release = text_of(system, "release");
  record.build_id = text_of(system, "build_id");
  record.machine = text_of(system, "machine");
  record.signature = text_of(signature, "hash");
  if (record.signature.empty()) return make_error(Errc::invalid_argument, "the report's signature has no hash");
  record.title = text_of(signature, "title");
  record.kind = text_of(signature, "kind");
  record.module = text_of(signature, "module");
  record.frames = signature.value("frames", nlohmann::json::array()).dump();
  record.report = report.dump();
  return record;
}

}  // namespace coroner::frontends::fleet
