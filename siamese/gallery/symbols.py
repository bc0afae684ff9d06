"""A user's symbols: registering one (or another example of it), renaming and deleting it, by name
or as a page showed it (:class:`~siamese.gallery.errors.StaleChoice` when it changed since), with
every write checked against who asks (:func:`siamese.classroom.require`). A part of
:class:`siamese.gallery.gallery.Gallery`."""
from __future__ import annotations

import numpy as np
from siamese.classroom import Action, Actor, PermissionDenied, Role, require
from siamese.data.codec import input_to_bytes
from siamese.gallery.errors import GalleryError, StaleChoice
from siamese.gallery.names import clean_name, name_key
from siamese.gallery.schema import CLASS_SYMBOLS
from siamese.gallery.stores import Conflict


def _stale(shown: str, now: str | None) -> str:
    """The message of a :class:`StaleChoice`: the symbol shown as ``shown`` is now called ``now``
    (None: deleted)."""
    what = "was deleted" if now is None else f"was renamed to “{now}”"
    return f"“{shown}” {what} (in another tab, or by someone else) since this page showed it: choose again."


class SymbolEdits:
    """Writing a user's symbols. Needs ``_write()`` and ``_check_current()``
    (:class:`~siamese.gallery.roster.Roster`), which :class:`~siamese.gallery.gallery.Gallery` provides."""

    @staticmethod
    def _subject(con, actor: Actor, owner: int, set_name: str) -> tuple[str, str, str]:
        """How a message names whose symbols it means: ``(subject, verb, where)``, as in
        "Class symbols has", "You have ... in Class symbols", "Ana has ... in Class symbols"."""
        if actor.role is Role.SOLO:
            return set_name, "has", ""
        if owner == actor.owner:
            return "You", "have", f" in {set_name}"
        row = con.execute("SELECT name FROM owners WHERE id = ?", (owner,)).fetchone()
        return (row[0] if row else "Its owner"), "has", f" in {set_name}"

    # ---- writing ----
    def add_example(self, set_name: str, symbol: str, model_input: np.ndarray, thumbnail: bytes,
                    embedding: tuple[str, np.ndarray] | None = None, new_symbol: bool = True, *,
                    actor: Actor, owner: int | None = None, symbol_id: int | None = None) -> str:
        """Store one example of a symbol.

        Arguments:
            set_name: an existing reference set (for a student, only "Class symbols").
            symbol: the symbol's name (validated with :func:`clean_name`).
            model_input: ``(28, 28) float32`` from :func:`siamese.data.preprocess.to_model_input`.
            thumbnail: PNG bytes for display.
            embedding: ``(model id, (d,) float32)`` stored in the same transaction; compute it from
                :func:`~siamese.data.codec.stored_input` (what is stored), so a later recomputation gives
                the same vector.
            new_symbol: True: a new symbol of the actor's (registration); its name must be new
                among the actor's symbols in this set. False: add another example of an existing
                symbol (several sketches improve matching).
            actor: who asks; owner: whose existing symbol gets the example (default: the
                actor's own; only with ``new_symbol=False``).
            symbol_id: with ``new_symbol=False``, the symbol the page showed (ids are never
                reused), as ``symbol`` named it then: the example goes to that symbol or nowhere.

        Returns:
            the stored (cleaned) name.

        Raises:
            PermissionDenied: the actor may not (another student's symbol, a student writing
                outside "Class symbols", a new symbol for another owner).
            IdentityError: a student retired by a class reset.
            StaleChoice: ``symbol_id`` was renamed or deleted since the page showed it.
            GalleryError: bad name, duplicate name (with ``new_symbol``; names differing only in
                case or compatibility forms count as one, :func:`name_key`), unknown symbol
                (without), unknown set.
        """
        if not new_symbol and symbol_id is not None:
            with self._write() as con:
                self._check_current(con, actor)
                sym_id, set_id, in_set, name, _ = self._chosen(con, symbol_id, symbol, actor, Action.ADD_EXAMPLE)
                if in_set != set_name:
                    raise StaleChoice(f"“{symbol}” is not in {set_name}: choose again.")
                self._insert_example(con, set_id, sym_id, input_to_bytes(model_input), thumbnail, embedding)
            return name
        if new_symbol and owner not in (None, actor.owner):
            raise PermissionDenied("A new symbol belongs to whoever registers it; nobody registers for someone else.")
        owner = actor.owner if owner is None else owner
        require(actor, Action.REGISTER if new_symbol else Action.ADD_EXAMPLE, owner)
        if actor.role is Role.STUDENT and set_name != CLASS_SYMBOLS:
            raise PermissionDenied(f"Students register their symbols in {CLASS_SYMBOLS}; only the teacher can "
                                   f"change {set_name}.")
        name = clean_name(symbol)
        stored = input_to_bytes(model_input)
        with self._write() as con:
            self._check_current(con, actor)
            row = con.execute("SELECT id FROM ref_sets WHERE name = ?", (set_name,)).fetchone()
            if row is None:
                raise GalleryError(f"There is no reference set called {set_name!r}.")
            set_id = row[0]
            if new_symbol:
                if (alike := self._alike(con, set_id, owner, name)) is not None:
                    who, verb, where = self._subject(con, actor, owner, set_name)
                    same = "" if alike == name else ", which looks the same in the match list"
                    raise GalleryError(f"{who} already {verb} a symbol called “{alike}”{where}{same}. Choose another "
                                       "name, or add this sketch as another example of it.")
                try:
                    with con.savepoint():
                        sym_id = con.insert("INSERT INTO symbols (set_id, owner_id, name) VALUES (?, ?, ?)",
                                            (set_id, owner, name))
                except Conflict:
                    who, verb, where = self._subject(con, actor, owner, set_name)
                    raise GalleryError(f"{who} already {verb} a symbol called “{name}”{where}. Choose another "
                                       f"name, or add this sketch as another example of it.") from None
            else:
                found = con.execute("SELECT id FROM symbols WHERE set_id = ? AND owner_id = ? AND name = ?",
                                    (set_id, owner, name)).fetchone()
                if found is None:
                    who, verb, where = self._subject(con, actor, owner, set_name)
                    raise GalleryError(f"{who} {verb} no symbol called “{name}”{where}.")
                sym_id = found[0]
            self._insert_example(con, set_id, sym_id, stored, thumbnail, embedding)
        return name

    @staticmethod
    def _insert_example(con, set_id: int, sym_id: int, stored: bytes, thumbnail: bytes, embedding) -> None:
        ex_id = con.insert("INSERT INTO examples (symbol_id, model_input, thumbnail) VALUES (?, ?, ?)",
                           (sym_id, stored, thumbnail))
        if embedding is not None:
            con.execute("INSERT INTO embeddings (example_id, model_id, vector) VALUES (?, ?, ?)",
                        (ex_id, embedding[0], np.asarray(embedding[1], np.float32).tobytes()))
        con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE id = ?", (set_id,))

    @staticmethod
    def _alike(con, set_id: int, owner: int, name: str, besides: int | None = None) -> str | None:
        """Inside a write: the name of ``owner``'s symbol in the set that reads like ``name``
        (:func:`name_key`), other than the symbol ``besides``; None if there is none."""
        key = name_key(name)
        for sym_id, other in con.execute("SELECT id, name FROM symbols WHERE set_id = ? AND owner_id = ?",
                                         (set_id, owner)):
            if sym_id != besides and name_key(other) == key:
                return other
        return None

    @staticmethod
    def _chosen(con, symbol_id: int, shown: str, actor: Actor, action: Action) -> tuple[int, int, str, str, int]:
        """Inside a write: the symbol a page showed as ``shown``, as it is now: ``(id, set id, set
        name, name, owner)``, after :func:`siamese.classroom.require` for ``action`` on it.

        Raises:
            StaleChoice: it was deleted, or renamed, since (another tab, its owner, the teacher).
            PermissionDenied: not the actor's to change.
        """
        row = con.execute("SELECT s.id, s.set_id, r.name, s.name, s.owner_id FROM symbols s JOIN ref_sets r "
                          "ON r.id = s.set_id WHERE s.id = ?", (int(symbol_id),)).fetchone()
        if row is None:
            raise StaleChoice(_stale(shown, None))
        require(actor, action, row[4])
        if row[3] != shown:
            raise StaleChoice(_stale(shown, row[3]))
        return tuple(row)

    def stale_reason(self, symbol_id: int, shown: str) -> str | None:
        """Why the symbol a page showed as ``shown`` is no longer that (renamed or deleted since),
        in the words an action on it would be refused with (:class:`StaleChoice`); None while it
        is as shown. For a page to say so as soon as it notices, before anyone presses a button."""
        now = self.symbol(symbol_id)
        if now is None or now["name"] != shown:
            return _stale(shown, None if now is None else now["name"])
        return None

    def rename_chosen(self, symbol_id: int, shown: str, new: str, *, actor: Actor) -> str:
        """Rename the symbol a page showed: ``symbol_id`` (ids are never reused), named ``shown``
        there. The rename applies to that symbol as the page showed it, or to nothing.

        Returns:
            the cleaned new name.

        Raises:
            StaleChoice: renamed or deleted since the page showed it.
            PermissionDenied: another student's symbol. IdentityError: a retired student.
            GalleryError: bad new name; its own name ("nothing to change"); the name of another of
                the owner's symbols in the set, or one reading like it (:func:`name_key`). A
                change of case alone ("alpha" to "Alpha") is a rename.
        """
        name = clean_name(new)
        with self._write() as con:
            self._check_current(con, actor)
            sym_id, set_id, set_name, old, owner = self._chosen(con, symbol_id, shown, actor, Action.RENAME)
            if name == old:
                raise GalleryError(f"It is already called “{old}”: type the new name, then press Rename.")
            if (alike := self._alike(con, set_id, owner, name, besides=sym_id)) is not None:
                who, verb, where = self._subject(con, actor, owner, set_name)
                raise GalleryError(f"{who} already {verb} a symbol called “{alike}”{where}"
                                   + ("." if alike == name else ", which looks the same in the match list."))
            con.execute("UPDATE symbols SET name = ? WHERE id = ?", (name, sym_id))
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE id = ?", (set_id,))
        return name

    def delete_chosen(self, symbol_id: int, shown: str, *, actor: Actor) -> None:
        """Delete the symbol a page showed (``symbol_id``, named ``shown`` there) and all its
        examples, or nothing.

        Raises:
            StaleChoice: renamed or deleted since the page showed it.
            PermissionDenied: another student's symbol. IdentityError: a retired student.
        """
        with self._write() as con:
            self._check_current(con, actor)
            sym_id, set_id, *_ = self._chosen(con, symbol_id, shown, actor, Action.DELETE_SYMBOL)
            con.execute("DELETE FROM symbols WHERE id = ?", (sym_id,))
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE id = ?", (set_id,))

    def rename_symbol(self, set_name: str, old: str, new: str, *, actor: Actor, owner: int | None = None) -> str:
        """Rename ``owner``'s symbol ``old`` (default owner: the actor); returns the cleaned new name.

        Raises:
            PermissionDenied: another student's symbol. IdentityError: a retired student.
            GalleryError: bad or duplicate new name, unknown symbol.
        """
        owner = actor.owner if owner is None else owner
        require(actor, Action.RENAME, owner)
        name = clean_name(new)
        with self._write() as con:
            self._check_current(con, actor)
            row = con.execute("SELECT s.id, s.set_id FROM symbols s JOIN ref_sets r ON r.id = s.set_id "
                              "WHERE r.name = ? AND s.owner_id = ? AND s.name = ?", (set_name, owner, old)).fetchone()
            if row and (alike := self._alike(con, row[1], owner, name, besides=row[0])) is not None:
                who, verb, where = self._subject(con, actor, owner, set_name)
                raise GalleryError(f"{who} already {verb} a symbol called “{alike}”{where}.")
            try:
                with con.savepoint():
                    cur = con.execute("UPDATE symbols SET name = ? WHERE name = ? AND owner_id = ? AND set_id = "
                                      "(SELECT id FROM ref_sets WHERE name = ?)", (name, old, owner, set_name))
            except Conflict:
                who, verb, where = self._subject(con, actor, owner, set_name)
                raise GalleryError(f"{who} already {verb} a symbol called “{name}”{where}.") from None
            if cur.rowcount == 0:
                who, verb, where = self._subject(con, actor, owner, set_name)
                raise GalleryError(f"{who} {verb} no symbol called “{old}”{where} (was it deleted?).")
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE name = ?", (set_name,))
        return name

    def delete_symbol(self, set_name: str, name: str, *, actor: Actor, owner: int | None = None) -> None:
        """Delete ``owner``'s symbol (default owner: the actor) and all its examples.

        Raises:
            PermissionDenied: another student's symbol. IdentityError: a retired student.
            GalleryError: unknown symbol.
        """
        owner = actor.owner if owner is None else owner
        require(actor, Action.DELETE_SYMBOL, owner)
        with self._write() as con:
            self._check_current(con, actor)
            cur = con.execute("DELETE FROM symbols WHERE name = ? AND owner_id = ? AND set_id = "
                              "(SELECT id FROM ref_sets WHERE name = ?)", (name, owner, set_name))
            if cur.rowcount == 0:
                who, verb, where = self._subject(con, actor, owner, set_name)
                raise GalleryError(f"{who} {verb} no symbol called “{name}”{where}.")
            con.execute("UPDATE ref_sets SET revision = revision + 1 WHERE name = ?", (set_name,))
