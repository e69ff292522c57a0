"""A test double of a Snowflake account behind the SqlRunner interface: it stands in for the network.

It keeps warehouses (size, type, state, resource constraint), grants, and per-test answers for queries,
applies the rules that matter here (a memory option needs its documented minimum size; a suspended warehouse
cannot be suspended again; the generation of a standard warehouse changes only while suspended, as documented;
and, stricter than needed if Snowflake allows it, the type changes only while suspended, which is how
Snowflake's demo converted), logs every statement, and can fail
the N-th statement (``fail_at``) or every statement from then on (``dead_from``: the network or app died).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from snowml_desktop.core import sizes
from snowml_desktop.core.errors import ConnectionFailed, EngineError
from snowml_desktop.engines.snowflake import sql
from snowml_desktop.engines.snowflake.session import QueryResult


@dataclass
class FakeWarehouse:
    size: str = "XSMALL"
    type: str = "STANDARD"
    state: str = "STARTED"
    resource_constraint: str | None = "STANDARD_GEN_1"


@dataclass
class FakeAccount:
    warehouses: dict[str, FakeWarehouse] = field(default_factory=lambda: {"WH": FakeWarehouse()})
    grants: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # warehouse -> (privilege, role)
    session_roles: set[str] = field(default_factory=lambda: {"ANALYST", "PUBLIC"})
    current_warehouse: str = "WH"
    fail_at: int | None = None
    dead_from: int | None = None
    log: list[sql.Statement] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    answers: list[tuple[str, Callable[[sql.Statement], list[dict[str, Any]]]]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def answer(
        self, pattern: str, rows: list[dict[str, Any]] | Callable[[sql.Statement], list[dict[str, Any]]]
    ) -> None:
        """Rows for statements whose text matches ``pattern`` (regex); later answers win."""
        self.answers.insert(0, (pattern, rows if callable(rows) else (lambda _s, r=rows: r)))

    # --- SqlRunner --------------------------------------------------------------------------------------
    def execute(self, statement: sql.Statement, *, operation: str, task=None) -> QueryResult:
        if task is not None:
            task.check()
        index = len(self.log)
        self.log.append(statement)
        self.operations.append(operation)
        assert statement.text.count("?") == len(statement.params), statement.text
        if statement.verify == sql.PARSED:  # everything the engine sends must be real SQL
            assert not isinstance(sqlglot.parse_one(statement.text, read="snowflake"), exp.Command), (
                statement.text
            )
        if index == self.fail_at or (self.dead_from is not None and index >= self.dead_from):
            raise ConnectionFailed(f"Injected network failure at statement {index}.")
        return QueryResult(self._rows(statement), f"qid-{next(self._ids)}")

    def cancel_all(self) -> None:
        pass

    def close(self) -> None:
        pass

    # --- behaviour --------------------------------------------------------------------------------------
    def _rows(self, statement: sql.Statement) -> list[dict[str, Any]]:
        text = statement.text
        for pattern, make in self.answers:
            if re.search(pattern, text):
                return make(statement)
        if text.startswith("SHOW WAREHOUSES LIKE"):
            return [
                {
                    "name": n,
                    "size": sizes.parse_size(w.size).label,
                    "type": w.type,
                    "state": w.state,
                    "resource_constraint": w.resource_constraint,
                }
                for n, w in self.warehouses.items()
                if n.lower()
                == re.match(r"SHOW WAREHOUSES LIKE '(.*)'$", text).group(1).replace("''", "'").lower()
            ]
        if text.startswith("SHOW GRANTS ON WAREHOUSE"):
            name = _ident(text.split("WAREHOUSE ", 1)[1])
            return [
                {
                    "privilege": p,
                    "granted_on": "WAREHOUSE",
                    "name": name,
                    "granted_to": "ROLE",
                    "grantee_name": r,
                }
                for p, r in self.grants.get(name, [("OWNERSHIP", "ANALYST")])
            ]
        if "IS_ROLE_IN_SESSION" in text:
            return [{f"R{i}": role in self.session_roles for i, role in enumerate(statement.params)}]
        if text.startswith("ALTER WAREHOUSE"):
            self._alter(text)
            return [{"status": "Statement executed successfully."}]
        if text.startswith("CREATE WAREHOUSE IF NOT EXISTS"):
            name = _ident(text[len("CREATE WAREHOUSE IF NOT EXISTS ") :].split(" WITH ")[0])
            props = dict(re.findall(r"(\w+) = ('[^']*'|\w+)", text))
            self.warehouses.setdefault(
                name,
                FakeWarehouse(
                    props["WAREHOUSE_SIZE"],
                    props["WAREHOUSE_TYPE"].strip("'"),
                    "SUSPENDED",
                    props.get("RESOURCE_CONSTRAINT", "MEMORY_16X"),
                ),
            )
            return [{"status": "created"}]
        if text.startswith("USE WAREHOUSE"):
            self.current_warehouse = _ident(text[len("USE WAREHOUSE ") :])
            return [{"status": "ok"}]
        if text.startswith("CALL"):
            warehouse = self.warehouses[self.current_warehouse]
            warehouse.state = "STARTED"
            return [{"RESULT": "{}"}]
        return []

    def _alter(self, text: str) -> None:
        match = re.match(r'ALTER WAREHOUSE ("(?:[^"]|"")*")(.*)$', text)
        name_part, rest = match.group(1), match.group(2)
        warehouse = self.warehouses[_ident(name_part)]
        if text.endswith(" SUSPEND"):
            if warehouse.state == "SUSPENDED":
                raise EngineError("Invalid state. Warehouse cannot be suspended.")
            warehouse.state = "SUSPENDED"
            return
        props = dict(re.findall(r"(\w+) = ('[^']*'|\w+)", rest))
        new_type = props.get("WAREHOUSE_TYPE", warehouse.type).strip("'")
        new_size = props.get("WAREHOUSE_SIZE", warehouse.size)
        constraint = props.get("RESOURCE_CONSTRAINT")
        if new_type != warehouse.type:
            if warehouse.state != "SUSPENDED":
                raise EngineError("Warehouse type can only be changed while the warehouse is suspended.")
            constraint = constraint or (
                "MEMORY_16X" if new_type == sizes.SNOWPARK_OPTIMIZED else "STANDARD_GEN_1"
            )
        elif constraint and constraint != warehouse.resource_constraint and warehouse.state != "SUSPENDED":
            raise EngineError(
                "The warehouse generation can only be changed while the warehouse is suspended."
            )
        constraint = constraint or warehouse.resource_constraint
        if new_type == sizes.SNOWPARK_OPTIMIZED:
            sql.check_resource_constraint(constraint, new_size)  # the documented minimum sizes
        else:
            sql.check_standard_generation(constraint, new_size)
        warehouse.type, warehouse.size, warehouse.resource_constraint = new_type, new_size, constraint


def _ident(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), f"unquoted identifier {text!r}"
    return text[1:-1].replace('""', '"')
