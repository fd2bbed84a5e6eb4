"""The national quarter's registry and planted problems: pure functions of the scale and seed.

Everything else (the import files, the fixture servers, the checks' expectations, the test)
asks this module, so they agree on which unit owns what and which page is broken.

Tree: 31 provinces → 300 cities → 3,000 counties (the issuing offices, one round each) →
departments (the rest of the 40,000 units). Websites go round-robin to counties and
departments; each has a homepage (target kind ``website``) and 30 columns (``column``).
New-media accounts go round-robin to every unit below the cities.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cached_property

FULL = {
    "provinces": 31,
    "cities": 300,
    "offices": 3_000,
    "units": 40_000,
    "websites": 14_000,
    "columns": 30,  # per website, not scaled
    "accounts": 150_000,
    "nm_findings": 10_000,
}

#: Which column pages carry a problem at inspection, per 10,000 (a few percent in all):
#: ``stale`` (newest entry months old), ``blank`` (no entries at all).
PAGE_PROBLEMS = {"stale": 300, "blank": 100}
#: Per 10,000 websites: ``broken`` (the homepage links to pages that are gone: 404),
#: ``unreachable`` (the homepage answers 500; its columns then cannot be judged), ``closed``
#: (registered as closed, its domain still resolving: not deregistered; not inspected).
SITE_PROBLEMS = {"broken": 300, "unreachable": 50, "closed": 50}
#: The category each planted problem must be filed under, exactly once.
CATEGORY_OF = {
    "stale": "column_stale",
    "blank": "column_blank",
    "broken": "broken_links",
    "unreachable": "site_unreachable",
    "closed": "domain_not_deregistered",
}
GONE_LINKS = 2  # dead links on a ``broken`` homepage
#: Per 10,000 planted problems: still present at the recheck (the rest are fixed by then).
STILL_PRESENT = 2_000

QUARTER = "2021Q3"
PERIOD = (date(2021, 7, 1), date(2021, 9, 30))
INSPECTION_DAY = date(2021, 10, 8)  # the checks run on this day (page dates relative to it)
NOTICE_DAY = date(2021, 10, 18)
DEADLINE_DAYS = 20  # working days, the catalogue's default mode
SWEEP_DAY = date(2021, 12, 1)  # after every deadline
RECHECK_DAY = date(2021, 12, 6)
HOST_SUFFIX = ".gov.test"


def _bucket(*parts: object, seed: int) -> int:
    """A stable number in 0..9,999 for the given key."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % 10_000


def _pick(table: dict[str, int], bucket: int) -> str | None:
    edge = 0
    for name, share in table.items():
        edge += share
        if bucket < edge:
            return name
    return None


@dataclass(frozen=True)
class Sizes:
    provinces: int
    cities: int
    offices: int
    units: int
    websites: int
    columns: int
    accounts: int
    nm_findings: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        def n(key: str) -> int:
            return max(1, round(FULL[key] * scale))

        sizes = {k: n(k) for k in FULL}
        sizes["columns"] = FULL["columns"]
        sizes["cities"] = max(sizes["cities"], sizes["provinces"])
        sizes["offices"] = max(sizes["offices"], sizes["cities"])
        sizes["units"] = max(
            sizes["units"], sizes["offices"] + sizes["cities"] + sizes["provinces"]
        )
        return cls(**sizes)

    @property
    def departments(self) -> int:
        return self.units - self.provinces - self.cities - self.offices

    @property
    def pages(self) -> int:
        return self.websites * (1 + self.columns)


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str  # province | city | county | department
    parent_code: str | None
    office_code: str | None  # the county (issuing office) whose round covers it; None above

    @property
    def email(self) -> str:
        return f"{self.code}@units.gov.test"


@dataclass(frozen=True)
class Website:
    index: int
    unit_code: str
    office_code: str

    @property
    def code(self) -> str:
        return f"w{self.index:05d}"

    @property
    def host(self) -> str:
        return f"s{self.index:05d}{HOST_SUFFIX}"

    def column_code(self, column: int) -> str:
        return f"{self.code}-c{column:02d}"

    @staticmethod
    def column_path(column: int) -> str:
        return f"/col/{column:02d}/"


@dataclass(frozen=True)
class Account:
    index: int
    unit_code: str
    office_code: str

    @property
    def code(self) -> str:
        return f"m{self.index:06d}"


class Plan:
    """The registry and the planted problems of one quarter at one scale."""

    def __init__(self, scale: float, *, seed: int = 2021):
        self.scale = scale
        self.seed = seed
        self.sizes = Sizes.at(scale)

    # -- the registry -----------------------------------------------------------------------
    @cached_property
    def units(self) -> list[Unit]:
        s = self.sizes
        units = [
            Unit(f"n-p{p:02d}", f"第{p + 1}省", "province", None, None) for p in range(s.provinces)
        ]
        units += [
            Unit(f"n-c{c:03d}", f"第{c + 1}市", "city", f"n-p{c % s.provinces:02d}", None)
            for c in range(s.cities)
        ]
        units += [
            Unit(f"n-k{k:04d}", f"第{k + 1}县", "county", f"n-c{k % s.cities:03d}", f"n-k{k:04d}")
            for k in range(s.offices)
        ]
        units += [
            Unit(
                f"n-u{d:05d}",
                f"第{d % s.offices + 1}县第{d // s.offices + 1}部门",
                "department",
                f"n-k{d % s.offices:04d}",
                f"n-k{d % s.offices:04d}",
            )
            for d in range(s.departments)
        ]
        return units

    @cached_property
    def offices(self) -> list[Unit]:
        return [u for u in self.units if u.kind == "county"]

    @cached_property
    def _below_cities(self) -> list[Unit]:
        return [u for u in self.units if u.office_code is not None]

    @cached_property
    def websites(self) -> list[Website]:
        owners = self._below_cities
        return [
            Website(i, owners[i % len(owners)].code, owners[i % len(owners)].office_code)
            for i in range(self.sizes.websites)
        ]

    @cached_property
    def accounts(self) -> list[Account]:
        owners = self._below_cities
        return [
            Account(i, owners[i % len(owners)].code, owners[i % len(owners)].office_code)
            for i in range(self.sizes.accounts)
        ]

    @staticmethod
    def round_code(office_code: str) -> str:
        return f"{QUARTER}-{office_code}"

    # -- the planted problems ---------------------------------------------------------------
    def page_problem(self, site: int, column: int) -> str | None:
        """The problem of a column page at inspection (None: a good page or a site problem)."""
        if self.site_problem(site) in ("unreachable", "closed"):
            return None
        return _pick(PAGE_PROBLEMS, _bucket("page", site, column, seed=self.seed))

    def site_problem(self, site: int) -> str | None:
        return _pick(SITE_PROBLEMS, _bucket("site", site, seed=self.seed))

    def expected_findings(self) -> set[tuple[str, str]]:
        """(target code, category code) of every planted website problem: each found once."""
        found = set()
        for site in self.websites:
            problem = self.site_problem(site.index)
            if problem:
                found.add((site.code, CATEGORY_OF[problem]))
            for column in range(self.sizes.columns):
                problem = self.page_problem(site.index, column)
                if problem:
                    found.add((site.column_code(column), CATEGORY_OF[problem]))
        return found

    def still_present(self, *key: object) -> bool:
        """Whether a planted problem is still there at the recheck (most are fixed)."""
        return _bucket("recheck", *key, seed=self.seed) < STILL_PRESENT

    def nm_finding_accounts(self) -> list[Account]:
        """The accounts an external detector reports (spread evenly over the registry)."""
        accounts = self.accounts
        step = max(1, len(accounts) // self.sizes.nm_findings)
        return accounts[::step][: self.sizes.nm_findings]
