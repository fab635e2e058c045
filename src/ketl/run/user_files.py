"""The rule and gazetteer files a run loads besides ketl's own, the dataset's user gazetteer among them."""

from __future__ import annotations

from pathlib import Path

from ..stages.entities.review import USER_GAZETTEER, default_user_gazetteer

__all__ = ["with_user_gazetteer", "user_files"]


def with_user_gazetteer(settings):
    """``settings`` plus the dataset's user gazetteer when there is one, and notes for the run.

    A file at the old place beside the dataset is not loaded: the note names it.
    """
    out = Path(settings.out)
    user = default_user_gazetteer(out)
    notes = []
    old = out.resolve().parent / USER_GAZETTEER
    if old.is_file() and str(old) not in settings.gazetteer_files:
        notes.append(f"ignored {old}: it lies outside the dataset (move it to {user} to apply it)")
    if user.is_file() and str(user) not in settings.gazetteer_files:
        settings = settings.with_overrides(gazetteer_files=(*settings.gazetteer_files, str(user)))
    return settings, notes


def user_files(settings) -> list[str]:
    """Every rule and gazetteer file a run with ``settings`` loads besides ketl's own, as absolute paths."""
    return [str(Path(p).resolve()) for p in (*settings.rule_files, *settings.gazetteer_files)]
