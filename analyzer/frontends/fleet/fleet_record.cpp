#include "analyzer/frontends/fleet/fleet_record.hpp"

#include <fmt/format.h>

namespace coroner::frontends::fleet {

namespace {

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

const nlohmann::json& json_member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json null;
  if (!object.is_object()) return null;
  auto it = object.find(key);
  return it == object.end() ? null : *it;
}

std::string json_text(const nlohmann::json& object, const char* key) {
  const nlohmann::json& member = json_member(object, key);
  return member.is_string() ? member.get<std::string>() : "";
}

int64_t json_integer(const nlohmann::json& object, const char* key) {
  const nlohmann::json& member = json_member(object, key);
  return member.is_number_integer() ? member.get<int64_t>() : 0;
}

bool json_flag(const nlohmann::json& object, const char* key) {
  const nlohmann::json& member = json_member(object, key);
  return member.is_boolean() && member.get<bool>();
}

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
  const nlohmann::json& system = json_member(report, "system");
  const nlohmann::json& crash_time = json_member(system, "crash_time");
  nlohmann::json key = {json_text(system, "machine"), json_text(system, "nodename"), json_text(system, "release"),
                        json_text(system, "version"), json_text(system, "build_id"),
                        crash_time.is_number_integer() ? crash_time : nlohmann::json()};
  if (key.back().is_null()) {
    const nlohmann::json& tail = json_member(json_member(report, "log"), "tail");
    key.push_back(tail.is_array() && !tail.empty() ? tail.back() : nlohmann::json());
  }
  return identity_hash_hex(key.dump());
}

Expected<FleetRecord> record_from_report(const nlohmann::json& report, int64_t now) {
  if (json_text(report, "format") != "coroner-triage/1")
    return make_error(Errc::invalid_argument, "not a coroner triage report (format coroner-triage/1)");
  for (const char* part : {"system", "signature"})
    if (!report.contains(part) || !report[part].is_object())
      return make_error(Errc::invalid_argument, "the report has no \"{}\" object", part);
  const nlohmann::json& system = report["system"];
  const nlohmann::json& signature = report["signature"];
  FleetRecord record;
  record.identity = dump_identity(report);
  record.host = json_text(system, "nodename");
  record.crash_time = json_member(system, "crash_time").is_number_integer() ? json_integer(system, "crash_time") : now;
  record.release = json_text(system, "release");
  record.build_id = json_text(system, "build_id");
  record.machine = json_text(system, "machine");
  record.signature = json_text(signature, "hash");
  if (record.signature.empty()) return make_error(Errc::invalid_argument, "the report's signature has no hash");
  record.title = json_text(signature, "title");
  record.kind = json_text(signature, "kind");
  record.module = json_text(signature, "module");
  const nlohmann::json& frames = json_member(signature, "frames");
  record.frames = frames.is_array() ? frames.dump() : "[]";
  record.report = report.dump();
  return record;
}

}  // namespace coroner::frontends::fleet
