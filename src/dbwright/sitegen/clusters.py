"""Split a schema's tables into diagrams a browser can draw.

Mermaid refuses a diagram above 50,000 characters of source ("Maximum text size in diagram
exceeded"), and dagre lays a hub table's fifty neighbours out in one row tens of thousands of
pixels wide. So a large schema is drawn as several diagrams: tables joined by foreign keys stay
together (connected clusters, at most ``MAX_TABLES`` each), hub tables (many relationships) are
drawn with their columns once, in their own diagram, and as a name-only stub everywhere else, and
tables with no relationship share "unrelated tables" diagrams. The split is deterministic: the same
schema gives the same diagrams.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbwright.sitegen.site import Relationship

#: Tables drawn with their columns in one diagram.
MAX_TABLES = 25
#: A table related to more tables than this (in its schema) is a hub: a stub outside its own diagram.
HUB_DEGREE = 8
#: Mermaid's default maxTextSize is 50,000 characters; stay well below it.
MAX_TEXT = 40_000


@dataclass(frozen=True)
class Group:
    """One diagram's tables (drawn with columns), and what kind of group it is."""

    kind: str  # all, hubs, related, unrelated
    tables: tuple[str, ...]


def degrees(tables: list[str], relationships: list[Relationship]) -> dict[str, set[str]]:
    """Each table's neighbours among ``tables`` (either direction, self-references left out)."""
    members = set(tables)
    adjacent: dict[str, set[str]] = {t: set() for t in tables}
    for rel in relationships:
        if rel.child in members and rel.parent in members and rel.child != rel.parent:
            adjacent[rel.child].add(rel.parent)
            adjacent[rel.parent].add(rel.child)
    return adjacent


def hubs(adjacent: dict[str, set[str]]) -> set[str]:
    return {table for table, near in adjacent.items() if len(near) > HUB_DEGREE}


def split(
    tables: list[str], relationships: list[Relationship], text_of: Callable[[str, tuple[str, ...]], str]
) -> list[Group]:
    """The schema's diagrams: one when it fits, else hubs, related clusters and unrelated tables.

    ``text_of(kind, tables)`` renders a candidate diagram, so a group whose source is still too long
    (very wide tables) is halved until it fits.
    """
    ordered = tuple(sorted(tables))
    if len(ordered) <= MAX_TABLES and len(text_of("all", ordered)) <= MAX_TEXT:
        return [Group("all", ordered)]
    adjacent = degrees(list(ordered), relationships)
    hub_tables = hubs(adjacent)
    components = _components([t for t in ordered if t not in hub_tables], adjacent, hub_tables)
    related = [c for c in components if len(c) > 1]
    unrelated = sorted(t for c in components if len(c) == 1 for t in c)
    groups: list[Group] = []
    for chunk in _chunks(sorted(hub_tables), MAX_TABLES):
        groups.append(Group("hubs", chunk))
    for packed in _pack(related):
        groups.append(Group("related", packed))
    for chunk in _chunks(unrelated, MAX_TABLES):
        groups.append(Group("unrelated", chunk))
    return [fitting for group in groups for fitting in _fit(group, text_of)]


def _components(tables: list[str], adjacent: dict[str, set[str]], left_out: set[str]) -> list[list[str]]:
    """Connected clusters of ``tables`` (hubs removed), each in breadth-first order from its busiest table."""
    seen: set[str] = set()
    found = []
    for start in sorted(tables, key=lambda t: (-len(adjacent[t]), t)):
        if start in seen:
            continue
        order, queue = [], [start]
        seen.add(start)
        while queue:
            table = queue.pop(0)
            order.append(table)
            for near in sorted(adjacent[table] - left_out - seen):
                seen.add(near)
                queue.append(near)
        found.append(order)
    return found


def _pack(components: list[list[str]]) -> list[tuple[str, ...]]:
    """Big clusters cut into breadth-first chunks; small ones packed together, largest first."""
    bins: list[list[str]] = []
    for component in sorted(components, key=lambda c: (-len(c), c[0])):
        if len(component) >= MAX_TABLES:
            bins += [list(chunk) for chunk in _chunks(component, MAX_TABLES)]
            continue
        home = next((b for b in bins if len(b) + len(component) <= MAX_TABLES), None)
        if home is None:
            bins.append(list(component))
        else:
            home += component
    return [tuple(b) for b in bins]


def _chunks(items: list[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)]


def _fit(group: Group, text_of: Callable[[str, tuple[str, ...]], str]) -> list[Group]:
    if len(group.tables) <= 1 or len(text_of(group.kind, group.tables)) <= MAX_TEXT:
        return [group]
    half = len(group.tables) // 2
    return _fit(Group(group.kind, group.tables[:half]), text_of) + _fit(
        Group(group.kind, group.tables[half:]), text_of
    )
