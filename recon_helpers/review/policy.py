"""The review policy (``templates/review/review.yaml``): reason codes and who may use them, materiality.

A company's own copy in the workspace folder (``<workspace>/review.yaml``) replaces the built-in one, so
the people and their roles live with the journal they sign, not inside the package.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from recon_helpers import catalog
from recon_helpers.catalog import StrictModel, written_decimal
from recon_helpers.review.errors import DecisionRefused

Money = Annotated[Decimal, BeforeValidator(written_decimal), AfterValidator(lambda d: d.quantize(Decimal("0.01")))]
FILE_NAME = "review.yaml"
#: actions a reason code can justify
CODED_ACTIONS = ("write_off", "adjust", "match")


class Materiality(StrictModel):
    default: Money = Decimal("0.00")
    scenarios: dict[str, Money] = Field(default_factory=dict)


class Roles(StrictModel):
    default: str = "clerk"
    known: list[str] = Field(min_length=1)
    people: dict[str, str] = Field(default_factory=dict)


class ReasonCode(StrictModel):
    zh: str
    en: str
    actions: list[str] = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    max_amount: Money | None = None

    @property
    def label(self) -> str:
        return f"{self.zh} {self.en}"


class ReviewPolicy(StrictModel):
    """Reason codes, roles and materiality; :meth:`allow` says whether a person may use a code."""

    materiality: Materiality = Field(default_factory=Materiality)
    roles: Roles
    reason_codes: dict[str, ReasonCode] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_names(self) -> ReviewPolicy:
        known = set(self.roles.known)
        problems = [f"roles.people.{p}: unknown role {r!r}" for p, r in self.roles.people.items() if r not in known]
        if self.roles.default not in known:
            problems.append(f"roles.default: unknown role {self.roles.default!r}")
        for code, rc in self.reason_codes.items():
            problems += [f"reason_codes.{code}.roles: unknown role {r!r}" for r in rc.roles if r not in known]
            problems += [f"reason_codes.{code}.actions: {a!r} is not one of {', '.join(CODED_ACTIONS)}"
                         for a in rc.actions if a not in CODED_ACTIONS]
        if problems:
            raise ValueError("; ".join(problems) + f" (known roles: {', '.join(sorted(known))})")
        return self

    def role_of(self, person: str) -> str:
        return self.roles.people.get(person.strip(), self.roles.default)

    def threshold(self, scenario: str) -> Decimal:
        """The materiality of a scenario: exceptions up to this |amount| may stay unexplained at close."""
        return self.materiality.scenarios.get(scenario, self.materiality.default)

    def codes_for(self, action: str, person: str) -> dict[str, str]:
        """code -> label of the reason codes ``person`` may use for ``action`` (for the app's dropdown)."""
        role = self.role_of(person)
        return {c: rc.label for c, rc in self.reason_codes.items() if action in rc.actions and role in rc.roles}

    def allow(self, code: str | None, *, action: str, person: str, amount: Decimal) -> ReasonCode:
        """The reason code, if ``person`` may use it for ``action`` on ``amount``; DecisionRefused says why not."""
        if not code:
            raise DecisionRefused(f"{action} needs a reason code; choose one of {', '.join(self.codes_for(action, person)) or '(none allowed for you)'}")
        if code not in self.reason_codes:
            raise DecisionRefused(f"unknown reason code {code!r}; the policy knows {', '.join(sorted(self.reason_codes))}")
        rc = self.reason_codes[code]
        if action not in rc.actions:
            raise DecisionRefused(f"reason code {code!r} ({rc.label}) cannot justify {action}; it is for {', '.join(rc.actions)}")
        role = self.role_of(person)
        if role not in rc.roles:
            raise DecisionRefused(f"{person} ({role}) may not use reason code {code!r} ({rc.label}); "
                                  f"it is for {', '.join(rc.roles)}: ask one of them")
        if rc.max_amount is not None and abs(amount) > rc.max_amount:
            raise DecisionRefused(f"reason code {code!r} ({rc.label}) covers at most {rc.max_amount} per use, "
                                  f"not {abs(amount)}; split the rows or use another code")
        return rc


def load_policy(path: str | Path | None = None, *, workspace_folder: str | Path | None = None) -> ReviewPolicy:
    """``path``, else ``<workspace>/review.yaml`` when there is one, else the built-in policy."""
    if path is None and workspace_folder is not None and (Path(workspace_folder) / FILE_NAME).is_file():
        path = Path(workspace_folder) / FILE_NAME
    if path is None:
        path = catalog.folder("review") / FILE_NAME
    return catalog.read_entry(path, ReviewPolicy, what="review policy", keys="materiality:, roles:, reason_codes:")


def describe(policy: ReviewPolicy) -> list[dict[str, Any]]:
    """The reason codes as rows (code, label, actions, roles, max_amount) for a table in the notebook."""
    return [{"code": c, "label": rc.label, "actions": ", ".join(rc.actions), "roles": ", ".join(rc.roles),
             "max_amount": rc.max_amount} for c, rc in policy.reason_codes.items()]
