"""Demo data for `flask --app app seed-demo`: staff in all six roles, customers, a
catalogue of packages with itineraries and departures, enquiries with notes and
bookings that hold seats (docs/design.md "Running and configuration").

The data set is deterministic (one `random.Random(42)`; dates are relative to the
day it runs) and inserted with the ORM in one transaction. Every demo account shares
DEMO_PASSWORD, hashed once.
"""

import random
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, inspect, select

from auth.passwords import hash_password
from core.extensions import db
from demo.progress import NoProgress
from demo.transport import card_payment, seed_transport, seed_trip_sales
from models import (
    Booking,
    Customer,
    Departure,
    Employee,
    Enquiry,
    EnquiryNote,
    ItineraryDay,
    Package,
)
from models.base import utcnow
from services.booking.bookings import (
    CANCELLATION_POLICY,
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    REFERENCE_PREFIX,
)
from services.catalogue import catalogue
from services.catalogue.search import build_search_document
from services.shared.money import money

DEMO_PASSWORD = "demo-password-1"
SEED = 42
CUSTOMER_COUNT = 50
# Stages the demo enquiries sit in (won and lost need a booking / reason: the
# walkthrough shows those).
ENQUIRY_STATUS_CYCLE = ("new", "contacted", "quoted", "on_hold")
ENQUIRIES_PER_STATUS = 4

# (email, name, role, active): a dozen staff over all six roles.
STAFF = [
    ("admin@easytravels.test", "Amelia Hart", "admin", True),
    ("hr@easytravels.test", "Henry Walsh", "hr", True),
    ("hr2@easytravels.test", "Hannah Kowalski", "hr", True),
    ("sales1@easytravels.test", "Sofia Marin", "sales", True),
    ("sales2@easytravels.test", "Samuel Okafor", "sales", True),
    ("sales3@easytravels.test", "Priya Raman", "sales", True),
    ("operation@easytravels.test", "Oscar Lindqvist", "operation", True),
    ("operation2@easytravels.test", "Olivia Brennan", "operation", True),
    ("ophead@easytravels.test", "Omar Haddad", "operation_head", True),
    ("ophead2@easytravels.test", "Helena Novak", "operation_head", True),
    ("finance@easytravels.test", "Fiona Castillo", "finance", True),
    ("former.sales@easytravels.test", "Felix Moreau", "sales", False),
]

# (email, name, has_password): customers whose logins the README lists.
# German and Spanish texts of some packages (docs/i18n.md "Catalogue content"):
# the catalogue answers them to callers asking for those languages.
TRANSLATIONS = {
    "Lisbon & Sintra City Break": {
        "de": {
            "title": "Städtereise Lissabon & Sintra",
            "description": "Straßenbahnen, Fliesen und Paläste: vier entspannte Tage "
            "in Lissabon mit einem Tag in Sintra.",
        },
        "es": {
            "title": "Escapada a Lisboa y Sintra",
            "description": "Tranvías, azulejos y palacios: cuatro días tranquilos en "
            "Lisboa con un día en Sintra.",
        },
    },
    "Amalfi Coast Explorer": {
        "de": {
            "title": "Entdeckungsreise Amalfiküste",
            "description": "Dörfer an den Klippen, Zitronenhaine und Bootstage entlang "
            "der Amalfiküste.",
        },
        "es": {
            "title": "Explorador de la Costa Amalfitana",
            "description": "Pueblos sobre acantilados, limonares y días en barco a lo "
            "largo de la Costa Amalfitana.",
        },
    },
    "Iceland Ring Road Adventure": {
        "de": {
            "title": "Abenteuer Ringstraße Island",
            "description": "Acht Tage rund um Island: Wasserfälle, Gletscher, schwarze "
            "Strände, Lagunen.",
        },
        "es": {
            "title": "Aventura por la Ring Road de Islandia",
            "description": "Ocho días alrededor de Islandia: cascadas, glaciares, "
            "playas negras y lagunas.",
        },
    },
}

# Languages of the generated customers (the known demo logins stay English).
CUSTOMER_LOCALES = ("en", "en", "de", "es", None)

KNOWN_CUSTOMERS = [
    ("customer@easytravels.test", "Clara Byrne", True),
    ("customer2@easytravels.test", "Diego Alvarez", True),
    ("walkin@easytravels.test", "Grace Mulligan", False),
]

FIRST_NAMES = [
    "Aoife",
    "Liam",
    "Emma",
    "Noah",
    "Mia",
    "Lucas",
    "Chloe",
    "Mateo",
    "Ines",
    "Jonas",
    "Freya",
    "Arjun",
    "Leila",
    "Tomasz",
    "Yuki",
    "Marta",
    "Rafael",
    "Zoe",
    "Ciaran",
    "Elena",
    "Kofi",
    "Anna",
    "Luca",
    "Sara",
    "Ethan",
    "Nora",
    "Hugo",
    "Amara",
    "Ivan",
    "Julia",
]
LAST_NAMES = [
    "Murphy",
    "Kelly",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Novak",
    "Silva",
    "Jensen",
    "Kaur",
    "Tanaka",
    "Garcia",
    "Nowak",
    "Fischer",
    "Costa",
    "Larsen",
    "Moreau",
    "Byrne",
    "Ivanova",
    "Mensah",
    "Lopez",
    "Walsh",
    "Bianchi",
    "Horvat",
    "Peters",
    "Ahmed",
    "Keane",
    "Sato",
    "Martin",
    "Berg",
    "Quinn",
]
# (city, country calling code, streets)
CITIES = [
    ("Dublin", "+353", ("Baggot Street", "Camden Row", "Leeson Lane")),
    ("Cork", "+353", ("Oliver Plunkett Street", "Grand Parade")),
    ("Galway", "+353", ("Shop Street", "Quay Street")),
    ("London", "+44", ("Marylebone High Street", "Clerkenwell Road")),
    ("Manchester", "+44", ("Deansgate", "Oxford Road")),
    ("Berlin", "+49", ("Kastanienallee", "Bergmannstrasse")),
    ("Madrid", "+34", ("Calle de Alcala", "Calle Mayor")),
    ("Lyon", "+33", ("Rue de la Republique", "Quai Saint-Antoine")),
    ("Milan", "+39", ("Via Dante", "Corso Buenos Aires")),
    ("Amsterdam", "+31", ("Prinsengracht", "Utrechtsestraat")),
]

# title, destination, origin, transport, base price, deposit %, status, summary,
# days as "title @ location".
CATALOGUE = [
    (
        "Lisbon & Sintra City Break",
        "Lisbon, Portugal",
        "Dublin",
        "flight",
        "690",
        100,
        "published",
        "Trams, tiles and palaces: four easy days in Lisbon with a day in Sintra.",
        [
            "Arrival and Alfama evening walk @ Lisbon",
            "Belem monuments and pasteis @ Lisbon",
            "Pena Palace and Moorish Castle @ Sintra",
            "Time-out market and departure @ Lisbon",
        ],
    ),
    (
        "Amalfi Coast Explorer",
        "Amalfi Coast, Italy",
        "Dublin",
        "flight",
        "1450",
        30,
        "published",
        "Cliffside villages, lemon groves and boat days along the Amalfi Coast.",
        [
            "Arrival in Naples and transfer @ Sorrento",
            "Pompeii guided visit @ Pompeii",
            "Path of the Gods hike @ Positano",
            "Boat trip to Capri @ Capri",
            "Ravello gardens and concert @ Ravello",
            "Free day on the coast @ Amalfi",
            "Transfer and departure @ Naples",
        ],
    ),
    (
        "Iceland Ring Road Adventure",
        "Reykjavik, Iceland",
        "London",
        "flight",
        "2350",
        30,
        "published",
        "Eight days around Iceland: waterfalls, glaciers, black beaches, lagoons.",
        [
            "Arrival and Blue Lagoon @ Reykjavik",
            "Golden Circle @ Thingvellir",
            "South coast waterfalls @ Vik",
            "Glacier lagoon boat trip @ Jokulsarlon",
            "East fjords drive @ Egilsstadir",
            "Lake Myvatn and nature baths @ Myvatn",
            "Whale watching @ Husavik",
            "Return and departure @ Reykjavik",
        ],
    ),
    (
        "Kyoto Temples & Tea Ceremony",
        "Kyoto, Japan",
        "London",
        "flight",
        "3100",
        30,
        "published",
        "Zen gardens, geisha districts and a private tea ceremony in Kyoto.",
        [
            "Arrival and Gion evening @ Kyoto",
            "Fushimi Inari at dawn @ Kyoto",
            "Arashiyama bamboo grove @ Kyoto",
            "Tea ceremony and kimono fitting @ Kyoto",
            "Day trip to Nara deer park @ Nara",
            "Golden Pavilion and Ryoan-ji @ Kyoto",
            "Cooking class and Nishiki market @ Kyoto",
            "Day trip to Osaka @ Osaka",
            "Departure @ Osaka",
        ],
    ),
    (
        "Marrakech & Atlas Mountains",
        "Marrakech, Morocco",
        "Madrid",
        "flight",
        "980",
        100,
        "published",
        "Souks, riads and a night in a Berber village in the High Atlas.",
        [
            "Arrival and Jemaa el-Fnaa @ Marrakech",
            "Medina and Bahia Palace @ Marrakech",
            "Drive to the High Atlas @ Imlil",
            "Berber village trek @ Imlil",
            "Majorelle Garden and hammam @ Marrakech",
            "Departure @ Marrakech",
        ],
    ),
    (
        "Scottish Highlands by Rail",
        "Inverness, Scotland",
        "London",
        "train",
        "1120",
        100,
        "published",
        "The West Highland Line, Loch Ness and the Isle of Skye by train and ferry.",
        [
            "Sleeper train north @ Inverness",
            "Loch Ness and Urquhart Castle @ Loch Ness",
            "Kyle Line to the coast @ Kyle of Lochalsh",
            "Isle of Skye tour @ Portree",
            "Jacobite steam train and return @ Fort William",
        ],
    ),
    (
        "Croatian Island Hopping",
        "Split, Croatia",
        "Berlin",
        "flight",
        "1690",
        30,
        "published",
        "Eight days of ferries, coves and old towns on the Dalmatian islands.",
        [
            "Arrival and Diocletian's Palace @ Split",
            "Ferry to Hvar @ Hvar",
            "Pakleni islands swim @ Hvar",
            "Ferry to Korcula @ Korcula",
            "Wine tasting on Peljesac @ Orebic",
            "Mljet national park @ Mljet",
            "Ferry back and farewell dinner @ Split",
            "Departure @ Split",
        ],
    ),
    (
        "Paris Weekend Escape",
        "Paris, France",
        "London",
        "train",
        "540",
        100,
        "published",
        "Three days in Paris by Eurostar: museums, bistros and the Seine.",
        [
            "Eurostar and Montmartre evening @ Paris",
            "Louvre and Seine cruise @ Paris",
            "Le Marais brunch and return @ Paris",
        ],
    ),
    (
        "Swiss Alps Panorama",
        "Interlaken, Switzerland",
        "Milan",
        "train",
        "1980",
        30,
        "published",
        "Glacier Express, Jungfraujoch and lakeside walks in the Bernese Oberland.",
        [
            "Arrival by rail @ Interlaken",
            "Jungfraujoch top of Europe @ Jungfraujoch",
            "Lauterbrunnen valley waterfalls @ Lauterbrunnen",
            "Glacier Express @ Zermatt",
            "Matterhorn viewpoint @ Gornergrat",
            "Departure @ Zurich",
        ],
    ),
    (
        "Andalusian Heritage Tour",
        "Seville, Spain",
        "Dublin",
        "flight",
        "1290",
        100,
        "published",
        "Moorish palaces and flamenco nights in Seville, Cordoba and Granada.",
        [
            "Arrival and tapas tour @ Seville",
            "Alcazar and cathedral @ Seville",
            "Mezquita of Cordoba @ Cordoba",
            "Alhambra and Generalife @ Granada",
            "Albaicin and flamenco show @ Granada",
            "White villages drive @ Ronda",
            "Departure @ Malaga",
        ],
    ),
    (
        "Prague & Vienna by Rail",
        "Prague, Czechia",
        "Berlin",
        "train",
        "1050",
        100,
        "published",
        "Two imperial capitals linked by rail: castles, cafes and concerts.",
        [
            "Arrival and Old Town Square @ Prague",
            "Prague Castle and Mala Strana @ Prague",
            "Train to Vienna @ Vienna",
            "Schonbrunn Palace @ Vienna",
            "Coffee houses and a concert @ Vienna",
            "Departure @ Vienna",
        ],
    ),
    (
        "Cappadocia Balloon & Caves",
        "Goreme, Turkey",
        "London",
        "flight",
        "1190",
        30,
        "published",
        "Sunrise balloon flight, cave hotels and underground cities.",
        [
            "Arrival and cave hotel check-in @ Goreme",
            "Sunrise balloon flight @ Goreme",
            "Underground city of Derinkuyu @ Derinkuyu",
            "Ihlara valley hike @ Ihlara",
            "Departure @ Kayseri",
        ],
    ),
    (
        "Norwegian Fjords by Rail and Boat",
        "Bergen, Norway",
        "Amsterdam",
        "flight",
        "2150",
        30,
        "published",
        "Flam Railway, Naeroyfjord cruise and the colourful wharf of Bergen.",
        [
            "Arrival and Bryggen wharf @ Bergen",
            "Floibanen funicular @ Bergen",
            "Train to Myrdal and Flam Railway @ Flam",
            "Naeroyfjord cruise @ Gudvangen",
            "Glacier museum and hike @ Fjaerland",
            "Coastal drive back @ Bergen",
            "Departure @ Bergen",
        ],
    ),
    (
        "Ring of Kerry Coach Tour",
        "Killarney, Ireland",
        "Dublin",
        "bus",
        "420",
        100,
        "published",
        "Three days around the Ring of Kerry with a jaunting car ride.",
        [
            "Coach to Killarney and jaunting car @ Killarney",
            "Ring of Kerry scenic loop @ Kenmare",
            "Muckross House and return @ Killarney",
        ],
    ),
    (
        "Greek Islands: Santorini & Naxos",
        "Santorini, Greece",
        "Manchester",
        "flight",
        "1790",
        30,
        "archived",
        "Caldera sunsets and sandy beaches on two Cycladic islands.",
        [
            "Arrival and Fira evening @ Santorini",
            "Oia sunset @ Santorini",
            "Volcano boat trip @ Santorini",
            "Ferry to Naxos @ Naxos",
            "Naxos old town and Portara @ Naxos",
            "Beach day at Plaka @ Naxos",
            "Ferry back to Santorini @ Santorini",
            "Departure @ Santorini",
        ],
    ),
    (
        "Bavarian Castles Road Trip",
        "Munich, Germany",
        "Amsterdam",
        "bus",
        "990",
        100,
        "rejected",
        "Neuschwanstein, Linderhof and alpine villages on a small-group coach.",
        [
            "Arrival and beer garden @ Munich",
            "Neuschwanstein Castle @ Schwangau",
            "Linderhof and Oberammergau @ Oberammergau",
            "Zugspitze excursion @ Garmisch",
            "Return and departure @ Munich",
        ],
    ),
    (
        "Tuscany Food & Wine",
        "Florence, Italy",
        "Dublin",
        "flight",
        "1540",
        30,
        "draft",
        "Cooking classes, Chianti vineyards and the Renaissance treasures of Florence.",
        [
            "Arrival and Duomo @ Florence",
            "Uffizi and Ponte Vecchio @ Florence",
            "Chianti vineyard tour @ Greve in Chianti",
            "Cooking class in a farmhouse @ Siena",
            "San Gimignano and Volterra @ San Gimignano",
            "Departure @ Florence",
        ],
    ),
    (
        "Budapest Thermal Baths Break",
        "Budapest, Hungary",
        "London",
        "flight",
        "610",
        100,
        "draft",
        "Four days of thermal spas, ruin bars and Danube views.",
        [
            "Arrival and Danube promenade @ Budapest",
            "Szechenyi baths @ Budapest",
            "Buda Castle and Fishermen's Bastion @ Budapest",
            "Departure @ Budapest",
        ],
    ),
    (
        "Dubrovnik & Montenegro Coast",
        "Dubrovnik, Croatia",
        "Manchester",
        "flight",
        "1390",
        30,
        "pending_approval",
        "City walls, the Bay of Kotor and the Montenegrin Riviera.",
        [
            "Arrival and city walls @ Dubrovnik",
            "Elaphiti islands cruise @ Dubrovnik",
            "Bay of Kotor @ Kotor",
            "Perast and Our Lady of the Rocks @ Perast",
            "Budva old town @ Budva",
            "Free day @ Dubrovnik",
            "Departure @ Dubrovnik",
        ],
    ),
    (
        "Sahara Desert Camp Trek",
        "Merzouga, Morocco",
        "Madrid",
        "flight",
        "1850",
        30,
        "pending_approval",
        "Ten days from Marrakech to the dunes of Erg Chebbi and back.",
        [
            "Arrival @ Marrakech",
            "Tizi n'Tichka pass @ Ait Benhaddou",
            "Ouarzazate film studios @ Ouarzazate",
            "Dades gorge @ Boumalne Dades",
            "Todra gorge @ Tinghir",
            "Camel trek into Erg Chebbi @ Merzouga",
            "Desert camp and stargazing @ Merzouga",
            "Nomad family visit @ Merzouga",
            "Draa valley drive @ Zagora",
            "Return and departure @ Marrakech",
        ],
    ),
]

DAY_SENTENCES = (
    "Your guide meets the group after breakfast.",
    "Lunch is included at a family-run restaurant.",
    "The afternoon is free to explore at your own pace.",
    "Expect about three hours of easy walking.",
    "Dinner tonight is a local speciality menu.",
    "Transfers are by private air-conditioned vehicle.",
)
REJECTION_REASON = "The coach operator contract is not signed yet; resubmit once it is."
ENQUIRY_TOPICS = [
    ("Dietary requirements", "I am coeliac; can the included meals be gluten free?"),
    ("Travelling with a child", "Is there a child price for a nine-year-old?"),
    (
        "Group booking",
        "We are a group of twelve colleagues; do you offer a group rate?",
    ),
    ("Visa question", "Do I need a visa for this trip with an Indian passport?"),
    ("Change of dates", "Can I move my booking to a later departure?"),
    ("Accessibility", "My father uses a wheelchair; is the itinerary accessible?"),
    ("Single supplement", "How much is the single room supplement?"),
    ("Payment by instalments", "Can I pay the balance in two instalments?"),
]
STAFF_NOTES = (
    "Called the customer and confirmed the details.",
    "Checked with the operations team; waiting for the supplier.",
    "Sent the information by email.",
    "Customer satisfied with the answer.",
)


class _Seeder:
    """Builds the demo rows in one session; `counts` summarises what was added."""

    def __init__(self, password_hash: str):
        self.rng = random.Random(SEED)
        self.now = utcnow()
        self.today = self.now.date()
        self.hash = password_hash
        self.currency = current_app.config["DEFAULT_CURRENCY"]
        self.hold_minutes = current_app.config["BOOKING_HOLD_MINUTES"]
        self.policy = list(
            current_app.config.get("CANCELLATION_POLICY", CANCELLATION_POLICY)
        )
        self.counts = defaultdict(int)
        self.reused = set()
        self.references = set(db.session.scalars(select(Booking.reference)))

    def ago(self, days: float) -> datetime:
        """An aware UTC instant `days` before now."""
        return self.now - timedelta(days=days)

    def add(self, obj, kind: str):
        """Add `obj` to the session and count it under `kind`."""
        db.session.add(obj)
        self.counts[kind] += 1
        return obj


def _existing(model, email: str):
    return db.session.scalar(select(model).where(model.email == email))


def seed_staff(s: _Seeder) -> dict[str, Employee]:
    """The STAFF employees by email, reusing any that already exist (e.g. the
    bootstrap admin when ADMIN_EMAIL is admin@easytravels.test)."""
    staff = {}
    for index, (email, name, role, active) in enumerate(STAFF):
        found = _existing(Employee, email)
        if found is not None:
            s.reused.add(email)
        else:
            phone = f"+353 1 555 {1000 + index:04d}"
            found = s.add(
                Employee(
                    name=name,
                    email=email,
                    phone=phone,
                    role=role,
                    active=active,
                    password_hash=s.hash,
                    created_at=s.ago(400 - index),
                    updated_at=s.ago(400 - index),
                ),
                "employees",
            )
        staff[email] = found
    db.session.flush()
    return staff


def _customer_fields(s: _Seeder, index: int) -> dict:
    first, last = s.rng.choice(FIRST_NAMES), s.rng.choice(LAST_NAMES)
    city, code, streets = s.rng.choice(CITIES)
    number = s.rng.randint(1, 180)
    phone = (
        f"{code} {s.rng.randint(20, 89)} {s.rng.randint(100, 999)} "
        f"{s.rng.randint(1000, 9999)}"
    )
    address = f"{number} {s.rng.choice(streets)}, {city}"
    fields = {
        "name": f"{first} {last}",
        "email": f"{first}.{last}{index}@example.com".lower(),
        "phone": phone,
        "address": address,
        "locale": CUSTOMER_LOCALES[index % len(CUSTOMER_LOCALES)],
    }
    if index % 7 == 3:  # some buy for a company: invoices show its VAT id
        fields["billing_address"] = f"{last} & Partners Ltd\n{address}"
        fields["vat_id"] = f"IE{s.rng.randint(1000000, 9999999)}T"
    return fields


def seed_customers(s: _Seeder, sales: list[Employee]) -> list[Customer]:
    """CUSTOMER_COUNT customers: the KNOWN_CUSTOMERS first, then generated ones; about
    a third were registered by sales (some of those without a password)."""
    customers = []
    for index in range(CUSTOMER_COUNT):
        fields = _customer_fields(s, index)
        has_password = s.rng.random() > 0.15
        if index < len(KNOWN_CUSTOMERS):
            fields["email"], fields["name"], has_password = KNOWN_CUSTOMERS[index]
            fields["locale"] = "en"
        by_sales = not has_password or s.rng.random() < 0.25
        created = s.ago(s.rng.uniform(30, 365))
        agent = s.rng.choice(sales)
        found = _existing(Customer, fields["email"])
        if found is None:
            found = s.add(
                Customer(
                    **fields,
                    password_hash=s.hash if has_password else None,
                    registered_by_id=agent.id if by_sales else None,
                    created_at=created,
                    updated_at=created,
                ),
                "customers",
            )
        customers.append(found)
    db.session.flush()
    return customers


def _itinerary(s: _Seeder, days: list[str]) -> list[ItineraryDay]:
    itinerary = []
    for number, spec in enumerate(days, start=1):
        title, _, location = spec.partition(" @ ")
        extra = " ".join(s.rng.sample(DAY_SENTENCES, 2))
        itinerary.append(
            ItineraryDay(
                day_number=number,
                title=title,
                location=location,
                description=f"{title} in {location}. {extra}",
            )
        )
    return itinerary


def _review_fields(s: _Seeder, status: str, author: Employee, heads: list[Employee]):
    created = s.ago(s.rng.uniform(60, 220))
    fields = {
        "created_at": created,
        "updated_at": created,
        "created_by_id": author.id,
        "revision_author_id": author.id,
        "last_edited_by_id": author.id,
    }
    if status == "draft":
        return fields
    submitted = created + timedelta(days=s.rng.uniform(1, 10))
    fields.update(submitted_at=submitted, updated_at=submitted)
    if status in ("published", "archived"):
        approved = submitted + timedelta(days=s.rng.uniform(0.2, 5))
        fields.update(
            approved_by_id=s.rng.choice(heads).id,
            approved_at=approved,
            updated_at=approved,
        )
    if status == "archived":
        fields["updated_at"] = s.ago(s.rng.uniform(1, 20))
    if status == "rejected":
        fields["rejection_reason"] = REJECTION_REASON
    return fields


def seed_packages(
    s: _Seeder, makers: list[Employee], heads: list[Employee]
) -> list[Package]:
    """The CATALOGUE packages with itineraries; the creator is an operation employee
    and the approver an operation head (maker-checker, docs/design.md
    "Accounts and roles")."""
    packages = []
    for (
        title,
        destination,
        origin,
        transport,
        price,
        deposit,
        status,
        summary,
        days,
    ) in CATALOGUE:
        author = s.rng.choice(makers)
        package = Package(
            title=title,
            description=summary,
            destination=destination,
            origin=origin,
            transport_mode=transport,
            duration_days=len(days),
            base_price=money(price),
            currency=s.currency,
            deposit_percent=deposit,
            status=status,
            translations=TRANSLATIONS.get(title),
            itinerary=_itinerary(s, days),
            **_review_fields(s, status, author, heads),
        )
        package.search_document = build_search_document(package)
        packages.append(s.add(package, "packages"))
    db.session.flush()
    return packages


def seed_departures(s: _Seeder, packages: list[Package]) -> list[Departure]:
    """2-4 future departures for each published package (capacity 10-40, a price
    within 15 % of the base price, rounded to 5)."""
    departures = []
    for package in packages:
        if package.status != "published":
            continue
        start = s.today + timedelta(days=s.rng.randint(10, 40))
        for _ in range(s.rng.randint(2, 4)):
            factor = Decimal(s.rng.randint(85, 115)) / 100
            price = (package.base_price * factor / 5).quantize(Decimal("1")) * 5
            departures.append(
                s.add(
                    Departure(
                        package=package,
                        start_date=start,
                        end_date=start + timedelta(days=package.duration_days - 1),
                        capacity=s.rng.randint(2, 8) * 5,
                        seats_taken=0,
                        price=money(price),
                        currency=package.currency,
                        created_at=package.approved_at,
                        updated_at=package.approved_at,
                    ),
                    "departures",
                )
            )
            start += timedelta(days=s.rng.randint(14, 45))
    db.session.flush()
    return departures


def new_reference(s: _Seeder) -> str:
    """A unique booking reference like `ET-7KQ2MX`."""
    while True:
        body = "".join(
            s.rng.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH)
        )
        ref = REFERENCE_PREFIX + body
        if ref not in s.references:
            s.references.add(ref)
            return ref


def _booking_state(
    s: _Seeder, booking: Booking, status: str, deposit_percent: int
) -> None:
    created = booking.created_at
    if status == "confirmed":
        share = Decimal(deposit_percent) / 100
        booking.amount_paid = money(booking.total_amount * share)
        booking.confirmed_at = created + timedelta(minutes=s.rng.randint(2, 14))
    elif status == "held":
        booking.created_at = s.now - timedelta(minutes=s.rng.randint(1, 5))
        booking.hold_expires_at = booking.created_at + timedelta(minutes=s.hold_minutes)
    elif status == "expired":
        booking.hold_expires_at = created + timedelta(minutes=s.hold_minutes)
    elif status == "cancelled":
        booking.cancelled_at = created + timedelta(minutes=s.rng.randint(3, 14))
        booking.cancel_reason = "Change of plans"
    booking.updated_at = booking.created_at


def _pick_status(s: _Seeder) -> str:
    return s.rng.choices(("confirmed", "held", "expired", "cancelled"), (6, 2, 1, 1))[0]


def seed_bookings(
    s: _Seeder,
    departures: list[Departure],
    customers: list[Customer],
    sales: list[Employee],
) -> list[Booking]:
    """0-3 bookings per departure with prices copied from it; live ones (held,
    confirmed) fit the capacity and `seats_taken` is set to their sum. The first
    known customer gets a confirmed and a held booking."""
    bookings = []
    for index, departure in enumerate(departures):
        count = s.rng.randint(0, 3)
        for number in range(max(count, 1) if index < 2 else count):
            status = _pick_status(s)
            customer = s.rng.choice(customers)
            if index < 2 and number == 0:
                customer, status = customers[0], ("confirmed", "held")[index]
            bookings.append(_book(s, departure, customer, status, sales))
    db.session.flush()
    for booking in bookings:
        _money_records(booking)
    return bookings


def _money_records(booking: Booking) -> None:
    """What the booking engine would have written: deposit and balance date, the
    invoice, a card payment for a confirmed booking, a credit note voiding the
    invoice of an expired or (unpaid) cancelled one."""
    from services.payments import billing

    deposit_percent = booking.departure.package.deposit_percent
    booking.deposit_amount = money(
        booking.total_amount * Decimal(deposit_percent) / 100
    )
    booking.balance_due_date = billing.balance_due_date(booking.departure.start_date)
    booking.price_snapshot = {"adult": f"{booking.unit_price:.2f}"}
    invoice = billing.issue_invoice(booking)
    if booking.amount_paid > 0:
        db.session.add(card_payment(booking, invoice))
    if booking.status == "expired":
        booking.expired_at = booking.hold_expires_at
        billing.credit(invoice, invoice.total_amount, "Hold expired unpaid")
    elif booking.status == "cancelled":
        booking.penalty_amount = Decimal("0.00")
        billing.credit(invoice, invoice.total_amount, "Cancelled before payment")


def _book(
    s: _Seeder,
    departure: Departure,
    customer: Customer,
    status: str,
    sales: list[Employee],
) -> Booking:
    seats = s.rng.randint(1, 4)
    if status in ("held", "confirmed"):
        seats = min(seats, departure.capacity - departure.seats_taken)
        if seats < 1:  # full: this one lapsed instead
            status, seats = "expired", 1
    booking = Booking(
        reference=new_reference(s),
        customer=customer,
        departure=departure,
        seats=seats,
        status=status,
        currency=departure.currency,
        unit_price=departure.price,
        total_amount=departure.price * seats,
        cancellation_policy=s.policy,
        created_by_id=s.rng.choice(sales).id if s.rng.random() < 0.3 else None,
        created_at=s.ago(s.rng.uniform(1, 25)),
    )
    _booking_state(s, booking, status, departure.package.deposit_percent)
    if status in ("held", "confirmed"):
        departure.seats_taken += seats
    return s.add(booking, "bookings")


def seed_enquiries(
    s: _Seeder,
    customers: list[Customer],
    packages: list[Package],
    sales: list[Employee],
) -> list[Enquiry]:
    """ENQUIRIES_PER_STATUS enquiries in each status, each assigned to a sales
    employee, with a thread of customer messages and staff notes."""
    enquiries = []
    published = [p for p in packages if p.status == "published"]
    for index in range(ENQUIRIES_PER_STATUS * len(ENQUIRY_STATUS_CYCLE)):
        status = ENQUIRY_STATUS_CYCLE[index % len(ENQUIRY_STATUS_CYCLE)]
        subject, message = ENQUIRY_TOPICS[index % len(ENQUIRY_TOPICS)]
        by_sales = s.rng.random() < 0.4
        agent = s.rng.choice(sales)
        created = s.ago(s.rng.uniform(6, 28))
        enquiry = s.add(
            Enquiry(
                customer=customers[index % 2] if index < 4 else s.rng.choice(customers),
                package_id=s.rng.choice(published).id if s.rng.random() < 0.7 else None,
                subject=subject,
                message=message,
                stage=status,
                assigned_to_id=agent.id,
                created_by_id=agent.id if by_sales else None,
                created_at=created,
                updated_at=created,
            ),
            "enquiries",
        )
        _notes(s, enquiry, agent)
        enquiries.append(enquiry)
    db.session.flush()
    return enquiries


def _notes(s: _Seeder, enquiry: Enquiry, agent: Employee) -> None:
    """A thread that fits the status: a new enquiry has only the customer's follow-up;
    one staff note per step the enquiry went through, and sometimes a reply."""
    when = enquiry.created_at + timedelta(hours=s.rng.uniform(1, 30))
    if enquiry.status == "new":
        _customer_note(s, enquiry, "We are flexible on dates, if that helps.", when)
    for step in range(ENQUIRY_STATUS_CYCLE.index(enquiry.stage)):
        s.add(
            EnquiryNote(
                enquiry=enquiry,
                body=STAFF_NOTES[step],
                author_type="employee",
                author_employee_id=agent.id,
                author_name=agent.name,
                created_at=when,
            ),
            "enquiry_notes",
        )
        if step == 0 and s.rng.random() < 0.6:
            when += timedelta(hours=s.rng.uniform(1, 12))
            _customer_note(s, enquiry, "Thank you, that helps.", when)
        when += timedelta(hours=s.rng.uniform(1, 30))
    enquiry.updated_at = when


def _customer_note(s: _Seeder, enquiry: Enquiry, body: str, when: datetime) -> None:
    s.add(
        EnquiryNote(
            enquiry=enquiry,
            body=body,
            author_type="customer",
            author_customer_id=enquiry.customer.id,
            author_name=enquiry.customer.name,
            created_at=when,
        ),
        "enquiry_notes",
    )


def has_data() -> bool:
    """True when the database holds anything but a bootstrap admin: a customer, a
    package, a non-admin employee or a second admin."""
    if db.session.scalar(select(Package.id).limit(1)):
        return True
    if db.session.scalar(select(Customer.id).limit(1)):
        return True
    if db.session.scalar(select(Employee.id).where(Employee.role != "admin").limit(1)):
        return True
    admins = db.session.scalar(select(func.count()).where(Employee.role == "admin"))
    return (admins or 0) > 1


def _check_schema() -> None:
    if not inspect(db.engine).has_table("packages"):
        raise RuntimeError(
            "The database has no tables; run `flask --app app db upgrade`."
        )


STEPS = (
    "staff",
    "customers",
    "packages",
    "departures",
    "bookings",
    "enquiries",
    "transport",
    "trip sales",
)


def _run_steps(s: _Seeder, bar) -> None:
    staff = seed_staff(s)
    by_role = defaultdict(list)
    for employee in staff.values():
        if employee.active:
            by_role[employee.role].append(employee)
    bar.update(1)
    customers = seed_customers(s, by_role["sales"])
    bar.update(1)
    packages = seed_packages(s, by_role["operation"], by_role["operation_head"])
    bar.update(1)
    departures = seed_departures(s, packages)
    bar.update(1)
    seed_bookings(s, departures, customers, by_role["sales"])
    bar.update(1)
    seed_enquiries(s, customers, packages, by_role["sales"])
    bar.update(1)
    routes = seed_transport(s.today, s.counts, s.currency)
    bar.update(1)
    seed_trip_sales(
        s, routes, customers, len(KNOWN_CUSTOMERS), lambda: new_reference(s)
    )
    bar.update(1)


def seed_demo(*, force: bool = False, echo=print, progress=NoProgress) -> dict:
    """Load the demo data set in one transaction and print the demo logins.

    Skips (returns an empty dict) when the database already holds data other than a
    bootstrap admin, unless `force`; with `force`, accounts whose demo emails exist are
    reused and the catalogue, bookings and enquiries are added again. Returns the
    number of rows added per kind. Raises RuntimeError when the schema is missing.
    """
    _check_schema()
    if has_data() and not force:
        echo(
            "Demo data not loaded: the database already has data "
            "(use --force to add it)."
        )
        return {}
    seeder = _Seeder(hash_password(DEMO_PASSWORD))
    try:
        with progress(len(STEPS), "Seeding demo data") as bar:
            _run_steps(seeder, bar)
        catalogue.bump_version()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    echo("Added " + ", ".join(f"{n} {kind}" for kind, n in seeder.counts.items()) + ".")
    echo_logins(echo, reused=seeder.reused)
    return dict(seeder.counts)


def echo_logins(echo, *, reused=frozenset()) -> None:
    """Print the demo logins as a table (email, password, role); accounts in `reused`
    existed before the seed and keep their own password."""
    rows = [
        (
            e,
            "(unchanged)" if e in reused else DEMO_PASSWORD,
            r + ("" if active else " (inactive)"),
        )
        for e, _, r, active in STAFF
    ]
    rows += [
        (e, DEMO_PASSWORD if has else "(none: use password reset)", "customer")
        for e, _, has in KNOWN_CUSTOMERS
    ]
    width = max(len(r[0]) for r in rows)
    echo(f"\n{'email':<{width}}  {'password':<26}  role")
    echo(f"{'-' * width}  {'-' * 26}  {'-' * 16}")
    for email, password, role in rows:
        echo(f"{email:<{width}}  {password:<26}  {role}")
