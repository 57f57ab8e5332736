// One dump as the fleet store keeps it: the fields a fleet is queried by,
// taken from a triage report (docs/triage-schema.json), and the report
// itself.
//
// A dump's identity is the crash it records, not the file: a 128-bit hash
// (32 hex digits: identity_hash_hex) of the machine, host name, kernel release,
// version and build-id, and the crash time (VMCOREINFO's CRASHTIME, kept by
// every dump format and makedumpfile level). The ELF vmcore of a
// crash, its makedumpfile -d 31 copy and a flattened stream of it are one
// dump; a report ingested twice adds nothing. A report without a crash time
// (rare: a kernel that never wrote CRASHTIME) adds its log's last line, which
// carries the kernel's time stamp, so that two such crashes of a host stay two.
#pragma once

#include "capture/format/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace coroner::frontends::fleet {

struct FleetRecord {
  std::string identity;   // dump_identity()
  std::string host;       // utsname nodename ("" when the report was made without vmlinux)
  int64_t crash_time = 0; // seconds since the epoch; the ingest time when the report has none
  std::string release, build_id, machine;
  std::string signature;  // the crash signature's hash
  std::string title, kind, module;
  std::string frames;     // the signature's frames, JSON
  std::string report;     // the whole triage report, JSON
};

// Members of a report's objects, read without trusting its shape (a report
// is anyone's file): the member when it is there with the right type, else
// null, "", 0 or false.
const nlohmann::json& json_member(const nlohmann::json& object, const char* key);
std::string json_text(const nlohmann::json& object, const char* key);
int64_t json_integer(const nlohmann::json& object, const char* key);
bool json_flag(const nlohmann::json& object, const char* key);

// The record of a parsed triage report; an error names what the report
// lacks. `now` is the crash time of a report that has none.
Expected<FleetRecord> record_from_report(const nlohmann::json& report, int64_t now);

// The identity of the dump a triage report describes (see above).
std::string dump_identity(const nlohmann::json& report);

// 128-bit FNV-1a of `data`, its bits mixed, as 32 lower-case hex digits.
std::string identity_hash_hex(std::string_view data);

}  // namespace coroner::frontends::fleet
