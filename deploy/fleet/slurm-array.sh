#!/bin/bash
# A Slurm job array that triages a batch of dumps, one per array task,
# into the fleet database (docs/fleet.md). The dumps and the reports are on
# a file system every node mounts.
#   ls /shared/crash/*/dump.* > /shared/crash/list.txt
#   sbatch --array=0-$(($(wc -l < /shared/crash/list.txt) - 1))%20 slurm-array.sh /shared/crash/list.txt /shared/reports
# (%20: at most 20 tasks at once). CORONER_FLEET_DB is the store, exported
# from the submitting shell (postgresql://..., or an SQLite file on a local
# disk -- SQLite over NFS is not safe); CORONER_TRIAGE_ARGS can name a
# --debuginfo-dir on the shared file system.
#SBATCH --job-name=coroner-triage
#SBATCH --cpus-per-task=1
#SBATCH --mem=4G
#SBATCH --time=00:30:00
#SBATCH --output=coroner-triage-%A_%a.out
set -euo pipefail
here=${CORONER_FLEET_SCRIPTS:-/usr/share/coroner/fleet}
# indexed-triage.sh reads SLURM_ARRAY_TASK_ID, set by Slurm.
exec "$here/indexed-triage.sh" "$1" "$2"
