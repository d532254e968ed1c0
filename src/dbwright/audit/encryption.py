"""Encryption in transit and at rest: what SQL can show, and a plain list of what it cannot.

In transit comes from settings (``ssl``, protocol and ciphers), pg_hba.conf rules (hostssl or
not) and pg_stat_ssl (the share of live TCP sessions using TLS). At rest, SQL shows little:
whether pgcrypto is installed, and which columns are stored as bytea (where ciphertext would
live). With ``host=True`` — only meaningful when dbwright runs on the database host — the data
directory's block device is followed down to see whether a dm-crypt (LUKS) layer sits under it.
Everything else is listed as undetermined, never guessed.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbwright.checks.audit_common import is_remote
from dbwright.model import Snapshot


@dataclass
class EncryptionReport:
    in_transit: dict[str, Any] = field(default_factory=dict)
    at_rest: dict[str, Any] = field(default_factory=dict)
    undetermined: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"in_transit": self.in_transit, "at_rest": self.at_rest, "undetermined": self.undetermined}


def _setting(snap: Snapshot, name: str) -> str | None:
    setting = snap.server.setting(name)
    return setting.value if setting else None


def encryption_report(
    snap: Snapshot, *, host: bool = False, pii_columns: tuple[str, ...] = ()
) -> EncryptionReport:
    report = EncryptionReport()
    _in_transit(snap, report)
    _at_rest(snap, report, pii_columns)
    if host:
        report.at_rest["data_directory_device"] = data_directory_device(_setting(snap, "data_directory"))
    device = report.at_rest.get("data_directory_device")
    if not device or device.get("encrypted") is None:
        report.undetermined.append(
            "Whether the data directory's storage is encrypted (LUKS/dm-crypt, a cloud provider's volume "
            "encryption, self-encrypting drives) cannot be seen from SQL"
            + (
                f": {device['reason']}."
                if device
                else "; run dbwright audit --host on the database host to check for a dm-crypt layer."
            )
        )
    elif device.get("encrypted") is False:
        report.undetermined.append(
            "Whether the disk under the data directory is itself a self-encrypting drive or "
            "a cloud provider's encrypted volume: the OS does not show it."
        )
    report.undetermined += [
        "Whether backups and archived WAL are encrypted is decided by the backup tool "
        f"(archive_command = {_setting(snap, 'archive_command') or 'not visible'!r}) and cannot be verified from SQL.",
        "Whether clients verify the server's certificate (sslmode=verify-full) is set in each client and is "
        "invisible to the server.",
        "Values an application encrypts before storing look like any other bytea or text: dbwright does not read "
        "values to tell ciphertext from data (see dbwright pii for sampled detection).",
    ]
    return report


def _in_transit(snap: Snapshot, report: EncryptionReport) -> None:
    report.in_transit.update(
        {
            "ssl": _setting(snap, "ssl"),
            "ssl_min_protocol_version": _setting(snap, "ssl_min_protocol_version"),
            "ssl_ciphers": _setting(snap, "ssl_ciphers"),
        }
    )
    if snap.skipped_reason("hba_rules"):
        report.in_transit["hba"] = None
        report.undetermined.append(
            f"Which pg_hba.conf lines require TLS: {snap.skipped_reason('hba_rules')}."
        )
    else:
        rules = [r for r in snap.hba_rules if not r.error and r.auth_method != "reject"]
        report.in_transit["hba"] = {
            "hostssl_lines": [r.line for r in rules if r.type == "hostssl"],
            "non_loopback_lines_without_tls": [
                r.line for r in rules if r.type in ("host", "hostnossl") and is_remote(r)
            ],
            "loopback_lines_without_tls": [
                r.line for r in rules if r.type in ("host", "hostnossl") and not is_remote(r)
            ],
        }
    visible = [s for s in snap.tls_sessions if s.ssl is not None]
    hidden = len(snap.tls_sessions) - len(visible)
    tcp = [s for s in visible if s.client_addr is not None]
    with_tls = [s for s in tcp if s.ssl]
    report.in_transit["sessions"] = {
        "client_sessions": len(visible),
        "unix_socket_sessions": len(visible) - len(tcp),
        "tcp_sessions": len(tcp),
        "tcp_sessions_with_tls": len(with_tls),
        "hidden_sessions": hidden,
        "tls_share_of_tcp": round(len(with_tls) / len(tcp), 3) if tcp else None,
        "protocols": sorted({s.version for s in with_tls if s.version}),
    }
    if hidden:
        report.undetermined.append(
            f"Whether {hidden} session(s) of other roles use TLS (some may be background "
            "processes): needs pg_read_all_stats (part of pg_monitor)."
        )


def _at_rest(snap: Snapshot, report: EncryptionReport, pii_columns: tuple[str, ...]) -> None:
    pgcrypto = snap.server.extension("pgcrypto")
    bytea = [c.qname for c in snap.columns if c.type_name == "bytea"]
    report.at_rest.update(
        {
            "pgcrypto_installed": bool(pgcrypto and pgcrypto.installed_version),
            "pgcrypto_available": pgcrypto is not None,
            "bytea_columns": bytea[:50],
            "bytea_column_count": len(bytea),
            "data_checksums": snap.server.data_checksums,
        }
    )
    if pii_columns:
        types = {c.qname: c.type_name for c in snap.columns}
        report.at_rest["pii_columns"] = [
            {"column": name, "type": types.get(name), "stored_as_bytea": types.get(name) == "bytea"}
            for name in pii_columns
        ]
        plain = [c["column"] for c in report.at_rest["pii_columns"] if not c["stored_as_bytea"]]
        report.at_rest["pii_columns_in_plain_text"] = plain


def data_directory_device(data_directory: str | None) -> dict[str, Any]:
    """Follow the data directory to its block device and look for a dm-crypt layer under it.

    Returns ``encrypted`` True/False, or None with the reason it cannot tell.
    """
    if not data_directory:
        return {
            "encrypted": None,
            "reason": "data_directory is not visible to this role (needs pg_read_all_settings)",
        }
    path = Path(data_directory)
    if not (path / "PG_VERSION").exists():
        return {
            "encrypted": None,
            "data_directory": data_directory,
            "reason": f"{data_directory} is not a data directory on this machine: run on the database host",
        }
    if not (shutil.which("findmnt") and shutil.which("lsblk")):
        return {
            "encrypted": None,
            "data_directory": data_directory,
            "reason": "findmnt/lsblk are not installed",
        }
    mount = _run(["findmnt", "-n", "-o", "SOURCE,FSTYPE,TARGET", "--target", str(path)]).split()
    if len(mount) < 3:
        return {"encrypted": None, "data_directory": data_directory, "reason": "findmnt found no mount"}
    source, fstype, target = mount[0], mount[1], mount[2]
    evidence = {"data_directory": data_directory, "mount": target, "source": source, "fstype": fstype}
    if not source.startswith("/dev/"):
        return {
            **evidence,
            "encrypted": None,
            "reason": f"the data directory is on {fstype} from {source}, not a block device dbwright can follow",
        }
    chain = [
        line.split() for line in _run(["lsblk", "-s", "-n", "-r", "-o", "NAME,TYPE", source]).splitlines()
    ]
    types = [parts[1] for parts in chain if len(parts) == 2]
    evidence["device_chain"] = [" ".join(parts) for parts in chain]
    return {
        **evidence,
        "encrypted": "crypt" in types,
        "reason": "a dm-crypt layer is under the data directory"
        if "crypt" in types
        else "no dm-crypt layer between the filesystem and the disk (the disk itself may still be a "
        "self-encrypting or cloud-encrypted volume, which the OS cannot show)",
    }


def _run(command: list[str]) -> str:
    try:
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
