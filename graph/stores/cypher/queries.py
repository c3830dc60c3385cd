"""The Cypher texts of the store, one place per concern.

Every value is a parameter; the only words composed into a text are the fixed property
names of a grouping (`GROUPED`) and labels, chosen from this module, never from input.
The texts keep to the part of Neo4j 5's Cypher that ArcadeDB also runs (see the README):
`EXISTS { MATCH … }`, `COUNT`, `CALL { WITH … }` subqueries, map projections, UNWIND
batches, and uniqueness constraints; no APOC, no dynamic labels, no `id()`.
A node's generation `g` is in every match, so a graph being loaded beside the one
served is never seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from graph.query import GroupBy, OrganizationGrouping
from graph.stores.cypher.rows import TIMELINED

# -- schema and generations --------------------------------------------------------

SCHEMA = (
    "CREATE CONSTRAINT chainorg_record_uid IF NOT EXISTS FOR (n:Record) REQUIRE n.uid IS UNIQUE",
    "CREATE CONSTRAINT chainorg_graph_name IF NOT EXISTS FOR (n:ChainorgGraph) REQUIRE n.name IS UNIQUE",
    *(
        f"CREATE INDEX chainorg_enterprise_{name} IF NOT EXISTS FOR (n:Enterprise) ON (n.{name})"
        for name in ("park", "chain", "resolved_cluster", "building", "category")
    ),
    "CREATE INDEX chainorg_upgrade_org IF NOT EXISTS FOR (n:Upgrade) ON (n.org_id)",
    "CREATE INDEX chainorg_past_parent_org IF NOT EXISTS FOR (n:PastParent) ON (n.org_id)",
    "CREATE INDEX chainorg_timeline_by IF NOT EXISTS FOR (n:Timeline) ON (n.by)",
    "CREATE CONSTRAINT chainorg_change_set_id IF NOT EXISTS FOR (n:ChainorgChangeSet) REQUIRE n.change_set IS UNIQUE",
    "CREATE CONSTRAINT chainorg_request_id IF NOT EXISTS FOR (n:ChainorgRequest) REQUIRE n.request_id IS UNIQUE",
    "CREATE INDEX chainorg_audit_change_set IF NOT EXISTS FOR (n:ChainorgAudit) ON (n.change_set)",
    "CREATE INDEX chainorg_audit_subject IF NOT EXISTS FOR (n:ChainorgAudit) ON (n.subject)",
    "CREATE CONSTRAINT chainorg_scenario_name IF NOT EXISTS FOR (n:ChainorgScenario) REQUIRE n.name IS UNIQUE",
)
GRAPH = "MATCH (m:ChainorgGraph {name: 'chainorg'}) RETURN m {.*} AS graph"
SERVED = "MATCH (m:ChainorgGraph {name: 'chainorg'}) RETURN m.current AS g, coalesce(m.written, 0) AS written"
CREATE_GRAPH = "CREATE (m:ChainorgGraph {name: 'chainorg', next: 1})"
GENERATIONS = "MATCH (n:Record) RETURN DISTINCT n.g AS g"
TAKE_GENERATION = """
MATCH (m:ChainorgGraph {name: 'chainorg'})
WITH m, coalesce(m.next, 1) AS taken
SET m.next = taken + 1, m.loading = taken
RETURN taken
"""
SWITCH = """
MATCH (m:ChainorgGraph {name: 'chainorg'})
SET m += $graph, m.current = $g, m.loading = null
"""
DELETE_BATCH = """
MATCH (n) WHERE (n:Record OR n:PastParent OR n:Upgrade OR n:Timeline) AND n.g <> $keep
WITH n LIMIT $size
DETACH DELETE n
RETURN count(n) AS deleted
"""
ANY_RECORD = "MATCH (n:Record) RETURN n.g AS g LIMIT 1"

# -- loading: one text per kind, each an UNWIND batch ---------------------------------

CREATE_NODES = {
    "enterprises": "UNWIND $rows AS row CREATE (n:Record:Enterprise) SET n = row",
    "organizations": "UNWIND $rows AS row CREATE (n:Record:Organization) SET n = row",
    "instructors": "UNWIND $rows AS row CREATE (n:Record:Instructor) SET n = row",
    "departments": "UNWIND $rows AS row CREATE (n:Record:Department) SET n = row",
    "past_parents": "UNWIND $rows AS row CREATE (n:PastParent) SET n = row",
    "upgrades": "UNWIND $rows AS row CREATE (n:Upgrade) SET n = row",
    "timelines": "UNWIND $rows AS row CREATE (n:Timeline) SET n = row",
}
_EDGE = "UNWIND $rows AS row MATCH (a:Record {{uid: row.a}}) MATCH (b:Record {{uid: row.b}}) CREATE (a)-[r:{type}]->(b) SET r = row.props"
CREATE_EDGES = {
    "covers": _EDGE.format(type="COVERS"),
    "assignments": _EDGE.format(type="ASSIGNED"),
    "part_of": _EDGE.format(type="PART_OF"),
    "links": _EDGE.format(type="LINK"),
}

# -- writing a change set (graph.stores.cypher.writes), all in one transaction ---------
# No node but a record's has an `id`: ArcadeDB may test `$world[n.id]` (a map looked up by a
# record's id) on any node before it checks a pattern, and an integer `id` fails there.

# Taken first: two change sets at once through two servers both write this node, so the
# database lets one commit and refuses the other, which the driver retries afresh.
CLAIM = """
MATCH (m:ChainorgGraph {name: 'chainorg'})
SET m.written = coalesce(m.written, 0) + 1
RETURN m {.*} AS graph
"""
EARLIER = """
MATCH (r:ChainorgRequest {request_id: $request_id})
MATCH (c:ChainorgChangeSet {change_set: r.change_set})
RETURN c {.*} AS change_set, r.digest AS digest
"""
SET_NODE = "UNWIND $rows AS row MATCH (n:Record {uid: row.uid}) SET n = row"
_SET_EDGE = """
UNWIND $rows AS row
MATCH (a:Record {{uid: row.a}})-[r:{type}]->(b:Record {{uid: row.b}}) WHERE r.row = row.props.row
SET r = row.props
"""
SET_EDGE = {
    "covers": _SET_EDGE.format(type="COVERS"),
    "assignments": _SET_EDGE.format(type="ASSIGNED"),
    "links": _SET_EDGE.format(type="LINK"),
}
DELETE_PARENTS = "UNWIND $uids AS key MATCH (n:Record {uid: key})-[r:PART_OF]->() DELETE r"
KEPT_TIMELINES = """
UNWIND $groups AS group
MATCH (t:Timeline) WHERE t.by = group[0] AND t.g = $g AND coalesce(t.key, '') = coalesce(group[1], '')
RETURN t.by AS by, t.key AS key, t {.*} AS timeline
"""
SET_TIMELINES = """
UNWIND $rows AS row
MATCH (t:Timeline) WHERE t.by = row.by AND t.g = $g AND coalesce(t.key, '') = coalesce(row.key, '')
SET t += row.columns
"""
CREATE_TIMELINES = (
    "UNWIND $rows AS row CREATE (t:Timeline) SET t = row.columns, t.g = $g, t.by = row.by, t.key = row.key"
)
COMMITTED = """
MATCH (m:ChainorgGraph {name: 'chainorg'})
SET m += $graph, m.change_sets = $change_set
CREATE (c:ChainorgChangeSet) SET c = $committed
WITH c
UNWIND $entries AS entry
CREATE (a:ChainorgAudit) SET a = entry
RETURN count(a) AS entries
"""
REQUEST = "CREATE (r:ChainorgRequest {request_id: $request_id, change_set: $change_set, digest: $digest})"

# -- the audit trail and scenarios (graph.stores.cypher.journal) -----------------------

_AUDITED = """
MATCH (a:ChainorgAudit)
WHERE ($since IS NULL OR a.at >= $since) AND ($subject IS NULL OR a.subject = $subject OR a.change CONTAINS $quoted)
"""
AUDIT_TOTAL = _AUDITED + "RETURN count(a) AS total"
AUDIT_PAGE = (
    _AUDITED
    + """WITH a ORDER BY a.change_set, a.position SKIP $offset LIMIT $limit
RETURN a {.*} AS entry"""
)
SCENARIOS = "MATCH (s:ChainorgScenario) RETURN s {.*} AS scenario ORDER BY s.name"
SCENARIO = "MATCH (s:ChainorgScenario {name: $name}) RETURN s {.*} AS scenario"
SAVE_SCENARIO = """
OPTIONAL MATCH (s:ChainorgScenario {name: $scenario.name})
DETACH DELETE s
WITH count(*) AS replaced
CREATE (n:ChainorgScenario) SET n = $scenario
"""
# A state's journal copied in (graph.stores.cypher.load), in the transaction that switches to its graph.
DELETE_JOURNAL = """
MATCH (n) WHERE n:ChainorgAudit OR n:ChainorgChangeSet OR n:ChainorgRequest OR n:ChainorgScenario
DETACH DELETE n
"""
CREATE_JOURNAL = {
    label: f"UNWIND $rows AS row CREATE (n:{label}) SET n = row"
    for label in ("ChainorgChangeSet", "ChainorgAudit", "ChainorgRequest", "ChainorgScenario")
}
JOURNAL_COUNTER = "MATCH (m:ChainorgGraph {name: 'chainorg'}) SET m.change_sets = $change_sets"
MARK_APPLIED = (
    "MATCH (s:ChainorgScenario {name: $name}) SET s.applied_change_set = $change_set RETURN s {.*} AS scenario"
)
TAKEN = "UNWIND $uids AS key MATCH (n:Record {uid: key}) RETURN collect(n.uid) AS taken"

# Whether the PART_OF edge `r` holds on `$day`, from its spans (graph.rules.parent_spans),
# and whether the organization `o` stands then.
HOLDS = "any(k IN range(0, size({r}.from) - 1) WHERE {r}.from[k] <= $day AND $day < {r}.to[k])"
STANDS = "{o}.established <= $day AND $day < {o}.dissolved"
# Whether the LINK edge `l` is in effect on `$on` (an ISO date; open ends hold).
IN_EFFECT = "(l.since IS NULL OR l.since <= $on) AND (l.until IS NULL OR $on < l.until)"

# -- lookups by key: one row per key asked, in key order -----------------------------
# A keyed node is found through the uniqueness constraint's index, on :Record; a match on
# another label with the same key may scan that label instead (ArcadeDB does).


def _keyed(label: str, field: str) -> str:
    """The node of `label` for each uid of `$uids`, as `field` (null for none)."""
    return f"""
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key
OPTIONAL MATCH (n:Record {{uid: key}}) WHERE n:{label}
RETURN at, n {{.*}} AS {field}
ORDER BY at
"""


ENTERPRISES = _keyed("Enterprise", "enterprise")
ORGANIZATIONS = _keyed("Organization", "organization")
CHILDREN = """
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key
OPTIONAL MATCH (parent:Record {uid: key}) WHERE parent:Organization
OPTIONAL MATCH (child:Organization)-[:PART_OF]->(parent)
WHERE child.parent_id = parent.id AND (child.dissolved_on IS NULL OR child.dissolved_on > $today)
WITH at, key, child ORDER BY child.row
RETURN at, key, collect(child {.*}) AS children
ORDER BY at
"""
COVERED = """
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key
OPTIONAL MATCH (o:Record {uid: key}) WHERE o:Organization
OPTIONAL MATCH (o)-[c:COVERS]->(e:Enterprise)
WHERE c.from <= $day AND $day < c.to
WITH at, key, e, c ORDER BY c.row
RETURN at, key, collect(e {.*}) AS enterprises
ORDER BY at
"""


@cache
def covering_text(fixed: frozenset[str]) -> str:
    return f"""
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key
OPTIONAL MATCH (e:Record {{uid: key}}) WHERE e:Enterprise{scoped(fixed)}
OPTIONAL MATCH (o:Organization)-[c:COVERS]->(e)
WHERE c.from <= $day AND $day < c.to
WITH at, key, o, c ORDER BY c.row
RETURN at, key, collect(o {{.*}}) AS organizations
ORDER BY at
"""


DEPARTMENTS = _keyed("Department", "department")


# An organization with what its history is made of (graph.model.OrganizationHistory.of):
# its upgrades, its ended PART_OF records and every COVERS edge, ended ones too.
@cache
def histories_text(fixed: frozenset[str]) -> str:
    return f"""
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key
OPTIONAL MATCH (o:Record {{uid: key}}) WHERE o:Organization{member(fixed)}
CALL {{
  WITH o
  OPTIONAL MATCH (u:Upgrade) WHERE u.org_id = o.id AND u.g = $g
  RETURN collect(properties(u)) AS upgrades
}}
CALL {{
  WITH o
  OPTIONAL MATCH (p:PastParent) WHERE p.org_id = o.id AND p.g = $g
  RETURN collect(properties(p)) AS parents
}}
CALL {{
  WITH o
  OPTIONAL MATCH (o)-[c:COVERS]->(e:Enterprise) WHERE true{scoped(fixed)}
  WITH c ORDER BY c.row
  RETURN collect(properties(c)) AS covers
}}
RETURN at, CASE WHEN o IS NULL THEN null ELSE properties(o) END AS organization, upgrades, parents, covers
ORDER BY at
"""


@cache
def instructors_text(fixed: frozenset[str]) -> str:
    return f"""
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key
OPTIONAL MATCH (e:Record {{uid: key}}) WHERE e:Enterprise{scoped(fixed)}
OPTIONAL MATCH (i:Instructor)-[a:ASSIGNED]->(e)
WHERE a.from <= $day AND $day < a.to
WITH at, key, i, a ORDER BY a.row
RETURN at, key, collect(i {{.*}}) AS instructors
ORDER BY at
"""


@cache
def clusters_text(fixed: frozenset[str]) -> str:
    return f"""
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key
OPTIONAL MATCH (e:Record {{uid: key}}) WHERE e:Enterprise{scoped(fixed)}
OPTIONAL MATCH (o:Record {{uid: $prefix + e.resolved_cluster}}) WHERE o:Organization
RETURN at, key, o {{.*}} AS cluster
ORDER BY at
"""


@cache
def links_text(fixed: frozenset[str]) -> str:
    return f"""
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key
OPTIONAL MATCH (n:Record {{uid: key}}) WHERE true{in_world(fixed, "n")}
OPTIONAL MATCH (n)-[out:LINK]->(b)
WHERE (out.until IS NULL OR $today < out.until){in_world(fixed, "b")}
WITH at, key, n, out ORDER BY out.row
WITH at, key, n, collect(out {{.*}}) AS outgoing
OPTIONAL MATCH (n)<-[in:LINK]-(a)
WHERE (in.until IS NULL OR $today < in.until){in_world(fixed, "a")}
WITH at, key, outgoing, in ORDER BY in.row
WITH at, key, outgoing, collect(in {{.*}}) AS incoming
RETURN at, key, outgoing + incoming AS links
ORDER BY at
"""


# The ACTIVE enterprises that COVERS edges in effect reach under each organization `o` in
# scope (the organizations PART_OF it on `$day`, at any depth), and their members.
@cache
def subtree_members(fixed: frozenset[str]) -> str:
    return f"""CALL {{
  WITH o
  OPTIONAL MATCH under = (o)<-[:PART_OF*0..]-(x:Organization)
  WHERE all(r IN relationships(under) WHERE {HOLDS.format(r="r")})
  OPTIONAL MATCH (x)-[c:COVERS]->(e:Enterprise)
  WHERE c.from <= $day AND $day < c.to AND e.registered <= $day AND $day < e.inactive{scoped(bound(fixed))}
  WITH collect(DISTINCT e) AS reached
  RETURN reduce(n = 0, e IN reached | n + e.formal_members) AS formal,
         reduce(n = 0, e IN reached | n + e.probationary_members) AS probationary
}}"""


@cache
def members_text(fixed: frozenset[str]) -> str:
    return f"""
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key
OPTIONAL MATCH (o:Record {{uid: key}}) WHERE o:Organization{member(fixed)}
{subtree_members(fixed)}
RETURN at, key, formal, probationary
ORDER BY at
"""


@cache
def states_text(fixed: frozenset[str]) -> str:
    return f"""
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key
OPTIONAL MATCH (e:Record {{uid: key}}) WHERE e:Enterprise{scoped(fixed)}
RETURN at, key,
       EXISTS {{ MATCH (:Organization)-[c:COVERS]->(e) WHERE c.from <= $day AND $day < c.to }} AS organized,
       EXISTS {{ MATCH (:Instructor)-[a:ASSIGNED]->(e) WHERE a.from <= $day AND $day < a.to }} AS worked
ORDER BY at
"""


# -- coverage ------------------------------------------------------------------------

# What a scope may fix, by the property it compares; a text names only the ones it fixes,
# so the database can seek the most selective index.
SCOPE_PROPERTIES = {
    "park": "park", "chain": "chain", "cluster": "resolved_cluster", "building": "building", "category": "category",
}  # fmt: skip
COUNTED = "e.g = $g AND e.registered <= day AND day < e.inactive"
# Whether an edge holds on `day`, from the spans each enterprise keeps of its COVERS and
# ASSIGNED edges (graph.stores.cypher.rows): one scan answers a coverage, with no walk per row.
ORGANIZED = (
    "CASE WHEN e.covered_from IS NULL THEN false ELSE"
    " any(k IN range(0, size(e.covered_from) - 1) WHERE e.covered_from[k] <= day AND day < e.covered_to[k]) END"
)
WORKED = (
    "CASE WHEN e.worked_from IS NULL THEN false ELSE"
    " any(k IN range(0, size(e.worked_from) - 1) WHERE e.worked_from[k] <= day AND day < e.worked_to[k]) END"
)
GROUPED = {
    GroupBy.PARK: "e.park",
    GroupBy.CHAIN: "e.chain",
    GroupBy.CLUSTER: "e.resolved_cluster",
    GroupBy.BUILDING: "e.building",
    GroupBy.CATEGORY: "e.category",
}


def scoped(fixed: Iterable[str], node: str = "e") -> str:
    """The conditions on the enterprise `node` of a scope fixing `fixed` (keys of
    SCOPE_PROPERTIES), each value a parameter of that name, and of a token's boundary."""
    conditions = []
    for name in sorted(fixed):
        if name in SCOPE_PROPERTIES:
            conditions.append(f" AND {node}.{SCOPE_PROPERTIES[name]} = ${name}")
        elif name in BOUNDARY_PROPERTIES:  # no chain (null) is not inside: a WHERE drops it
            conditions.append(f" AND {_inside(node, name)}")
    return "".join(conditions)


def _inside(node: str, name: str) -> str:
    """One boundary condition: equality for one park or chain, so the database seeks its index."""
    prop, operator = BOUNDARY_PROPERTIES[name]
    return f"{node}.{prop} {operator} ${name}"


def inside(fixed: Iterable[str], node: str = "e") -> str:
    """Whether the enterprise `node` is inside the token's boundary, as a value that is never
    null (for a text that negates it)."""
    names = sorted(bound(fixed) - {WORLD})
    return " AND ".join(f"coalesce({_inside(node, name)}, false)" for name in names) or "true"


# -- a token's world (graph.access.world_of) -------------------------------------------
# A token limited to parks or chains sees the enterprises inside them (`inside_park` or, for
# several, `inside_parks`; `inside_chain(s)`: conditions `scoped` writes with a scope's) and the organizations
# of its world (`world`: a map from each one's id to true). A text for such a token names
# them among its `fixed`; `bound` keeps just these names, for texts that take no scope.
BOUNDARY_PROPERTIES = {
    "inside_park": ("park", "="), "inside_parks": ("park", "IN"),
    "inside_chain": ("chain", "="), "inside_chains": ("chain", "IN"),
}  # fmt: skip
WORLD = "world"
EVERYWHERE: frozenset[str] = frozenset()


def bound(fixed: Iterable[str]) -> frozenset[str]:
    """Of the names a text fixes, those of a token's boundary."""
    return frozenset(name for name in fixed if name in BOUNDARY_PROPERTIES or name == WORLD)


def member(fixed: Iterable[str], node: str = "o") -> str:
    """The condition that the organization `node` is in the token's world, if it is bounded."""
    return f" AND coalesce($world[{node}.id], false)" if WORLD in fixed else ""


def in_world(fixed: Iterable[str], node: str) -> str:
    """The condition that the end `node` of a LINK is in the token's world, if it is bounded:
    one of its organizations, a department or an enterprise inside."""
    if WORLD not in fixed:
        return ""
    return (
        f" AND (coalesce($world[coalesce({node}.id, '')], false) OR {node}:Department"
        f" OR ({node}:Enterprise{scoped(bound(fixed), node)}))"
    )


# A group's coverage on `day` from its timeline `t` (graph.stores.cypher.rows.timeline_rows):
# the values of the last stretch begun by then.
TIMELINE_AT = "size([d IN t.days WHERE d <= day]) - 1"
TIMELINE_GROUPS = """
  WITH t, day, {at} AS at
  WHERE t.enterprises[at] > 0
  RETURN collect([t.key, t.enterprises[at], t.organized[at], t.worked[at], t.formal[at]]) AS groups,
         collect([t.key, t.organizations[at]]) AS {organizations}"""


@cache
def coverage_text(fixed: frozenset[str], by: GroupBy | None) -> str:
    """Coverage per group of `by` (one group, key null, without) for each of `$days`: over
    the whole graph read from the timelines kept at load time, in a scope counted."""
    if not fixed and by in TIMELINED:
        return f"""
UNWIND $days AS day
CALL {{
  WITH day
  MATCH (t:Timeline) WHERE t.by = '{by.value if by is not None else "ALL"}' AND t.g = $g
{TIMELINE_GROUPS.format(at=TIMELINE_AT, organizations="organizations")}
}}
RETURN day, groups, organizations
"""
    where = COUNTED + scoped(fixed)
    key = GROUPED[by] if by is not None else "null"
    return f"""
UNWIND $days AS day
CALL {{
  WITH day
  MATCH (e:Enterprise) WHERE {where}
  WITH {key} AS key, e, {ORGANIZED} AS organized, {WORKED} AS worked
  WITH key, count(e) AS enterprises, sum(CASE WHEN organized THEN 1 ELSE 0 END) AS organized,
       sum(CASE WHEN worked AND NOT organized THEN 1 ELSE 0 END) AS worked, sum(e.formal_members) AS formal
  RETURN collect([key, enterprises, organized, worked, formal]) AS groups
}}
CALL {{
  WITH day
  MATCH (o:Organization)-[c:COVERS]->(e:Enterprise)
  WHERE c.from <= day AND day < c.to AND {where}
  WITH {key} AS key, count(DISTINCT o) AS organizations
  RETURN collect([key, organizations]) AS organizations
}}
RETURN day, groups, organizations
"""


# -- org charts ----------------------------------------------------------------------


@cache
def tree_text(depth: int, links: bool, fixed: frozenset[str] = EVERYWHERE) -> str:
    """An organization's subtree on `$day`, `depth` levels down (an int, never input text),
    with each organization's figures (graph.charts.tree.TreeOrganization), the coverage of
    each cluster under it and, with `links`, the LINK edges touching it."""
    holds, stands = HOLDS.format(r="r"), STANDS.format(o="n") + member(fixed, "n")
    inside = scoped(bound(fixed))
    touching = (
        f"""
CALL {{
  WITH tree
  UNWIND tree AS o
  MATCH (o)-[l:LINK]-(other)
  WHERE {IN_EFFECT}{in_world(fixed, "other")}
  RETURN collect([l {{.*}}, coalesce(other.id, other.credit_code), other.name]) AS links
}}"""
        if links
        else "WITH *, [] AS links"
    )
    if bound(fixed):  # a token's world: its enterprises inside counted
        cluster_coverage = f"""
CALL {{
  WITH clusters
  UNWIND clusters AS key
  MATCH (e:Enterprise) WHERE e.g = $g AND e.resolved_cluster = key AND e.registered <= $day AND $day < e.inactive{inside}
  WITH key, e, $day AS day
  WITH key, e, {ORGANIZED} AS organized, {WORKED} AS worked
  WITH key, count(e) AS enterprises, sum(CASE WHEN organized THEN 1 ELSE 0 END) AS organized,
       sum(CASE WHEN worked AND NOT organized THEN 1 ELSE 0 END) AS worked, sum(e.formal_members) AS formal
  RETURN collect([key, enterprises, organized, worked, formal]) AS groups
}}
CALL {{
  WITH clusters
  UNWIND clusters AS key
  MATCH (o:Organization)-[c:COVERS]->(e:Enterprise)
  WHERE e.g = $g AND e.resolved_cluster = key AND c.from <= $day AND $day < c.to
    AND e.registered <= $day AND $day < e.inactive{inside}
  WITH key, count(DISTINCT o) AS organizations
  RETURN collect([key, organizations]) AS cluster_organizations
}}"""
    else:  # the whole graph: the clusters' timelines
        cluster_coverage = f"""
CALL {{
  WITH clusters
  MATCH (t:Timeline) WHERE t.by = 'CLUSTER' AND t.g = $g AND t.key IN clusters
  WITH t, $day AS day
{TIMELINE_GROUPS.format(at=TIMELINE_AT, organizations="cluster_organizations")}
}}"""
    return f"""
MATCH (root:Record {{uid: $root}}) WHERE root:Organization{member(fixed, "root")}
CALL {{
  WITH root
  OPTIONAL MATCH path = (root)<-[:PART_OF*0..{int(depth)}]-(o:Organization)
  WHERE {STANDS.format(o="root")} AND all(r IN relationships(path) WHERE {holds}) AND all(n IN nodes(path) WHERE {stands})
  RETURN collect(DISTINCT o) AS tree
}}
CALL {{
  WITH root
  UNWIND $clusters AS key
  MATCH (x:Record {{uid: $prefix + key}}) WHERE x:Organization
  MATCH up = (x)-[:PART_OF*0..]->(a:Organization) WHERE all(r IN relationships(up) WHERE {holds})
  RETURN collect(DISTINCT [a.id, x.id]) AS above
}}
UNWIND CASE WHEN size(tree) = 0 THEN [null] ELSE tree END AS o
CALL {{
  WITH o
  OPTIONAL MATCH (o)-[p:PART_OF]->(up:Organization) WHERE {HOLDS.format(r="p")}
  RETURN collect(up.id) AS parents
}}
CALL {{
  WITH o
  OPTIONAL MATCH (o)<-[p:PART_OF]-(n:Organization) WHERE {HOLDS.format(r="p")} AND {stands}
  RETURN count(n) AS suborganizations
}}
CALL {{
  WITH o
  OPTIONAL MATCH (o)-[c:COVERS]->(e:Enterprise) WHERE c.from <= $day AND $day < c.to AND e.registered <= $day{inside}
  WITH c, e ORDER BY c.row
  RETURN sum(CASE WHEN $day < e.inactive THEN 1 ELSE 0 END) AS units,
         sum(CASE WHEN e.inactive <= $day THEN 1 ELSE 0 END) AS inactive_units,
         collect(CASE WHEN $day < e.inactive THEN e.name END)[0..$names] AS names
}}
WITH *, [pair IN above WHERE pair[0] = o.id | pair[1]] AS clusters
CALL {{
  WITH o
  OPTIONAL MATCH (u:Upgrade) WHERE u.org_id = o.id AND u.g = $g
  RETURN collect(u {{.*}}) AS upgrades
}}
{subtree_members(fixed)}
WITH root, tree, collect(CASE WHEN o IS NOT NULL THEN {{organization: properties(o), parents: parents,
     suborganizations: suborganizations, units: units, inactive_units: inactive_units, names: names,
     clusters: clusters, upgrades: upgrades, formal: formal, probationary: probationary}} END) AS organizations
WITH *, reduce(found = [], entry IN organizations | found + [key IN entry.clusters WHERE NOT key IN found]) AS clusters
{cluster_coverage}{touching}
RETURN root {{.*}} AS root, organizations, groups, cluster_organizations, links
"""


# -- listings ------------------------------------------------------------------------

ORGANIZATIONS_LISTED = """
MATCH (o:Organization) WHERE o.g = $g AND ($kinds IS NULL OR o.kind IN $kinds)
  AND ($parent IS NULL OR o.parent_id = $parent)
  AND (o.dissolved_on IS NULL OR o.dissolved_on > $today)
WITH o ORDER BY o.row
RETURN collect(o {.*}) AS organizations
"""


def counted_organizations(fixed: frozenset[str]) -> str:
    """The organizations `o` that `Coverage.organizations` counts for a scope on `$day`: with
    a COVERS edge then to an enterprise counted in it (graph.coverage.CoverageIndex.organizations_in)."""
    return f"""
WITH $day AS day
MATCH (o:Organization)-[c:COVERS]->(e:Enterprise)
WHERE c.from <= day AND day < c.to AND {COUNTED}{scoped(fixed)}
WITH DISTINCT o"""


@cache
def organizations_in_text(fixed: frozenset[str]) -> str:
    """The organizations `Coverage.organizations` counts for a scope on `$day`, in ledger order."""
    return f"""{counted_organizations(fixed)}
WHERE ($kinds IS NULL OR o.kind IN $kinds) AND ($parent IS NULL OR o.parent_id = $parent)
WITH o ORDER BY o.row
RETURN collect(o {{.*}}) AS organizations
"""


@cache
def organization_counts_text(fixed: frozenset[str], by: OrganizationGrouping) -> str:
    """How many of a scope's organizations on `$day` have each kind they had then (before
    any upgrade after `$on`) or each formation mode."""
    if by is OrganizationGrouping.MODE:
        return f"""{counted_organizations(fixed)}
RETURN o.mode AS key, count(o) AS organizations
"""
    return f"""{counted_organizations(fixed)}
CALL {{
  WITH o
  OPTIONAL MATCH (u:Upgrade) WHERE u.org_id = o.id AND u.g = $g AND u.on > $on
  WITH u ORDER BY u.on
  RETURN collect(u.before) AS before
}}
WITH coalesce(before[0], o.kind) AS key
RETURN key, count(*) AS organizations
"""


@cache
def alliances_text(fixed: frozenset[str]) -> str:
    """The alliances standing on `$day`, each with the organizations an ALLIANCE or
    ALLIANCE_LEAD link in effect joins to it, and whether each is among the scope's."""
    inside = (
        f"EXISTS {{ MATCH (m)-[c:COVERS]->(e:Enterprise) WHERE c.from <= day AND day < c.to AND {COUNTED}{scoped(fixed)} }}"
        if fixed - bound(fixed)
        else "true"
    )
    return f"""
WITH $day AS day
MATCH (a:Organization) WHERE a.g = $g AND a.kind = 'ALLIANCE'{member(fixed, "a")}
OPTIONAL MATCH (m:Organization)-[l:LINK]->(a)
WHERE l.kind IN $kinds AND {IN_EFFECT}{member(fixed, "m")}
WITH a, day, CASE WHEN m IS NULL THEN null ELSE [properties(m), properties(l), {inside}] END AS member
WITH a, collect(member) AS members
RETURN collect([properties(a), members]) AS alliances
"""


@cache
def find_enterprises_text(fixed: frozenset[str], conditions: frozenset[str], state: str | None) -> str:
    """A page of the enterprises matching a filter, in ledger order, and how many match.
    `conditions` are keys of FILTERS; `state` a CoverageState's value."""
    where = "e.g = $g" + scoped(fixed) + "".join(f" AND {FILTERS[name]}" for name in sorted(conditions))
    reached = {
        None: "true", "ORGANIZATION": "organized", "WORK": "worked AND NOT organized",
        "NONE": "NOT organized AND NOT worked",
    }[state]  # fmt: skip
    matching = f"""
  MATCH (e:Enterprise) WHERE {where}
  WITH e, $day AS day
  WITH e, {ORGANIZED} AS organized, {WORKED} AS worked
  WITH e WHERE {reached}"""
    return f"""
CALL {{ {matching} RETURN count(e) AS total }}
CALL {{ {matching} WITH e ORDER BY e.row SKIP $offset LIMIT $limit RETURN collect(e {{.*}}) AS page }}
RETURN total, page
"""


FILTERS = {
    "status": "e.status = $status",
    "key": "e.key = $key",
    "above_scale": "e.above_scale = $above_scale",
    "min_formal": "e.formal_members >= $min_formal",
    "needle": "toLower(e.name) CONTAINS $needle",
}


# -- compliance ----------------------------------------------------------------------
# The enterprise rules of graph.compliance pushed down, each a condition over an enterprise
# `e` with `organized` and `owned` (covered by an organization of its own) worked out; a
# threshold is the parameter `<RULE>_<name>`. tests/test_stores.py holds each to the rule.

OWNED = ORGANIZED.replace("covered_", "owned_")
ENTERPRISE_RULES = {
    "MUST_BUILD": (
        "((e.formal_members >= $MUST_BUILD_min_formal_members AND NOT owned)"
        " OR ((coalesce(e.employees, -1) >= $MUST_BUILD_min_employees OR ($MUST_BUILD_above_scale AND e.above_scale))"
        " AND NOT organized))"
    ),
    "UNCOVERED_JOINABLE": (
        "(e.formal_members >= $UNCOVERED_JOINABLE_min_formal_members"
        " AND e.formal_members <= $UNCOVERED_JOINABLE_max_formal_members AND NOT organized)"
    ),
}
ACTIVE = "e.registered <= day AND day < e.inactive"
_RULE_FACTS = f"WITH e, {ORGANIZED} AS organized, {OWNED} AS owned"


@cache
def enterprise_rule_counts_text(fixed: frozenset[str], codes: tuple[str, ...], by: GroupBy | None) -> str:
    """Per group of `by` (one group, key null, without): how many enterprises of the scope
    there are, and how many each rule of `codes` finds."""
    key = GROUPED[by] if by is not None else "null"
    counts = ", ".join(f"sum(CASE WHEN {ACTIVE} AND {ENTERPRISE_RULES[code]} THEN 1 ELSE 0 END)" for code in codes)
    return f"""
WITH $day AS day
MATCH (e:Enterprise) WHERE e.g = $g{scoped(fixed)}
WITH day, e, {ORGANIZED} AS organized, {OWNED} AS owned
WITH {key} AS key, count(e) AS enterprises, [{counts}] AS counts
RETURN collect([key, enterprises, counts]) AS groups
"""


@cache
def enterprise_findings_text(fixed: frozenset[str], codes: tuple[str, ...]) -> str:
    """For each rule of `codes`, the enterprises it finds in the scope in ledger order,
    `$skips[i]` skipped and `$takes[i]` taken, with whether each is owned and organized."""
    parts = [
        f"""
CALL {{
  WITH $day AS day
  MATCH (e:Enterprise) WHERE {COUNTED}{scoped(fixed)}
  {_RULE_FACTS.replace("WITH e,", "WITH day, e,")}
  WITH e, owned, organized WHERE {ENTERPRISE_RULES[code]}
  WITH e, owned, organized ORDER BY e.row SKIP $skips[{at}] LIMIT $takes[{at}]
  RETURN collect([e {{.*}}, owned, organized]) AS found{at}
}}"""
        for at, code in enumerate(codes)
    ]
    return "".join(parts) + "\nRETURN [" + ", ".join(f"found{at}" for at in range(len(codes))) + "] AS found\n"


@cache
def enterprise_facts_text(fixed: frozenset[str]) -> str:
    return f"""
UNWIND range(0, size($uids) - 1) AS at
WITH at, $uids[at] AS key, $day AS day
OPTIONAL MATCH (e:Record {{uid: key}}) WHERE e:Enterprise{scoped(fixed)}
RETURN at, e {{.*}} AS enterprise, e IS NOT NULL AND {ACTIVE} AS active,
       CASE WHEN e IS NULL THEN false ELSE {ORGANIZED} END AS organized,
       CASE WHEN e IS NULL THEN false ELSE {OWNED} END AS owned
ORDER BY at
"""


# What graph.compliance.OrganizationFacts counts of the organization `o` on `$day`: the
# enterprises its edges in effect reach (registered by then), the inactive ones among
# them by name and status, and the members of its subtree.
@cache
def organization_facts(fixed: frozenset[str]) -> str:
    return f"""CALL {{
  WITH o
  OPTIONAL MATCH (o)-[c:COVERS]->(e:Enterprise)
  WHERE c.from <= $day AND $day < c.to AND e.registered <= $day{scoped(bound(fixed))}
  WITH c, e ORDER BY c.row
  RETURN count(e) AS units, collect(CASE WHEN e.inactive <= $day THEN [e.name, e.status] END) AS inactive
}}
{subtree_members(fixed)}"""


@cache
def organization_facts_text(fixed: frozenset[str], every: bool) -> str:
    """What graph.compliance.OrganizationFacts holds for each organization standing on `$day`
    (`every`: all of them), or for those whose subtree covers an enterprise of the scope then."""
    if every:
        chosen = f"MATCH (o:Organization) WHERE o.g = $g AND {STANDS.format(o='o')}{member(fixed)}"
    else:
        chosen = f"""
WITH $day AS day
MATCH (x:Organization)-[c:COVERS]->(e:Enterprise)
WHERE c.from <= day AND day < c.to AND e.g = $g AND e.registered <= day{scoped(fixed)}
WITH DISTINCT x
MATCH up = (x)-[:PART_OF*0..]->(o:Organization) WHERE all(r IN relationships(up) WHERE {HOLDS.format(r="r")})
WITH DISTINCT o WHERE {STANDS.format(o="o")}"""
    return f"""{chosen}
{organization_facts(fixed)}
CALL {{
  WITH o
  OPTIONAL MATCH (u:Upgrade) WHERE u.org_id = o.id AND u.g = $g
  RETURN collect(u {{.*}}) AS upgrades
}}
WITH o, units, inactive, upgrades, formal, probationary ORDER BY o.row
RETURN collect({{organization: properties(o), units: units, inactive: inactive, upgrades: upgrades,
                formal: formal, probationary: probationary}}) AS organizations
"""


@cache
def groups_reached_text(fixed: frozenset[str], by: GroupBy) -> str:
    """For each organization of `$uids`, the groups of `by` of the scope's enterprises its
    subtree covers on `$day` (registered by then, whatever their status); each key in a
    list of one, so that the group of enterprises without one (null) is kept."""
    return f"""
UNWIND $uids AS key
MATCH (a:Record {{uid: key}}) WHERE a:Organization
MATCH under = (a)<-[:PART_OF*0..]-(x:Organization) WHERE all(r IN relationships(under) WHERE {HOLDS.format(r="r")})
MATCH (x)-[c:COVERS]->(e:Enterprise) WHERE c.from <= $day AND $day < c.to AND e.registered <= $day{scoped(fixed)}
WITH a, collect(DISTINCT [{GROUPED[by]}]) AS keys
RETURN collect([a.id, keys]) AS reached
"""


# -- planning ------------------------------------------------------------------------

# The property that places an enterprise under each Proximity (graph.stores.answers).
PLACES = {"BUILDING": "e.building", "PARK": "e.park", "CLUSTER": "e.resolved_cluster"}


@cache
def candidates_text(fixed: frozenset[str], proximity: str) -> str:
    """The enterprises a joint branch may take on `$day`: counted in a scope, no COVERS edge
    in effect, fewer than `$max_formal` formal members; each placed (ledger order) with
    whether an instructor reaches it, and how many are eligible in all, placed or not."""
    return f"""
WITH $day AS day
MATCH (e:Enterprise) WHERE {COUNTED}{scoped(fixed)} AND e.formal_members < $max_formal
WITH e, day, {ORGANIZED} AS organized
WITH e, day WHERE NOT organized
WITH e, {WORKED} AS worked ORDER BY e.row
RETURN count(e) AS eligible,
       collect(CASE WHEN {PLACES[proximity]} IS NOT NULL
               THEN [e.credit_code, e.formal_members, e.park, {PLACES[proximity]}, e.resolved_cluster, worked] END) AS placed
"""


# -- pairing -------------------------------------------------------------------------
# A PAIRING link pairs the enterprise at one of its ends, or each enterprise a COVERS edge
# in effect takes from the organization there (graph.stores.networkx.store._paired_rows).

LIVE_COVERS = "c.from <= $day AND $day < c.to AND x.registered <= $day"
KEY_ENTERPRISES = "e.g = $g AND e.key AND e.registered <= $day AND $day < e.inactive"


def paired(fixed: frozenset[str]) -> str:
    """Whether the enterprise `e` is paired on `$day`, by a link with its other end in the world."""
    return f"""(EXISTS {{ MATCH (e)-[l:LINK]-(p) WHERE l.kind = 'PAIRING' AND {IN_EFFECT}{in_world(fixed, "p")} }}
  OR EXISTS {{ MATCH (e)<-[c:COVERS]-(:Organization)-[l:LINK]-(p) WHERE l.kind = 'PAIRING' AND {IN_EFFECT}
               AND c.from <= $day AND $day < c.to{in_world(fixed, "p")} }})"""


@cache
def pairings_text(fixed: frozenset[str]) -> str:
    """The links of `$kinds` in effect on `$on`, in ledger order; with a scope, those with an
    end in it: an enterprise of it, or an organization whose subtree then covers one."""
    if not fixed - bound(fixed):
        inside = ""
    else:
        inside = f"""
UNWIND [a, b] AS n
WITH l, n
WHERE (n:Enterprise{scoped(fixed, "n")})
   OR (n:Organization AND EXISTS {{
         MATCH under = (n)<-[:PART_OF*0..]-(o:Organization)
         WHERE all(r IN relationships(under) WHERE {HOLDS.format(r="r")})
         MATCH (o)-[c:COVERS]->(x:Enterprise)
         WHERE {LIVE_COVERS}{scoped(fixed, "x")} }})
WITH DISTINCT l"""
    return f"""
MATCH (a)-[l:LINK]->(b)
WHERE l.g = $g AND l.kind IN $kinds AND {IN_EFFECT}{in_world(fixed, "a")}{in_world(fixed, "b")}{inside}
WITH l ORDER BY l.row
RETURN collect(properties(l)) AS links
"""


@cache
def unpaired_key_text(fixed: frozenset[str]) -> str:
    """A page of the key enterprises counted in a scope on `$day` that no PAIRING link in
    effect pairs, in ledger order, and how many there are."""
    matching = f"MATCH (e:Enterprise) WHERE {KEY_ENTERPRISES}{scoped(fixed)} AND NOT {paired(fixed)}"
    return f"""
CALL {{ {matching} RETURN count(e) AS total }}
CALL {{ {matching} WITH e ORDER BY e.row SKIP $offset LIMIT $limit RETURN collect(properties(e)) AS page }}
RETURN total, page
"""


@cache
def department_pairing_text(fixed: frozenset[str]) -> str:
    """What the department pairing weighs: the key enterprises counted in a scope on `$day`
    (ledger order), every department, and the credit codes each department is paired with."""
    return f"""
CALL {{
  MATCH (e:Enterprise) WHERE {KEY_ENTERPRISES}{scoped(fixed)}
  WITH e ORDER BY e.row
  RETURN collect(properties(e)) AS enterprises
}}
CALL {{
  MATCH (d:Department) WHERE d.g = $g
  WITH d ORDER BY d.row
  RETURN collect(properties(d)) AS departments
}}
CALL {{
  MATCH (d:Department)-[l:LINK]-(other)
  WHERE d.g = $g AND l.kind = 'PAIRING' AND {IN_EFFECT}{in_world(fixed, "other")}
  OPTIONAL MATCH (other)-[c:COVERS]->(x:Enterprise) WHERE {LIVE_COVERS}{scoped(bound(fixed), "x")}
  WITH d, CASE WHEN other:Enterprise THEN other.credit_code ELSE x.credit_code END AS code
  WITH d, collect(DISTINCT code) AS codes
  RETURN collect([d.id, codes]) AS paired
}}
RETURN enterprises, departments, paired
"""


# The enterprise `e` of a near-set is near the asked one `a` in these ways (graph.stores.answers.Near).
SAME_BUILDING = "coalesce(a.building IS NOT NULL AND e.building = a.building AND e.park = a.park, false)"
SAME_CLUSTER = "coalesce(a.resolved_cluster IS NOT NULL AND e.resolved_cluster = a.resolved_cluster, false)"


@cache
def neighbourhood_text(fixed: frozenset[str]) -> str:
    return f"""
MATCH (a:Record {{uid: $uid}}) WHERE a:Enterprise{scoped(fixed, "a")}
CALL {{
  WITH a
  OPTIONAL MATCH (o:Organization)-[c:COVERS]->(a) WHERE c.from <= $day AND $day < c.to AND a.registered <= $day
  WITH o, c ORDER BY c.row
  RETURN collect(CASE WHEN o IS NULL THEN null ELSE [o.name, o.id] END) AS covering
}}
CALL {{
  WITH a
  OPTIONAL MATCH (a)-[l:LINK]-(p:Enterprise) WHERE l.kind = 'SUPPLY' AND {IN_EFFECT}{scoped(fixed, "p")}
  RETURN collect(DISTINCT p.uid) AS supply
}}
CALL {{
  WITH a
  OPTIONAL MATCH (e:Enterprise) WHERE e.g = $g AND e.building = a.building AND e.park = a.park{scoped(fixed)}
  RETURN collect(e) AS building
}}
CALL {{
  WITH a
  OPTIONAL MATCH (e:Enterprise) WHERE e.g = $g AND e.resolved_cluster = a.resolved_cluster{scoped(fixed)}
  RETURN collect(e) AS cluster
}}
CALL {{
  WITH a, supply
  OPTIONAL MATCH (e:Record) WHERE e.uid IN supply
  RETURN collect(e) AS partners
}}
UNWIND CASE WHEN size(building + cluster + partners) = 0 THEN [null] ELSE building + cluster + partners END AS e
WITH DISTINCT a, covering, supply, e
WITH a, covering, e, CASE WHEN e IS NULL OR e.uid = a.uid THEN null
     ELSE [{SAME_BUILDING}, {SAME_CLUSTER}, e.uid IN supply] END AS near
WITH a, covering, collect(CASE WHEN near IS NULL THEN null ELSE [e, near] END) AS near
CALL {{
  WITH near
  UNWIND near AS n
  WITH n[0] AS e, n[1] AS flags, $day AS day
  WHERE e.registered <= day AND day < e.inactive AND e.formal_members < $max_formal
  WITH e, flags, day, {ORGANIZED} AS organized
  WITH e, flags WHERE NOT organized
  WITH e, flags, (CASE WHEN flags[0] THEN 4 ELSE 0 END) + (CASE WHEN flags[1] THEN 2 ELSE 0 END)
       + (CASE WHEN flags[2] THEN 1 ELSE 0 END) AS kind
  ORDER BY kind, e.formal_members DESC, e.row
  WITH kind, collect([properties(e), flags, e.row])[0..$per_kind] AS best
  RETURN collect(best) AS neighbours
}}
UNWIND CASE WHEN size(near) = 0 THEN [null] ELSE near END AS n
WITH a, covering, neighbours, n, n[0] AS x
OPTIONAL MATCH (o:Organization)-[c:COVERS]->(x)
WHERE o.kind = 'JOINT_BRANCH' AND c.from <= $day AND $day < c.to AND x.registered <= $day
WITH a, covering, neighbours, o, min(c.row) AS first,
     sum(CASE WHEN n[1][0] THEN 1 ELSE 0 END) > 0 AS building,
     sum(CASE WHEN n[1][1] THEN 1 ELSE 0 END) > 0 AS cluster,
     sum(CASE WHEN n[1][2] THEN 1 ELSE 0 END) > 0 AS supply
CALL {{
  WITH o
  OPTIONAL MATCH (o)-[c:COVERS]->(x:Enterprise) WHERE c.from <= $day AND $day < c.to AND x.registered <= $day{scoped(fixed, "x")}
  RETURN count(c) AS units
}}
{subtree_members(fixed)}
WITH a, covering, neighbours, o, units, formal, building, cluster, supply ORDER BY first
RETURN properties(a) AS enterprise, covering, neighbours,
       collect(CASE WHEN o IS NULL THEN null ELSE [properties(o), units, formal, [building, cluster, supply]] END) AS joint
"""


# -- simulation: the records a change set reaches (graph.simulation, "what a change reaches") --

# Whether the PART_OF edge `r` is to the organization's parent now: its last span is open.
CURRENT = "{r}.to[size({r}.to) - 1] = $never"


def _named(keys: str, node: str, label: str, condition: str, found: str) -> str:
    """A subquery collecting as `found` the nodes of `label` keyed by the uids of `$keys`."""
    return f"""
CALL {{
  WITH g
  UNWIND ${keys} AS key
  MATCH ({node}:Record {{uid: key}}) WHERE {node}:{label}{condition}
  RETURN collect({node}) AS {found}
}}"""


@cache
def reached_text(fixed: frozenset[str]) -> str:
    """What a change set reaches, from the ids `$moved`, `$organizations`, `$codes` and
    `$every` (graph.simulation.Named), with the figures of the organizations on `$day`."""
    assigned = (
        f" AND EXISTS {{ MATCH (i)-[:ASSIGNED]->(x:Enterprise) WHERE true{scoped(fixed, 'x')} }}" if fixed else ""
    )
    parent = " AND coalesce($world[p.parent_id], false)" if WORLD in fixed else ""
    return f"""
WITH $g AS g
CALL {{
  WITH g
  UNWIND $moved AS key
  MATCH (m:Record {{uid: key}}) WHERE m:Organization
  MATCH under = (m)<-[:PART_OF*0..]-(x:Organization)
  WHERE all(r IN relationships(under) WHERE {CURRENT.format(r="r")}){member(fixed, "x")}
  RETURN collect(DISTINCT x) AS moved
}}
{_named("organizations", "o", "Organization", member(fixed), "written")}{_named("codes", "e", "Enterprise", scoped(fixed), "named")}
CALL {{
  WITH moved
  UNWIND moved AS x
  MATCH (x)-[:COVERS]->(e:Enterprise) WHERE true{scoped(fixed)}
  RETURN collect(DISTINCT e) AS covered
}}
WITH g, moved + written AS seeds, named + covered AS first
CALL {{
  WITH first
  UNWIND first AS e
  MATCH (o:Organization)-[:COVERS]->(e)
  RETURN collect(DISTINCT o) AS covering
}}
WITH g, seeds + covering AS reached, first
CALL {{
  WITH reached
  UNWIND reached AS o
  MATCH (o)-[:COVERS]->(e:Enterprise) WHERE true{scoped(fixed)}
  RETURN collect(DISTINCT e) AS second
}}
CALL {{
  WITH first, second
  UNWIND first + second AS e
  WITH DISTINCT e
  RETURN collect(e) AS enterprises
}}
CALL {{
  WITH enterprises
  UNWIND enterprises AS e
  MATCH (o:Organization)-[c:COVERS]->(e)
  RETURN collect(properties(c)) AS covers, collect(DISTINCT o) AS coverers
}}
CALL {{
  WITH enterprises
  UNWIND enterprises AS e
  MATCH (:Instructor)-[a:ASSIGNED]->(e)
  RETURN collect(properties(a)) AS assignments
}}
CALL {{
  WITH enterprises
  UNWIND enterprises AS e
  MATCH (o:Record {{uid: $prefix + e.cluster_id}}) WHERE o:Organization
  RETURN collect(o) AS declared
}}
{_named("every", "o", "Organization", member(fixed), "mentioned")}{_named("every", "e", "Enterprise", scoped(fixed), "ends")}{_named("every", "d", "Department", "", "departments")}{_named("every", "i", "Instructor", assigned, "instructors")}
CALL {{
  WITH g
  UNWIND $every AS key
  MATCH (n:Record {{uid: key}})-[l:LINK]-(other)
  WHERE l.until IS NULL{in_world(fixed, "n")}{in_world(fixed, "other")}
  RETURN collect(properties(l)) AS links
}}
WITH enterprises, covers, assignments, ends, departments, instructors, links,
     reached + coverers + declared + mentioned AS some
CALL {{
  WITH some
  UNWIND some AS x
  MATCH up = (x)-[:PART_OF*0..]->(o:Organization) WHERE all(r IN relationships(up) WHERE {CURRENT.format(r="r")})
  RETURN collect(DISTINCT o) AS organizations
}}
CALL {{
  WITH organizations
  UNWIND organizations AS o
  MATCH (u:Upgrade) WHERE u.org_id = o.id AND u.g = $g
  RETURN collect(properties(u)) AS upgrades
}}
CALL {{
  WITH organizations
  UNWIND organizations AS o
  MATCH (p:PastParent) WHERE p.org_id = o.id AND p.g = $g{parent}
  RETURN collect(properties(p)) AS parents
}}
UNWIND CASE WHEN size(organizations) = 0 THEN [null] ELSE organizations END AS o
{organization_facts(fixed)}
WITH enterprises, covers, assignments, ends, departments, instructors, links, upgrades, parents,
     collect(CASE WHEN o IS NULL THEN null ELSE [properties(o), units, inactive, formal, probationary] END) AS facts
RETURN [e IN enterprises + ends | properties(e)] AS enterprises, covers, assignments,
       [d IN departments | properties(d)] AS departments, [i IN instructors | properties(i)] AS instructors,
       links, upgrades, parents, facts
"""


# -- a token's world: what graph.access.world_organizations decides from, and its counts --


@cache
def world_text(fixed: frozenset[str]) -> str:
    """For a boundary (`fixed`: its names in BOUNDARY_PROPERTIES): the organizations whose
    COVERS edges, ended ones too, reach an enterprise inside and outside; every organization
    with its parent and kind, and the past parents; the clusters, parks, chains and buildings
    of the enterprises inside, and what they count."""
    within, outside = scoped(fixed), f"NOT ({inside(fixed)})"
    return f"""
CALL {{
  MATCH (o:Organization)-[:COVERS]->(e:Enterprise) WHERE e.g = $g{within}
  RETURN collect(DISTINCT o.id) AS reaching_in, count(*) AS covers
}}
CALL {{
  MATCH (o:Organization)-[:COVERS]->(e:Enterprise) WHERE e.g = $g AND {outside}
  RETURN collect(DISTINCT o.id) AS reaching_out
}}
CALL {{
  MATCH (e:Enterprise) WHERE e.g = $g{within}
  RETURN count(e) AS enterprises, collect(DISTINCT e.cluster_id) AS declared, collect(DISTINCT e.park) AS parks,
         collect(DISTINCT e.chain) AS chains, collect(DISTINCT [e.park, e.building]) AS buildings
}}
CALL {{
  MATCH (o:Organization) WHERE o.g = $g
  RETURN collect([o.id, o.parent_id, o.kind]) AS organizations
}}
CALL {{
  MATCH (p:PastParent) WHERE p.g = $g
  RETURN collect([p.org_id, p.parent_id]) AS past
}}
CALL {{
  MATCH (i:Instructor)-[a:ASSIGNED]->(e:Enterprise) WHERE e.g = $g{within}
  RETURN count(a) AS assignments, count(DISTINCT i) AS instructors
}}
RETURN reaching_in, covers, reaching_out, enterprises, declared, parks, chains, buildings, organizations, past,
       assignments, instructors
"""


@cache
def world_links_text(fixed: frozenset[str]) -> str:
    """How many LINK edges have both ends in the world."""
    return f"""
MATCH (a)-[l:LINK]->(b) WHERE l.g = $g{in_world(fixed, "a")}{in_world(fixed, "b")}
RETURN count(l) AS links
"""


@cache
def outside_text(fixed: frozenset[str]) -> str:
    """Of `$uids`, the keys naming a record of the graph that the world leaves out."""
    return f"""
UNWIND $uids AS key
MATCH (n:Record {{uid: key}})
WITH key, n WHERE NOT (
  (n:Organization{member(fixed, "n")}) OR n:Department OR (n:Enterprise AND {inside(fixed, "n")})
  OR (n:Instructor AND EXISTS {{ MATCH (n)-[:ASSIGNED]->(x:Enterprise) WHERE true{scoped(bound(fixed), "x")} }}))
RETURN collect(key) AS outside
"""


# -- the graph read back whole (`chainorg export --store`), each kind in ledger order ----

EVERY_RECORD = {
    "enterprises": "MATCH (n:Enterprise) WHERE n.g = $g RETURN properties(n) AS record ORDER BY n.row",
    "organizations": "MATCH (n:Organization) WHERE n.g = $g RETURN properties(n) AS record ORDER BY n.row",
    "instructors": "MATCH (n:Instructor) WHERE n.g = $g RETURN properties(n) AS record ORDER BY n.row",
    "departments": "MATCH (n:Department) WHERE n.g = $g RETURN properties(n) AS record ORDER BY n.row",
    "past_parents": "MATCH (n:PastParent) WHERE n.g = $g RETURN properties(n) AS record ORDER BY n.row",
    "upgrades": "MATCH (n:Upgrade) WHERE n.g = $g RETURN properties(n) AS record ORDER BY n.row",
    "covers": "MATCH (:Organization)-[r:COVERS]->(:Enterprise) WHERE r.g = $g RETURN properties(r) AS record ORDER BY r.row",
    "assignments": "MATCH (:Instructor)-[r:ASSIGNED]->(:Enterprise) WHERE r.g = $g RETURN properties(r) AS record ORDER BY r.row",
    "links": "MATCH ()-[r:LINK]->() WHERE r.g = $g RETURN properties(r) AS record ORDER BY r.row",
}
