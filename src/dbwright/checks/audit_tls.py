"""Audit checks on TLS and authentication settings, and on live sessions' TLS state."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from dbwright.checks.configuration import AlterSystemList, _library_list, setting_package
from dbwright.checks.registry import check, finding
from dbwright.model.findings import Finding, Severity
from dbwright.model.operations import ReloadConfig
from dbwright.model.package import ChangePackage

_PROTOCOLS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_WEAK_CIPHER_TOKENS = {
    "MEDIUM",
    "LOW",
    "EXP",
    "EXPORT",
    "RC4",
    "3DES",
    "DES",
    "NULL",
    "ENULL",
    "ANULL",
    "MD5",
    "ALL",
    "DEFAULT",
    "COMPLEMENTOFALL",
}
_STRONG_CIPHERS = "HIGH:!aNULL:!eNULL:!MD5:!3DES:!RC4:!CAMELLIA"
_PASSWORD_LIBRARIES = ("passwordcheck", "credcheck")


def _ssl_on(snap) -> bool:
    ssl = snap.server.setting("ssl")
    return bool(ssl and ssl.value == "on")


@check(
    "DWA028",
    cis="6.9",
    category="security",
    audit_category="encryption",
    severity=Severity.HIGH,
    title="Old TLS protocol versions allowed",
    requires=("setting:ssl_min_protocol_version",),
)
def tls_min_protocol(snap) -> Iterator[Finding]:
    """TLS 1.0 and 1.1 are deprecated (RFC 8996): weak ciphers, no AEAD. CIS 6.9 asks for TLS 1.3 as
    the minimum. Below TLS 1.2 is high; TLS 1.2 (PostgreSQL's default) is low, since every current
    client speaks 1.3 but some older drivers do not.

    Fix: ``ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.3'`` and reload.

    References:
    https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SSL-MIN-PROTOCOL-VERSION
    """
    setting = snap.server.setting("ssl_min_protocol_version")
    if setting is None or not _ssl_on(snap) or setting.value == "TLSv1.3":
        return
    severity = Severity.LOW if setting.value == "TLSv1.2" else None
    fix = setting_package(
        "Require TLS 1.3",
        setting,
        "TLSv1.3",
        "New connections must negotiate TLS 1.3.",
        security_notes=("Clients built on OpenSSL older than 1.1.1 cannot connect any more.",),
    )
    yield finding(
        "ssl_min_protocol_version",
        f"ssl_min_protocol_version is {setting.value}",
        fix=fix,
        severity=severity,
        value=setting.value,
    )


@check(
    "DWA029",
    cis="6.10",
    category="security",
    audit_category="encryption",
    severity=Severity.MEDIUM,
    title="Weak TLS ciphers allowed",
    requires=("setting:ssl_ciphers",),
)
def weak_ciphers(snap) -> Iterator[Finding]:
    """``ssl_ciphers`` decides which cipher suites TLS 1.2 and older may negotiate. PostgreSQL's
    default, ``HIGH:MEDIUM:+3DES:!aNULL``, still admits MEDIUM-strength suites and 3DES (Sweet32).
    Flags a list that enables MEDIUM, LOW, EXPORT, RC4, 3DES, DES, NULL or MD5 suites, or ALL/DEFAULT.
    (TLS 1.3 suites are not controlled by this setting.)

    Fix: ``ALTER SYSTEM SET ssl_ciphers = 'HIGH:!aNULL:!eNULL:!MD5:!3DES:!RC4:!CAMELLIA'`` and reload.

    References: https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SSL-CIPHERS
    """
    setting = snap.server.setting("ssl_ciphers")
    if setting is None or not _ssl_on(snap):
        return
    enabled = [t for t in setting.value.replace(",", ":").split(":") if t and t[0] not in "!-+"]
    weak = sorted({t for t in enabled if t.upper() in _WEAK_CIPHER_TOKENS})
    if not weak:
        return
    fix = setting_package(
        "Allow only strong TLS ciphers",
        setting,
        _STRONG_CIPHERS,
        "New TLS 1.2 connections negotiate only HIGH-strength suites with authentication.",
    )
    yield finding(
        "ssl_ciphers",
        f"ssl_ciphers enables {', '.join(weak)}: {setting.value}",
        fix=fix,
        value=setting.value,
        weak=weak,
    )


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@check(
    "DWA030",
    cis="6.8",
    category="security",
    audit_category="encryption",
    severity=Severity.HIGH,
    title="Live sessions without TLS",
    requires=("audit_sections", "tls_state"),
)
def sessions_without_tls(snap) -> Iterator[Finding]:
    """From pg_stat_ssl: client sessions that connected over TCP without TLS right now. Whatever
    pg_hba.conf allows, these are sending queries and results in clear text. Loopback sessions are
    low (the traffic stays on the host); unix-socket sessions never use TLS and are left out.
    One finding per user and client address.

    Needs pg_read_all_stats (part of pg_monitor) to see other roles' sessions.

    Fix: ``sslmode=verify-full`` (or at least ``require``) in those clients, and ``hostssl`` lines
    (DWA025) so the server refuses plain connections.

    References: https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-SSL-VIEW
    """
    grouped: dict[tuple[str, str], list[int]] = {}
    for session in snap.tls_sessions:
        if session.client_addr is None or session.ssl is not False:
            continue
        grouped.setdefault((session.user or "?", session.client_addr), []).append(session.pid)
    for (user, address), pids in sorted(grouped.items()):
        fix = ChangePackage.of(
            f"Make {user} at {address} connect with TLS",
            [],
            "The sessions end when the clients reconnect with TLS.",
            manual_steps=(
                f"Set sslmode=verify-full (or require) in the connection settings of "
                f"the client at {address} connecting as {user}.",
                "Change its pg_hba.conf line to hostssl so plain connections are refused (see DWA025).",
            ),
        )
        yield finding(
            f"{user}@{address}",
            f"{len(pids)} session(s) of {user} from {address} are not using TLS",
            fix=fix,
            severity=Severity.LOW if _loopback(address) else None,
            user=user,
            client_addr=address,
            pids=pids,
        )


@check(
    "DWA032",
    cis=None,
    category="security",
    audit_category="authentication",
    severity=Severity.LOW,
    title="Long authentication timeout",
    requires=("setting:authentication_timeout",),
)
def authentication_timeout(snap) -> Iterator[Finding]:
    """``authentication_timeout`` is how long a client may take to authenticate while holding a
    connection slot. Long values let a few slow or malicious clients exhaust the slots before
    logging in. Flags values above one minute (the default).

    Fix: ``ALTER SYSTEM SET authentication_timeout = '30s'`` and reload.

    References:
    https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-AUTHENTICATION-TIMEOUT
    """
    setting = snap.server.setting("authentication_timeout")
    ms = setting.as_milliseconds() if setting else None
    if setting is None or ms is None or ms <= 60_000:
        return
    fix = setting_package(
        "Shorten the authentication timeout",
        setting,
        "30s",
        "Clients that have not authenticated within 30 s are disconnected.",
    )
    yield finding(
        "authentication_timeout",
        f"authentication_timeout is {ms // 1000}s",
        fix=fix,
        value_seconds=ms // 1000,
    )


@check(
    "DWA033",
    cis="5.6",
    category="security",
    audit_category="authentication",
    severity=Severity.LOW,
    title="No password policy or brute-force delay module loaded",
    requires=("setting:shared_preload_libraries",),
)
def password_policy_modules(snap) -> Iterator[Finding]:
    """PostgreSQL itself accepts any password and answers failed logins at once. ``passwordcheck`` or
    ``credcheck`` reject weak passwords set with ALTER ROLE (only when sent in clear text), and
    ``auth_delay`` slows down password guessing. Flags a server that preloads none of them; where
    logins go through an external provider (LDAP, Kerberos, certificates) this finding can be
    accepted.

    Fix: add ``auth_delay`` and ``passwordcheck`` (or ``credcheck``) to shared_preload_libraries and
    restart; set ``auth_delay.milliseconds``.

    References:
    https://www.postgresql.org/docs/current/passwordcheck.html,
    https://www.postgresql.org/docs/current/auth-delay.html
    """
    setting = snap.server.setting("shared_preload_libraries")
    libraries = [lib.rsplit("/", 1)[-1] for lib in _library_list(setting)]
    present = sorted(set(libraries) & {"passwordcheck", "credcheck", "auth_delay"})
    if present or setting is None:
        return
    wanted = tuple(dict.fromkeys([*_library_list(setting), "passwordcheck", "auth_delay"]))
    previous = None if setting.source in ("default", "configuration file") else tuple(_library_list(setting))
    fix = ChangePackage.of(
        "Preload passwordcheck and auth_delay",
        [AlterSystemList("shared_preload_libraries", wanted, previous), ReloadConfig()],
        "After the restart, weak passwords sent in clear text are refused and failed logins are delayed.",
        requires_restart=True,
        manual_steps=(
            "Restart PostgreSQL for shared_preload_libraries to take effect.",
            "Then: ALTER SYSTEM SET auth_delay.milliseconds = '500'; SELECT pg_reload_conf();",
        ),
        security_notes=(
            "passwordcheck cannot check passwords sent already hashed (psql's \\password); "
            "credcheck can enforce more rules.",
        ),
    )
    yield finding(
        "shared_preload_libraries",
        "none of passwordcheck, credcheck or auth_delay is preloaded",
        fix=fix,
        shared_preload_libraries=setting.value,
    )
