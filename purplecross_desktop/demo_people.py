"""Demo rows for the people of the clinic: staff, rooms, clients and their patients."""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from argon2 import PasswordHasher

from purplecross_desktop.database.text_order import fold_text
from purplecross_desktop.demo_catalog import ALERTS, PET_NAMES, SPECIES
from purplecross_desktop.domain.patients import Sex, Species

T = TypeVar("T")

DEMO_PASSWORD = "purplecross"  # every demo staff member; docs/domain.md says so

#: Easy logins for the first demo staff member of each role (when not taken already).
DEMO_LOGINS = {
    "veterinarian": "vet",
    "front_desk": "desk",
    "practice_manager": "manager",
    "admin": "admin",
}


class RowSink(Protocol):
    """Where rows go (``demo._Writer``)."""

    sqlite: bool

    def write(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], total: int
    ) -> None: ...


class PeopleRows:
    """Staff, rooms, clients and patients; ids are chosen here so rows can refer to each other.

    Args:
        writer: receives the rows.
        rng: the seeded source of every random choice.
        seed: also seeds Faker.
        now: the moment the data is built around (past visits before it, bookings after).
    """

    def __init__(self, writer: RowSink, rng: random.Random, seed: int, now: dt.datetime) -> None:
        self.w = writer
        self.rng = rng
        self.seed = seed
        self.now = now.astimezone(dt.UTC)
        self.today = self.now.date()
        self.now_minute = self.now.hour * 60 + self.now.minute
        self.random = rng.random
        # set by the generator: ids and logins of staff already in the database
        self.staff_offset = 0
        self.room_offset = 0
        self.taken_logins: set[str] = set()
        self._days: dict[int, Any] = {}
        # minute of the day -> what to add to the day's base value
        self._times: list[Any] = [
            f" {m // 60:02d}:{m % 60:02d}:00.000000" if writer.sqlite else dt.timedelta(minutes=m)
            for m in range(1440)
        ]
        self._date_cache: dict[int, Any] = {}
        # Faker is slow per call: draw pools once, then combine them with ``rng``.
        from faker import Faker

        fake = Faker("en_GB")
        fake.seed_instance(seed)
        self.first_names = sorted({fake.first_name() for _ in range(1500)})
        self.last_names = sorted({fake.last_name() for _ in range(2500)})
        self.streets = sorted({fake.street_name() for _ in range(2000)})
        self.towns: list[tuple[str, str]] = [(fake.city(), fake.postcode()) for _ in range(400)]

    # --- time values in each backend's native form ---------------------------------------

    def between(self, low: int, high: int) -> int:
        """A random integer in ``[low, high]`` (``randint`` costs ten times more)."""
        return low + int(self.random() * (high - low + 1))

    def pick(self, items: Sequence[T]) -> T:
        """A random element (``random.choice`` without its overhead)."""
        return items[int(self.random() * len(items))]

    def stamp(self, day: int, minute: int) -> Any:
        """The moment ``minute`` minutes after midnight UTC of ``today + day``: for SQLite the
        text SQLAlchemy's DateTime stores, for PostgreSQL an aware datetime."""
        return self.day_base(day + minute // 1440) + self._times[minute % 1440]

    def day_base(self, day: int) -> Any:
        """Midnight of ``today + day``, to which ``self._times[minute]`` is added."""
        base = self._days.get(day)
        if base is None:
            midnight = dt.datetime.combine(self.today + dt.timedelta(days=day), dt.time(), dt.UTC)
            base = midnight.strftime("%Y-%m-%d") if self.w.sqlite else midnight
            self._days[day] = base
        return base

    def date(self, day: int) -> Any:
        value = self._date_cache.get(day)
        if value is None:
            value = self.today + dt.timedelta(days=day)
            if self.w.sqlite:
                value = value.isoformat()
            self._date_cache[day] = value
        return value

    # --- the run -------------------------------------------------------------------------

    def person(self) -> tuple[str, str]:
        return self.pick(self.first_names), self.pick(self.last_names)

    def staff(self, appointments: int) -> None:
        """Vets (ids ``staff_offset + 1..vets``, the diary books them), front desk, one
        practice manager and two admins; the first of each role gets an easy login."""
        self.vets = max(2, min(40, -(-appointments // 40_000)))
        desk, managers, admins = max(2, self.vets // 2), 1, 2
        # once: argon2 is slow on purpose; a salt from the seed keeps the data deterministic
        # (the demo password is public anyway)
        salt = self.rng.getrandbits(128).to_bytes(16, "big")
        password_hash = PasswordHasher().hash(
            DEMO_PASSWORD, salt=salt
        )  # once: argon2 is slow on purpose
        rows: list[tuple[Any, ...]] = []
        logins: set[str] = set(self.taken_logins)
        roles = (
            ["veterinarian"] * self.vets
            + ["front_desk"] * desk
            + ["practice_manager"] * managers
            + ["admin"] * admins
        )
        for i, role in enumerate(roles):
            first, last = self.person()
            login = DEMO_LOGINS.get(role, "")
            if not login or login in logins:
                login = f"{first}.{last}".lower().replace(" ", "").replace("'", "")[:36]
            while login in logins:
                login = f"{login[:34]}{len(logins) % 100:02d}"
            logins.add(login)
            name = f"Dr {first} {last}" if role == "veterinarian" else f"{first} {last}"
            created = self.stamp(-3000, 9 * 60)
            rows.append(
                (
                    self.staff_offset + i + 1,
                    name,
                    fold_text(name),
                    role,
                    login,
                    password_hash,
                    f"{login}@example.com",
                    True,
                    created,
                    created,
                )
            )
        self.w.write(
            "staff",
            (
                "id",
                "name",
                "name_key",
                "role",
                "login",
                "password_hash",
                "email",
                "active",
                "created_at",
                "updated_at",
            ),
            rows,
            len(rows),
        )
        self.w.write(
            "rooms",
            ("id", "name", "active"),
            [
                (self.room_offset + r + 1, f"Consulting room {self.room_offset + r + 1}", True)
                for r in range(self.vets)
            ],
            self.vets,
        )

    def clients(self, n: int) -> None:
        rng = self.rng
        self.channels: list[str] = [""] * (n + 1)
        rows, phones = [], []
        for cid in range(1, n + 1):
            first, last = self.person()
            has_email = rng.random() < 0.85
            email = (
                f"{first}.{last}{cid}@example.{('com', 'org', 'net')[cid % 3]}".lower().replace(
                    " ", ""
                )
                if has_email
                else None
            )
            roll = rng.random()
            channel = "email" if has_email and roll < 0.7 else "sms" if roll < 0.93 else "none"
            self.channels[cid] = channel
            town, postcode = self.pick(self.towns)
            created = self.stamp(-self.between(30, 3600), self.between(480, 1080))
            rows.append(
                (
                    cid,
                    f"{first} {last}",
                    fold_text(f"{first} {last}"),
                    email,
                    f"{self.between(1, 240)} {self.pick(self.streets)}",
                    town,
                    postcode,
                    "United Kingdom",
                    channel,
                    "",
                    rng.random() > 0.03,
                    created,
                    created,
                )
            )
            # Ofcom's ranges reserved for drama: never a real subscriber
            phones.append((cid, "mobile", f"07700900{self.between(0, 999):03d}", 0))
            if rng.random() < 0.3:
                phones.append((cid, "home", f"02079460{self.between(0, 999):03d}", 1))
        self.w.write(
            "clients",
            (
                "id",
                "name",
                "name_key",
                "email",
                "street",
                "city",
                "postal_code",
                "country",
                "preferred_contact",
                "notes",
                "active",
                "created_at",
                "updated_at",
            ),
            rows,
            n,
        )
        self.w.write(
            "client_phones", ("client_id", "kind", "number", "position"), phones, len(phones)
        )

    def patients(self, n: int, clients: int) -> None:
        rng = self.rng
        kinds = list(SPECIES)
        cumulative = list(accumulate([SPECIES[k][0] for k in kinds]))
        self.owner = [0] * (n + 1)
        self.species: list[Species] = [Species.OTHER] * (n + 1)
        self.alive: list[int] = []
        rows, weights = [], []
        sexes = [s.value for s in Sex if s is not Sex.UNKNOWN]
        for pid in range(1, n + 1):
            owner = pid if pid <= clients else self.between(1, clients)
            kind = kinds[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            _, breeds, colours, (low, high), max_age = SPECIES[kind]
            age_days = self.between(60, max_age * 365)
            chip = None
            if (
                kind in (Species.DOG, Species.CAT, Species.FERRET, Species.RABBIT)
                and rng.random() < 0.85
            ):
                # i -> i * 7919 mod 10**12 is one-to-one: unique 15-digit ISO numbers
                chip = f"985{(pid * 7919 + self.seed * 104_729) % 10**12:012d}"
            alerts = json.dumps([self.pick(ALERTS)] if rng.random() < 0.06 else [])
            deceased = rng.random() < 0.03
            created = self.stamp(-min(age_days, 3500), self.between(480, 1080))
            pet_name = self.pick(PET_NAMES)
            rows.append(
                (
                    pid,
                    owner,
                    pet_name,
                    fold_text(pet_name),
                    kind.value,
                    self.pick(breeds),
                    self.pick(sexes),
                    self.date(-age_days),
                    self.pick(colours),
                    chip,
                    alerts,
                    "",
                    not deceased,
                    deceased,
                    self.date(-self.between(1, 365)) if deceased else None,
                    created,
                    created,
                )
            )
            weights.append(
                (pid, self.date(-self.between(0, 365)), round(rng.uniform(low, high), 3))
            )
            self.owner[pid], self.species[pid] = owner, kind
            if not deceased:
                self.alive.append(pid)
        self.w.write(
            "patients",
            (
                "id",
                "client_id",
                "name",
                "name_key",
                "species",
                "breed",
                "sex",
                "date_of_birth",
                "colour",
                "microchip",
                "alerts",
                "notes",
                "active",
                "deceased",
                "deceased_on",
                "created_at",
                "updated_at",
            ),
            rows,
            n,
        )
        self.w.write("patient_weights", ("patient_id", "measured_on", "weight_kg"), weights, n)


def accumulate(values: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total
