"""Synthetic but valid registry people, for demo data, benchmarks and tests (never real persons)."""

import csv
import datetime as dt
import random
from collections.abc import Iterator

from stdnum.fr import nir as stdnum_nir

from .registry import COLUMNS

FAMILY_NAMES = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
                "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
                "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "N'Diaye",
                "Nguyen", "Benali", "Da Silva"]
GIVEN_M = ["Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Adam", "Léo", "Raphaël", "Paul", "Yanis",
           "Mohamed", "Nathan", "Théo", "Jean", "Pierre", "Michel", "Alain"]
GIVEN_F = ["Emma", "Jade", "Louise", "Alice", "Chloé", "Lina", "Léa", "Rose", "Anna", "Mila", "Inès", "Camille",
           "Marie", "Nathalie", "Isabelle", "Sylvie", "Fatou", "Aïcha"]
CITIES = [("75013", "Paris", "75", "113"), ("69003", "Lyon", "69", "383"), ("13005", "Marseille", "13", "205"),
          ("20000", "Ajaccio", "2A", "004"), ("20200", "Bastia", "2B", "033"), ("33000", "Bordeaux", "33", "063"),
          ("59000", "Lille", "59", "350"), ("35000", "Rennes", "35", "238")]
STREETS = ["rue de la République", "avenue Jean Jaurès", "place de la Mairie", "rue Victor Hugo",
           "boulevard Pasteur", "chemin des Vignes"]


def make_nir(sex: str, birth: dt.date, department: str, commune: str, order: int) -> str:
    """A NIR with a valid control key (Corsica's 2A/2B included)."""
    body = f"{1 if sex == 'M' else 2}{birth:%y%m}{department}{commune}{order % 1000:03d}"
    return body + stdnum_nir.calc_check_digits(body + "00")


class People:
    """A seeded source of registry rows; `order` keeps NIRs unique across one generator."""

    def __init__(self, seed: int = 2026):
        self.random = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
        self.order = 0
        self.used: set[str] = set()

    def row(self, *, birth: dt.date, sex: str | None = None, family_name: str | None = None, email: bool = True,
            phone: bool = True, parent: dict | None = None, city=None) -> dict:
        r = self.random
        sex = sex or r.choice("MF")
        postal_code, city_name, department, commune = city or r.choice(CITIES)
        while True:
            self.order += 1
            nir = make_nir(sex, birth, department, f"{(int(commune) + self.order // 1000) % 990 + 1:03d}",
                           self.order)
            if nir not in self.used:
                self.used.add(nir)
                break
        family_name = family_name or r.choice(FAMILY_NAMES)
        given = r.choice(GIVEN_M if sex == "M" else GIVEN_F)
        second = r.choice(GIVEN_M if sex == "M" else GIVEN_F)
        slug = f"{given}.{family_name}".lower().replace("é", "e").replace("è", "e").replace("ë", "e")
        slug = "".join(c for c in slug.replace("ï", "i") if c.isalnum() or c == ".")
        return {
            "nir": nir,
            "vitale_serial": f"{r.randrange(10**11, 10**12)}",
            "family_name": family_name,
            "given_names": f"{given} {second}",
            "birth_date": birth.isoformat(),
            "sex": sex,
            "email": f"{slug}.{self.order}@example.org" if email else "",
            "phone": f"06{r.randrange(10**7, 10**8)}" if phone else "",
            "address": f"{r.randrange(1, 200)} {r.choice(STREETS)}",
            "postal_code": postal_code,
            "city": city_name,
            "parent_nir": parent["nir"] if parent else "",
        }

    def birth(self, min_age: int, max_age: int, today: dt.date) -> dt.date:
        days = self.random.randrange(min_age * 365 + 1, max_age * 365 - 1)
        return today - dt.timedelta(days=days)

    def families(self, count: int, today: dt.date, *, email_ratio: float = 0.8) -> Iterator[dict]:
        """Households: one or two adults, sometimes children attached to the first adult."""
        r = self.random
        for _ in range(count):
            city = r.choice(CITIES)
            family_name = r.choice(FAMILY_NAMES)
            parent = self.row(birth=self.birth(25, 60, today), family_name=family_name, city=city,
                              email=r.random() < email_ratio)
            yield parent
            if r.random() < 0.4:
                yield self.row(birth=self.birth(25, 60, today), family_name=family_name, city=city,
                               email=r.random() < email_ratio)
            if r.random() < 0.5:
                for _child in range(r.randrange(1, 4)):
                    yield self.row(birth=self.birth(1, 17, today), family_name=family_name, city=city,
                                   email=False, phone=False, parent=parent)


def write_csv(path, rows) -> int:
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
