"""A model's warnings as the GUI shows them: real warnings (the test metrics may mislead) apart from
informational notes (what training did on its own, such as leaving an identifier column out), each with a
readable title instead of its stable code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from snowml_desktop.ui.wording import for_gui

if TYPE_CHECKING:
    from snowml_desktop.core.records import ModelRecord, ModelWarning

__all__ = ["LEAKAGE_CODES", "ModelNotes", "message_of", "model_notes", "title_of"]

#: Stable warning codes (``core.training``) -> the title people read. Codes in _INFORMATIONAL are notes.
_TITLES = {
    "missing_target_dropped": "Rows without a label left out",
    "duplicates_dropped": "Duplicate rows dropped",
    "duplicate_leakage": "Test rows repeat training rows",
    "class_imbalance": "Imbalanced classes",
    "id_columns_excluded": "Identifier columns left out",
    "constant_columns_dropped": "Constant columns left out",
    "empty_columns_dropped": "Empty columns left out",
    "high_cardinality_excluded": "Text columns with too many values left out",
    "unsupported_columns_excluded": "Columns of unusable types left out",
    "not_converged": "Training stopped before converging",
    "small_test_set": "Small test set",
    "target_leak_suspected": "A column may give the label away",
    "rows_per_tree_capped": "Trees grown on a sample of the rows",
}
_INFORMATIONAL = frozenset(
    {
        "missing_target_dropped",
        "duplicates_dropped",
        "id_columns_excluded",
        "constant_columns_dropped",
        "empty_columns_dropped",
        "high_cardinality_excluded",
        "unsupported_columns_excluded",
        "rows_per_tree_capped",
    }
)

#: Warnings that make the test metrics look better than the model is: such models are not ranked first.
LEAKAGE_CODES = frozenset({"duplicate_leakage", "target_leak_suspected"})


@dataclass(frozen=True)
class ModelNotes:
    warnings: list[ModelWarning]
    notes: list[ModelWarning]


def model_notes(record: ModelRecord) -> ModelNotes:
    """Split ``record.warnings`` into warnings (unknown codes count as warnings) and informational notes."""
    return ModelNotes(
        warnings=[w for w in record.warnings if w.code not in _INFORMATIONAL],
        notes=[w for w in record.warnings if w.code in _INFORMATIONAL],
    )


def title_of(warning: ModelWarning) -> str:
    """A readable title for ``warning``; an unknown code reads as words ("some_code" -> "Some code")."""
    return _TITLES.get(warning.code) or warning.code.replace("_", " ").capitalize()


def message_of(warning: ModelWarning) -> str:
    return for_gui(warning.message)
