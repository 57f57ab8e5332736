// `coroner fleet`: the history of a fleet's dumps (docs/fleet.md).
//   coroner fleet ingest [--db URL] [--batch N] [--format text|json] REPORT.json...|-
//   coroner fleet report [--db URL] [--since T] [--format text|json|html] [-o FILE]
//   coroner fleet show [--db URL] [--since T] [--format text|json] SIGNATURE|DUMP
// ingest stores triage reports (coroner triage --format json; with "-" one
// per line of standard input), one row per
// dump, idempotent by the dump's identity (fleet_record.hpp); report groups
// the dumps by crash signature; show lists one signature's dumps, or prints
// one dump's stored triage report. ingest stores --batch N reports (default
// 1000) per transaction. The database is --db, else
// $CORONER_FLEET_DB, else the SQLite file coroner-fleet.db in the current
// directory; postgresql://... selects PostgreSQL.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace coroner::frontends {

// The arguments after "fleet". Returns the exit status: 0 on success, 1
// when something failed (one line each on `errors`; ingest stores the
// reports it could read), 2 for bad arguments.
int run_fleet(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& errors);

}  // namespace coroner::frontends
