"""A form generated from a method's ``ParamSpec`` list (``core.methods``): one editor per parameter.

int -> spin box (parameters whose 0 means "no limit" show that text at 0); float -> spin box, or a text
field checked as you type when the range spans orders of magnitude (``log``); choice -> combo box;
bool -> check box. Each editor has the parameter's help as tooltip, and a stable object name
``<prefix>.<parameter>`` with a matching accessible name.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from snowml_desktop.core.methods import MethodSpec, ParamSpec

__all__ = ["ParamForm", "means_no_limit", "param_label"]

_INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int


def param_label(name: str) -> str:
    """``max_depth`` -> ``Max depth``; ``C`` stays ``C``."""
    text = name.replace("_", " ")
    return text if len(text) <= 1 else text[0].upper() + text[1:]


def means_no_limit(spec: ParamSpec) -> bool:
    """An int parameter whose 0 means "no limit" (the form shows that text at 0)."""
    return spec.kind == "int" and spec.low == 0 and "no limit" in spec.help


class ParamForm(QWidget):
    """Editors for one method's parameters. ``values()`` gives typed values; ``errors()`` lists the fields
    that do not hold a valid value (the caller keeps Train disabled while there are any)."""

    #: Emitted whenever any value changes (also when a text field becomes valid or invalid).
    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, prefix: str = "param") -> None:
        super().__init__(parent)
        self._prefix = prefix
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._specs: list[ParamSpec] = []
        self._editors: dict[str, QWidget] = {}
        self._method: MethodSpec | None = None

    @property
    def method(self) -> MethodSpec | None:
        return self._method

    def set_method(self, method: MethodSpec | None) -> None:
        """Rebuild the editors for ``method`` with its defaults (None clears the form)."""
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self._editors.clear()
        self._method = method
        self._specs = list(method.params) if method else []
        for spec in self._specs:
            editor = self._make_editor(spec)
            editor.setObjectName(f"{self._prefix}.{spec.name}")
            editor.setAccessibleName(f"Parameter {param_label(spec.name)}")
            editor.setToolTip(f"{spec.name}: {spec.help}")
            editor.setWhatsThis(spec.help)
            label = QLabel(param_label(spec.name) + ":")
            label.setToolTip(spec.help)
            label.setBuddy(editor)
            self._layout.addRow(label, editor)
            self._editors[spec.name] = editor
        if not self._specs and method is not None:
            self._layout.addRow(QLabel("This method has no parameters."))
        self.changed.emit()

    def _make_editor(self, spec: ParamSpec) -> QWidget:
        if spec.kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(spec.default))
            box.toggled.connect(self.changed)
            return box
        if spec.kind == "choice":
            combo = QComboBox()
            combo.addItems([str(c) for c in spec.choices])
            combo.setCurrentText(str(spec.default))
            combo.currentIndexChanged.connect(self.changed)
            return combo
        if spec.kind == "int":
            spin = QSpinBox()
            low = int(spec.low) if spec.low is not None else -_INT_LIMIT
            high = int(min(spec.high, _INT_LIMIT)) if spec.high is not None else _INT_LIMIT
            spin.setRange(low, high)
            spin.setValue(int(spec.default))
            spin.setGroupSeparatorShown(True)
            if means_no_limit(spec):
                spin.setSpecialValueText("no limit")
            spin.valueChanged.connect(self.changed)
            return spin
        if spec.log:
            # Ranges like 1e-12..1 do not fit a spin box's fixed decimals: type the number instead.
            edit = QLineEdit(_format_float(spec.default))
            edit.textChanged.connect(lambda _text, e=edit, s=spec: self._check_text(e, s))
            edit.setPlaceholderText(f"{_format_float(spec.low)} … {_format_float(spec.high)}")
            return edit
        spin = QDoubleSpinBox()
        spin.setDecimals(3)
        spin.setRange(
            spec.low if spec.low is not None else -1e12, spec.high if spec.high is not None else 1e12
        )
        spin.setValue(float(spec.default))
        spin.valueChanged.connect(self.changed)
        return spin

    def _check_text(self, edit: QLineEdit, spec: ParamSpec) -> None:
        error = _float_error(edit.text(), spec)
        edit.setProperty("invalid", error is not None)
        edit.setStyleSheet("QLineEdit { border: 1px solid #d62728; }" if error else "")
        edit.setToolTip(f"{spec.name}: {error}" if error else f"{spec.name}: {spec.help}")
        self.changed.emit()

    # --- reading and writing -------------------------------------------------------------------------
    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    def errors(self) -> list[str]:
        """One message per field without a valid value (empty when the form is valid)."""
        found = []
        for spec in self._specs:
            editor = self._editors[spec.name]
            if isinstance(editor, QLineEdit) and (error := _float_error(editor.text(), spec)):
                found.append(f"{param_label(spec.name)}: {error}")
        return found

    def values(self) -> dict[str, Any]:
        """Typed values of the valid fields, by parameter name (invalid text fields are left out)."""
        result: dict[str, Any] = {}
        for spec in self._specs:
            editor = self._editors[spec.name]
            if isinstance(editor, QCheckBox):
                result[spec.name] = editor.isChecked()
            elif isinstance(editor, QComboBox):
                result[spec.name] = spec.choices[editor.currentIndex()]
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                result[spec.name] = editor.value()
            elif isinstance(editor, QLineEdit) and _float_error(editor.text(), spec) is None:
                result[spec.name] = float(editor.text())
        return result

    def set_values(self, values: dict[str, Any]) -> None:
        """Put ``values`` (parameter name -> value) into the editors; unknown names are ignored."""
        for name, value in values.items():
            editor = self._editors.get(name)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                editor.setCurrentText(str(value))
            elif isinstance(editor, QSpinBox):
                editor.setValue(int(value or 0))
            elif isinstance(editor, QDoubleSpinBox):
                editor.setValue(float(value))
            elif isinstance(editor, QLineEdit):
                editor.setText(_format_float(value))

    def changed_values(self) -> dict[str, Any]:
        """Only the values that differ from the method's defaults (what the model name's params show)."""
        defaults = {spec.name: spec.default for spec in self._specs}
        return {name: value for name, value in self.values().items() if value != defaults.get(name)}


def _format_float(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return f"{number:g}"


def _float_error(text: str, spec: ParamSpec) -> str | None:
    try:
        value = float(text.strip())
    except ValueError:
        return "enter a number" if text.strip() else "needs a value"
    if not math.isfinite(value):
        return "enter a finite number"
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        return f"must be between {_format_float(spec.low)} and {_format_float(spec.high)}"
    return None
