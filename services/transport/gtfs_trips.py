"""The trips of a GTFS feed from its stop times (https://gtfs.org/schedule/reference/
stop_times.txt, frequencies.txt; docs/transport.md "GTFS import"): each trip's stop
times ordered by stop_sequence, missing times filled (a missing departure is the
arrival and the reverse; untimed intermediate stops interpolated), checked never
to go backwards, frequency windows expanded into one trip per departure
(`<trip_id>@<HH:MM>`), and each distinct stop pattern of a route named as a
route variant (see gtfs_files.Variant).
"""

from collections import defaultdict
from itertools import pairwise

from services.transport import timetable
from services.transport.gtfs_files import ID_LENGTH, Feed, FeedTrip, Variant


class TripBuilder:
    """Builds `feed.trips` and `feed.variants` from the raw rows a reader
    collected: `raw_trips` (trip_id -> FeedTrip without calls), `raw_stop_times`
    (trip_id -> [(stop_sequence, arrival, departure, stop_id, line)]) and
    `frequencies` (trip_id -> [(start, end, headway, line)]); problems go to
    `feed.problems`."""

    def __init__(self, feed: Feed, raw_trips, raw_stop_times, frequencies):
        self.feed, self.problems = feed, feed.problems
        self.raw_trips, self.raw_stop_times = raw_trips, raw_stop_times
        self.frequencies = frequencies

    def build(self) -> None:
        """Order each trip's stop times, fill missing times, expand frequencies,
        and give each distinct stop pattern of a route its Variant."""
        patterns: dict[tuple, list] = defaultdict(list)
        for trip in self.raw_trips.values():
            calls = self._calls(trip)
            if calls is None:
                continue
            stop_ids = tuple(stop_id for stop_id, _, _ in calls)
            if len(set(stop_ids)) < len(stop_ids):
                self.problems.warn(
                    "trip_repeats_stop",
                    "trips.txt",
                    trip.row,
                    "trip_id",
                    f"Trip {trip.trip_id!r} calls at a stop twice (a loop); our "
                    f"routes call at each station once, so it is not imported.",
                )
                continue
            windows = self.frequencies.get(trip.trip_id)
            expanded = self._expand(trip, calls, windows) if windows else [trip]
            trip.calls = calls
            patterns[(trip.route_id, stop_ids)].extend(expanded)
            self.feed.trips.extend(expanded)
        self._name_variants(patterns)
        if self.problems.broken:
            return
        used = {variant.route_id for variant in self.feed.variants.values()}
        for route_id, route in self.feed.routes.items():
            if route_id not in used:
                self.problems.warn(
                    "route_without_trips",
                    "routes.txt",
                    route.row,
                    "route_id",
                    f"Route {route_id!r} has no usable trip; not imported.",
                )

    def _name_variants(self, patterns: dict) -> None:
        """Code and name each stop pattern (see Variant) and tag its trips."""
        by_route = defaultdict(list)
        for (route_id, stop_ids), trips in patterns.items():
            by_route[route_id].append((stop_ids, trips))
        for route_id, variants in by_route.items():
            route = self.feed.routes.get(route_id)
            variants.sort(key=lambda v: (-len(v[1]), -len(v[0]), v[1][0].row))
            for number, (stop_ids, trips) in enumerate(variants, start=1):
                code, name = route_id, route.name if route else route_id
                if number > 1:
                    suffix = f"~{number}"
                    code = route_id[: ID_LENGTH - len(suffix)] + suffix
                    first = self.feed.stops[stop_ids[0]].name
                    last = self.feed.stops[stop_ids[-1]].name
                    name = f"{name} ({first} - {last})"
                self.feed.variants[code] = Variant(route_id, code, name, stop_ids)
                for trip in trips:
                    trip.route_code = code

    def _calls(self, trip: FeedTrip) -> list | None:
        """The trip's `(stop_id, arrival, departure)` in stop_sequence order, or
        None (with a warning or error) when it cannot be used."""
        rows = sorted(self.raw_stop_times.pop(trip.trip_id, []))
        if len(rows) < 2:
            self.problems.warn(
                "unusable_trip",
                "trips.txt",
                trip.row,
                "trip_id",
                f"Trip {trip.trip_id!r} has fewer than two stop times; skipped.",
            )
            return None
        for previous, current in pairwise(rows):
            if previous[0] == current[0]:
                self.problems.error(
                    "stop_times.txt",
                    current[4],
                    "stop_sequence",
                    f"Duplicate stop_sequence {current[0]} in trip {trip.trip_id!r}.",
                )
                return None
        times = self._filled_times(trip, rows)
        if times is None:
            return None
        return [(row[3], arrival, departure) for row, (arrival, departure) in times]

    def _filled_times(self, trip: FeedTrip, rows: list) -> list | None:
        """`[(row, (arrival, departure))]` with a missing departure = arrival (and
        the reverse), untimed intermediate stops interpolated; None after an error
        (first or last stop without times, times going backwards)."""
        name = "stop_times.txt"
        pairs = []
        for row in rows:
            arrival, departure = row[1], row[2]
            arrival = departure if arrival is None else arrival
            departure = arrival if departure is None else departure
            pairs.append([arrival, departure])
        for index in (0, len(rows) - 1):
            if pairs[index][0] is None:
                self.problems.error(
                    name,
                    rows[index][4],
                    "arrival_time",
                    "The first and last stop of a trip need a time.",
                )
                return None
        _interpolate(pairs)
        last = pairs[0][0]
        for row, (arrival, departure) in zip(rows, pairs, strict=True):
            if arrival < last or departure < arrival:
                self.problems.error(
                    name,
                    row[4],
                    "arrival_time" if arrival < last else "departure_time",
                    "Times go backwards along the trip.",
                )
                return None
            last = departure
        return list(zip(rows, [tuple(p) for p in pairs], strict=True))

    def _expand(self, trip: FeedTrip, calls: list, windows: list) -> list:
        """One trip per departure of each frequency window (start inclusive,
        end exclusive), the calls shifted by the same offset."""
        first = calls[0][2]
        expanded = []
        for start, end, headway, line in sorted(windows):
            moment = start
            while moment < end:
                trip_id = f"{trip.trip_id}@{timetable.format_time(moment)}"
                if len(trip_id) > ID_LENGTH:
                    self.problems.error(
                        "frequencies.txt",
                        line,
                        "trip_id",
                        f"Too long to name its expanded trips ({ID_LENGTH} max).",
                    )
                    return expanded
                shift = moment - first
                expanded.append(
                    FeedTrip(
                        trip_id=trip_id,
                        route_id=trip.route_id,
                        service_id=trip.service_id,
                        headsign=trip.headsign,
                        calls=[(s, a + shift, d + shift) for s, a, d in calls],
                        row=trip.row,
                    )
                )
                moment += headway
        return expanded


def _interpolate(pairs: list) -> None:
    """Fill `[None, None]` pairs linearly between the timed stops around them
    (GTFS stop_times: "consumers should interpolate")."""
    index = 0
    while index < len(pairs):
        if pairs[index][0] is not None:
            index += 1
            continue
        before = index - 1
        after = next(i for i in range(index, len(pairs)) if pairs[i][0] is not None)
        start, end = pairs[before][1], pairs[after][0]
        steps = after - before
        for i in range(index, after):
            value = start + round((end - start) * (i - before) / steps)
            pairs[i] = [value, value]
        index = after
