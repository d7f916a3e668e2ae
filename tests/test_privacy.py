"""Pseudonymization: keyed, consistent, irreversible without the key, and applied before storing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from detector.cli import main
from detector.detect import detect
from detector.load import IngestOptions, ingest_file
from detector.privacy import (
    Pseudonymizer,
    PseudonymKeyError,
    load_key,
    new_key_file,
    pseudonymize_account,
    pseudonymize_post,
    pseudonymize_text,
)
from detector.records import Account
from detector.store import iter_posts
from tests.factories import accounts_of, sample_posts, write_file
from tests.test_detect import hand_made

KEY_A = Pseudonymizer(bytes(range(32)))
KEY_B = Pseudonymizer(bytes(range(1, 33)))


def test_same_account_same_pseudonym_under_one_key_and_another_under_another() -> None:
    assert KEY_A.account_id("twitter", "1001") == KEY_A.account_id("twitter", "1001")
    assert KEY_A.account_id("twitter", "1001") != KEY_A.account_id("twitter", "1002")
    assert KEY_A.account_id("twitter", "1001") != KEY_B.account_id("twitter", "1001")
    assert KEY_A.account_id("twitter", "1001") != KEY_A.account_id("mastodon", "1001")
    # an id and a handle that happen to be the same string are still told apart
    assert KEY_A.account_id("twitter", "bob")[1:] != KEY_A.handle("twitter", "bob")[2:]


def test_handles_are_case_insensitive_and_the_at_sign_does_not_matter() -> None:
    assert KEY_A.handle("twitter", "@Bob") == KEY_A.handle("twitter", "bob")
    assert KEY_A.handle("twitter", "BOB").startswith("u_")


def test_mentions_in_the_text_get_the_same_pseudonym_as_the_handle() -> None:
    out = pseudonymize_text(KEY_A, "twitter", "RT @Bob: merci @ann_2 et @bob !")
    bob, ann = KEY_A.handle("twitter", "bob"), KEY_A.handle("twitter", "ann_2")
    assert out == f"RT @{bob}: merci @{ann} et @{bob} !"
    assert pseudonymize_text(KEY_A, "twitter", "no mention here") == "no mention here"


def test_a_post_keeps_its_id_time_and_words_and_loses_who_wrote_it() -> None:
    original = sample_posts()[1]  # "RT @user1: Vote for Jean! #debat", mentions user1
    hidden = pseudonymize_post(KEY_A, original)
    assert hidden.post_id == original.post_id and hidden.created_at == original.created_at
    assert hidden.repost_of == original.repost_of and hidden.hashtags == original.hashtags
    assert hidden.account_id == KEY_A.account_id("twitter", original.account_id)
    assert hidden.handle == KEY_A.handle("twitter", "user2")
    assert hidden.mentions == (KEY_A.handle("twitter", "user1"),)
    assert "user1" not in hidden.text and "Vote for Jean! #debat" in hidden.text


def test_an_account_loses_its_display_name_and_keeps_its_counts() -> None:
    account = Account("twitter", "1001", handle="Jean2012", name="Jean Dupont", followers=12)
    hidden = pseudonymize_account(KEY_A, account)
    assert hidden.name is None and hidden.followers == 12
    assert hidden.account_id == KEY_A.account_id("twitter", "1001")
    assert hidden.handle == KEY_A.handle("twitter", "jean2012")


def test_detection_finds_the_same_campaigns_under_pseudonyms() -> None:
    posts = hand_made()
    plain = detect(posts)
    hidden = detect([pseudonymize_post(KEY_A, p) for p in posts])
    flagged = {a[1] for a, s in plain.scores.items() if s.flagged}
    assert {a[1] for a, s in hidden.scores.items() if s.flagged} == \
        {KEY_A.account_id("twitter", a) for a in flagged}
    assert len(hidden.campaigns) == len(plain.campaigns)


def test_key_files(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    made = new_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path).key_id == made.key_id and len(made.key) == 32
    with pytest.raises(PseudonymKeyError, match="exists already"):
        new_key_file(path)
    with pytest.raises(PseudonymKeyError, match="no such key file"):
        load_key(tmp_path / "missing.key")
    (tmp_path / "short.key").write_text("abcd\n")
    with pytest.raises(PseudonymKeyError, match="at least 16 bytes"):
        load_key(tmp_path / "short.key")
    (tmp_path / "bad.key").write_text("not hex at all, sorry")
    with pytest.raises(PseudonymKeyError, match="hex digits only"):
        load_key(tmp_path / "bad.key")
    assert "key=" not in repr(made)  # the key never shows in a log line


def test_ingest_stores_pseudonyms_only(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posts = sample_posts()
    dump = write_file(tmp_path / "d.jsonl", "twarc2", posts)
    report = ingest_file(engine, dump, IngestOptions(pseudonymizer=KEY_A))
    assert report.stored == len(posts)
    stored = list(iter_posts(engine))
    assert {p.account_id for p in stored} == {KEY_A.account_id("twitter", p.account_id) for p in posts}
    with engine.connect() as c:
        handles = {r[0] for r in c.execute(text("SELECT handle FROM accounts"))}
        names = {r[0] for r in c.execute(text("SELECT name FROM accounts"))}
        key_ids = {r[0] for r in c.execute(text("SELECT pseudonym_key FROM datasets"))}
    assert handles == {KEY_A.handle("twitter", a.handle or "") for a in accounts_of(posts).values()}
    assert names == {None} and key_ids == {KEY_A.key_id}


def test_the_database_file_holds_no_real_handle_or_id(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    key.write_text(KEY_A.key.hex())  # a fixed key: the bytes of the file are the same every run
    db = tmp_path / "p.db"
    dump = write_file(tmp_path / "d.jsonl", "twarc2", sample_posts())
    assert main(["ingest", str(dump), "--pseudonymize-key", str(key), "--db", str(db)]) == 0
    raw = db.read_bytes() + (tmp_path / "p.db-wal").read_bytes() if (tmp_path / "p.db-wal").exists() \
        else db.read_bytes()
    for secret in (b"user1", b"user2", b"1001", b"1002"):
        assert secret not in raw
    assert b"Vote for Jean" in raw  # the words themselves are kept


def test_one_database_one_key(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posts = sample_posts()
    first = write_file(tmp_path / "a.jsonl", "twarc2", posts[:3])
    ingest_file(engine, first, IngestOptions(pseudonymizer=KEY_A))
    second = write_file(tmp_path / "b.jsonl", "twarc2", posts[3:])
    with pytest.raises(PseudonymKeyError, match="another key"):
        ingest_file(engine, second, IngestOptions(pseudonymizer=KEY_B))
    with pytest.raises(PseudonymKeyError, match="give the same key"):
        ingest_file(engine, second, IngestOptions())
    with engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM posts")).scalar() == 3
        assert c.execute(text("SELECT COUNT(*) FROM datasets")).scalar() == 1
    assert ingest_file(engine, second, IngestOptions(pseudonymizer=KEY_A)).stored == 3


def test_a_plain_database_refuses_a_key(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posts = sample_posts()
    ingest_file(engine, write_file(tmp_path / "a.jsonl", "twarc2", posts[:3]), IngestOptions())
    with pytest.raises(PseudonymKeyError, match="without pseudonymization"):
        ingest_file(engine, write_file(tmp_path / "b.jsonl", "twarc2", posts[3:]),
                    IngestOptions(pseudonymizer=KEY_A))


def test_cli_prints_the_pseudonym_of_a_named_account(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "k.key"
    assert main(["privacy", "new-key", str(key)]) == 0
    assert main(["privacy", "pseudonym", "--key", str(key), "1001", "@User1"]) == 0
    out = capsys.readouterr().out.splitlines()
    loaded = load_key(key)
    assert out[-2] == f"1001\taccount_id\t{loaded.account_id('twitter', '1001')}"
    assert out[-1] == f"@User1\thandle\t{loaded.handle('twitter', 'user1')}"
    assert main(["privacy", "pseudonym", "--key", str(tmp_path / "nope"), "1"]) == 2
