"""Audit checks on the server: checksums, WAL archiving, listening addresses, extension versions."""

from __future__ import annotations

from collections.abc import Iterator

from dbwright.checks.configuration import setting_package
from dbwright.checks.registry import check, finding
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import CreateExtension, RawSQL, ident, literal
from dbwright.model.package import ChangePackage

_LOCAL = {"localhost", "127.0.0.1", "::1"}


@check(
    "DWA044",
    cis="1.4",
    category="compliance",
    audit_category="data protection",
    severity=Severity.MEDIUM,
    title="Data checksums are off",
    requires=("setting:data_checksums",),
)
def data_checksums_off(snap) -> Iterator[Finding]:
    """Without data checksums, a page corrupted by the disk, the controller or a kernel bug is read
    back as valid data and spreads into backups. With them, PostgreSQL reports the damaged page.
    CIS 1.4 initialises clusters with ``initdb -k``.

    Fix (manual, offline): stop the server cleanly and run ``pg_checksums --enable -D <data
    directory>``, which rewrites every data file (time proportional to the cluster's size), then
    start it. On a replica set, do it on each server in turn or rebuild replicas from the primary.

    References: https://www.postgresql.org/docs/current/app-pgchecksums.html
    """
    if snap.server.data_checksums is not False:
        return
    fix = ChangePackage.of(
        "Enable data checksums",
        [],
        "Every data page gets a checksum that is verified on read.",
        requires_restart=True,
        manual_steps=(
            "Stop PostgreSQL cleanly (pg_ctl stop -m fast).",
            "As the server's OS user: pg_checksums --enable --progress -D <data directory>",
            "Start PostgreSQL; SHOW data_checksums says on.",
            "Rollback: stop, pg_checksums --disable -D <data directory>, start.",
        ),
        performance_notes=(
            "pg_checksums reads and rewrites the whole cluster while it is down.",
            "Checksums cost a little CPU on each read from disk; wal_log_hints-like WAL "
            "for hint bits is written.",
        ),
    )
    yield finding("data_checksums", "data checksums are off", fix=fix)


@check(
    "DWA045",
    cis="7.4",
    category="compliance",
    audit_category="data protection",
    severity=Severity.MEDIUM,
    title="WAL archiving is off",
    requires=("setting:archive_mode",),
)
def archive_mode_off(snap) -> Iterator[Finding]:
    """Without WAL archiving there is no point-in-time recovery: after a bad ``DELETE`` or a ransomware
    attack, the data can only go back to the last full backup. CIS 7.4.

    Fix: ``archive_mode = on`` (restart) and an ``archive_command`` or ``archive_library`` that copies
    WAL to storage outside the server (pgBackRest, barman, WAL-G), then check pg_stat_archiver.

    References: https://www.postgresql.org/docs/current/continuous-archiving.html
    """
    setting = snap.server.setting("archive_mode")
    if setting is None or setting.value != "off" or snap.server.in_recovery:
        return
    fix = setting_package(
        "Turn on WAL archiving",
        setting,
        "on",
        "Every finished WAL segment is handed to archive_command.",
        restart=True,
        manual_steps=(
            "Set archive_command (or archive_library) to your backup tool's command, "
            "e.g. 'pgbackrest --stanza=main archive-push %p'.",
        ),
    )
    yield finding("archive_mode", "WAL archiving is off", fix=fix, value=setting.value)


@check(
    "DWA046",
    cis="5.2",
    category="compliance",
    audit_category="configuration",
    severity=Severity.MEDIUM,
    title="Server listens on every network interface",
    requires=("setting:listen_addresses",),
)
def listen_everywhere(snap) -> Iterator[Finding]:
    """``listen_addresses = '*'`` (or ``0.0.0.0``/``::``) opens the port on every interface, including
    ones added later (a public IP, a Docker bridge). Binding to the addresses clients use limits
    exposure to those networks; pg_hba.conf is then the second line of defence, not the only one.

    Fix: ``ALTER SYSTEM SET listen_addresses = 'localhost, <the private address>'`` and restart.

    References: https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-LISTEN-ADDRESSES
    """
    setting = snap.server.setting("listen_addresses")
    if setting is None:
        return
    addresses = {a.strip() for a in setting.value.split(",") if a.strip()}
    if not addresses & {"*", "0.0.0.0", "::"}:
        return
    fix = setting_package(
        "Listen only on the addresses clients use",
        setting,
        "localhost",
        "After the restart the server accepts TCP connections on loopback only.",
        restart=True,
        manual_steps=(
            "Add the private address the application servers connect to: "
            "listen_addresses = 'localhost, 10.x.y.z'.",
        ),
    )
    yield finding("listen_addresses", f"listen_addresses is '{setting.value}'", fix=fix, value=setting.value)


@check(
    "DWA047",
    cis="1.5",
    category="compliance",
    audit_category="configuration",
    severity=Severity.LOW,
    title="Extension older than the installed package",
)
def extensions_behind(snap) -> Iterator[Finding]:
    """An extension's SQL objects are upgraded only by ``ALTER EXTENSION … UPDATE``: after a package
    upgrade the server runs the new library against the old objects, and security fixes in the
    extension's SQL (e.g. search_path pinning) are not applied. Flags installed extensions whose
    version is older than the default version of the installed package.

    Fix: ``ALTER EXTENSION … UPDATE`` (takes brief locks on the extension's objects).

    References: https://www.postgresql.org/docs/current/sql-alterextension.html
    """
    for extension in snap.server.extensions:
        if not extension.installed_version or not extension.default_version:
            continue
        if extension.installed_version == extension.default_version:
            continue
        fix = ChangePackage.of(
            f"Update extension {extension.name} to {extension.default_version}",
            [
                RawSQL(
                    f"ALTER EXTENSION {ident(extension.name)} UPDATE;",
                    f"ALTER EXTENSION {ident(extension.name)} UPDATE TO {literal(extension.installed_version)};",
                )
            ],
            "The extension's SQL objects match the installed library version.",
            security_notes=(
                "Downgrade scripts rarely exist: the rollback fails unless the extension ships one; "
                "test the update on a copy first.",
            ),
        )
        yield finding(
            extension.name,
            f"extension {extension.name} is {extension.installed_version}, the installed "
            f"package provides {extension.default_version}",
            fix=fix,
            installed_version=extension.installed_version,
            default_version=extension.default_version,
        )


@check(
    "DWA050",
    cis="6.11",
    category="compliance",
    audit_category="data protection",
    severity=Severity.LOW,
    title="pgcrypto is not installed in this database",
)
def pgcrypto_missing(snap) -> Iterator[Finding]:
    """CIS 6.11 expects pgcrypto wherever data needs encryption at rest inside the database: columns
    encrypted with ``pgp_sym_encrypt``/``pgp_pub_encrypt`` stay unreadable in dumps, backups and on disk
    without the key. Flags a database where pgcrypto is not installed (high when the server does not
    even offer it). Run ``dbwright pii`` (or ``audit --pii``) to see which columns would need it.

    Fix: ``CREATE EXTENSION pgcrypto`` (the contrib package must be installed on the server).

    References: https://www.postgresql.org/docs/current/pgcrypto.html
    """
    extension = snap.server.extension("pgcrypto")
    if extension is not None and extension.installed_version:
        return
    if extension is None:
        fix = ChangePackage.of(
            "Install the PostgreSQL contrib package",
            [],
            "pgcrypto ships with PostgreSQL's contrib modules.",
            manual_steps=(
                "Install the contrib package for this PostgreSQL version "
                "(Debian: postgresql-contrib; RHEL: postgresql-contrib).",
                "Then: CREATE EXTENSION pgcrypto;",
            ),
        )
        yield finding(
            "pgcrypto",
            "pgcrypto is not available on this server",
            fix=fix,
            severity=Severity.HIGH,
            available=False,
        )
        return
    fix = ChangePackage.of(
        "Install pgcrypto",
        [CreateExtension("pgcrypto")],
        "The pgp_* and crypt() functions become available in this database; nothing is "
        "encrypted until columns are rewritten with them (see dbwright pii's packages).",
    )
    yield finding(
        "pgcrypto",
        "pgcrypto is available but not installed in this database",
        fix=fix,
        available=True,
        default_version=extension.default_version,
    )
