"""Copy a whole gallery from one database to another (``python -m siamese db copy``): typically
the SQLite file a single server used into the PostgreSQL database several servers will share.

Every row of every table goes across as it is: owners (students' identities, as hashes, and
whether a reset retired them), sets with their revisions, symbols, examples (model inputs and
thumbnails), stored embeddings with the id of the model that made them, and the meta keys; ids are
kept, and the target's next ids come after the highest the source ever handed out (ids are never
reused). The copy is one transaction on the target, made while holding the source's write lock (no
write lands halfway through): a copy that fails leaves the target as it was. Then each table is
read back from the target and its row count and SHA-256 checksum compared with the source's.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from siamese.classroom import TEACHER_OWNER
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.stores import TABLES, open_store

BATCH = 500
"""Rows read and written at a time (bounded memory for any gallery size)."""


class CopyError(Exception):
    """A copy refused or failed; the message says why and that the target was left as it was."""


@dataclass(frozen=True)
class TableCopy:
    """One table's copy: ``rows`` copied; ``source``/``target``: SHA-256 (hex) of its rows in key
    order, read from each database (equal when the copy is verified)."""
    table: str
    rows: int
    source: str
    target: str


def _canonical(row) -> bytes:
    """A row as bytes for the checksum: the same values hash alike whichever driver read them."""
    return repr(tuple(bytes(v) if isinstance(v, (bytes, bytearray, memoryview)) else v for v in row)).encode()


def _select(table: str) -> str:
    cols = TABLES[table]
    order = "example_id, model_id" if table == "embeddings" else cols[0]
    return f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}"


def _digest(session, table: str) -> tuple[int, str]:
    """``(rows, SHA-256 hex)`` of one table as ``session`` reads it."""
    h, n, cur = hashlib.sha256(), 0, session.execute(_select(table))
    while rows := cur.fetchmany(BATCH):
        for row in rows:
            h.update(_canonical(row))
        n += len(rows)
    return n, h.hexdigest()


def _same_database(src, dst) -> bool:
    """Whether two stores are one database under two spellings (``localhost`` and ``127.0.0.1``, a
    path and its link): a key written in one is read in the other. Copying a database into itself
    would wait for its own write lock."""
    probe = f"copy probe {secrets.token_hex(8)}"
    with src.write() as s:
        s.execute("INSERT INTO meta (key, value) VALUES (?, '')", (probe,))
    try:
        with dst.read() as d:
            return d.execute("SELECT 1 FROM meta WHERE key = ?", (probe,)).fetchone() is not None
    finally:
        with src.write() as s:
            s.execute("DELETE FROM meta WHERE key = ?", (probe,))


def holdings(session) -> dict[str, int]:
    """What a gallery holds beyond a new one's rows: ``{"sets", "symbols", "students"}`` (a new
    gallery has only the teacher and an empty "Class symbols")."""
    one = lambda sql, *p: session.execute(sql, p).fetchone()[0]  # noqa: E731
    return {"sets": one("SELECT COUNT(*) FROM ref_sets WHERE name != ?", CLASS_SYMBOLS),
            "symbols": one("SELECT COUNT(*) FROM symbols"),
            "students": one("SELECT COUNT(*) FROM owners WHERE id != ?", TEACHER_OWNER)}


def copy_gallery(source: str, target: str, replace: bool = False, log=print) -> list[TableCopy]:
    """Copy the gallery at ``source`` into ``target``, then verify it.

    Arguments:
        source, target: database URLs or SQLite paths (see :func:`siamese.gallery.stores.open_store`);
            a target without the gallery's tables gets them.
        replace: overwrite a target that already holds a gallery (sets, symbols or students).
            Stop the app servers using the target first: they cache what it held.
        log: called with each line of the report.

    Returns:
        one :class:`TableCopy` per table, parents first.

    Raises:
        CopyError: source and target are the same database; the target holds a gallery and
            ``replace`` is False; the read-back counts or checksums differ (then the message says
            which table).
        siamese.gallery.errors.GalleryUnavailable: a database cannot be reached, or holds another
            schema version.
    """
    src, dst = open_store(source), open_store(target)
    if src.url == dst.url or _same_database(src, dst):
        raise CopyError(f"The source and the target are the same database ({src.where}): nothing was copied.")
    copied = {}
    with src.write() as s, dst.write() as d:
        held = holdings(d)
        if any(held.values()) and not replace:
            raise CopyError(f"The target {dst.where} already holds a gallery ({held['sets']} sets besides "
                            f"{CLASS_SYMBOLS}, {held['symbols']} symbols, {held['students']} students): nothing was "
                            "copied. Add --replace to overwrite it.")
        ours, theirs = src.last_ids(s), dst.last_ids(d)  # the target's too: its old ids stay unused
        last = {t: max(ours[t], theirs[t]) for t in ours}
        for table in reversed(TABLES):
            d.execute(f"DELETE FROM {table}")
        for table, cols in TABLES.items():
            insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            h, n, cur = hashlib.sha256(), 0, s.execute(_select(table))
            while rows := cur.fetchmany(BATCH):
                d.executemany(insert, rows)
                for row in rows:
                    h.update(_canonical(row))
                n += len(rows)
            copied[table] = (n, h.hexdigest())
        dst.advance_ids(d, last)
    with dst.read() as d:
        report = [TableCopy(t, n, digest, _digest(d, t)[1]) for t, (n, digest) in copied.items()]
        stored = {t: _digest(d, t)[0] for t in TABLES}
    log(f"copied {src.where} -> {dst.where}")
    for r in report:
        log(f"  {r.table:<10} {r.rows:>7} rows  sha256 {r.source[:16]}… {'=' if r.source == r.target else '≠'} "
            f"{r.target[:16]}…")
    bad = [r.table for r in report if r.source != r.target or stored[r.table] != r.rows]
    if bad:
        raise CopyError(f"Verification failed: {', '.join(bad)} differ between {src.where} and {dst.where}.")
    log(f"verified: every table holds the same rows in both (counts and SHA-256 checksums match); next ids "
        f"come after {', '.join(f'{t} {n}' for t, n in last.items())}")
    return report
