"""Encryption at rest: what dbwright can see of the data directory's storage, and what it says it cannot."""

from __future__ import annotations

from dbwright.audit.encryption import data_directory_device
from dbwright.audit.run import run_audit


def test_host_flag_follows_the_data_directory_to_its_device(pg):
    pg.execute("CREATE EXTENSION pgcrypto")
    pg.execute("CREATE TABLE public.cards (id int, number_enc bytea)")
    snap = pg.snapshot()
    result = run_audit(snap, host=True)
    rest = result.encryption.at_rest
    device = rest["data_directory_device"]
    assert device["data_directory"] == str(pg.cluster.data)
    assert device["reason"]
    if device["source"].startswith("/dev/"):
        assert device["encrypted"] in (True, False) and device["device_chain"]
    assert rest["pgcrypto_installed"] is True and rest["bytea_columns"] == ["public.cards.number_enc"]
    undetermined = " ".join(result.encryption.undetermined)
    assert "backups and archived WAL" in undetermined and "sslmode=verify-full" in undetermined
    without_host = run_audit(snap).encryption
    assert "run dbwright audit --host on the database host" in " ".join(without_host.undetermined)


def test_data_directory_elsewhere_is_stated_as_unknown(tmp_path):
    elsewhere = data_directory_device(str(tmp_path / "not-here"))
    assert elsewhere["encrypted"] is None and "not a data directory on this machine" in elsewhere["reason"]
    hidden = data_directory_device(None)
    assert hidden["encrypted"] is None and "pg_read_all_settings" in hidden["reason"]
