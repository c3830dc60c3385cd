"""The compliance audit and the bulletin over HTTP, on the demo."""

from graph.compliance import DEFAULT_RULES
from tests.conftest import LiveServer

REPORT = """query ($after: String, $rules: [RuleCode!]) {
  compliance(asOf: "2021-07-31", rules: $rules) {
    countsByRule { rule severity count }
    findings(first: 500, after: $after) { totalCount nodes { rule subjectKind subjectId message }
                                          pageInfo { hasNextPage endCursor } }
  }
}"""


def test_counts_match_the_findings_paged_through(demo_server: LiveServer) -> None:
    seen, after = [], None
    while True:
        report = demo_server.query(REPORT, {"after": after})["data"]["compliance"]
        seen += report["findings"]["nodes"]
        if not report["findings"]["pageInfo"]["hasNextPage"]:
            break
        after = report["findings"]["pageInfo"]["endCursor"]
    counts = {c["rule"]: c["count"] for c in report["countsByRule"]}
    assert list(counts) == [s.code.value for s in DEFAULT_RULES.enabled()]
    assert len(seen) == report["findings"]["totalCount"] == sum(counts.values())
    assert {rule: sum(f["rule"] == rule for f in seen) for rule in counts} == counts


def test_rules_narrow_the_report(demo_server: LiveServer) -> None:
    report = demo_server.query(REPORT, {"rules": ["NEEDS_BRANCH_COMMITTEE"]})["data"]["compliance"]
    assert [c["rule"] for c in report["countsByRule"]] == ["NEEDS_BRANCH_COMMITTEE"]
    assert {f["subjectKind"] for f in report["findings"]["nodes"]} == {"ORGANIZATION"}


def test_findings_on_organizations_and_enterprises(demo_server: LiveServer) -> None:
    def first_finding(rule: str) -> dict:
        return demo_server.query(REPORT, {"rules": [rule]})["data"]["compliance"]["findings"]["nodes"][0]

    org, enterprise = first_finding("NEEDS_BRANCH_COMMITTEE"), first_finding("MUST_BUILD")
    query = """query ($org: ID!, $code: String!) {
      organization(id: $org) { findings(asOf: "2021-07-31") { rule message } }
      enterprise(creditCode: $code) { findings(asOf: "2021-07-31", rules: [MUST_BUILD]) { rule message } }
    }"""
    data = demo_server.query(query, {"org": org["subjectId"], "code": enterprise["subjectId"]})["data"]
    assert {"rule": "NEEDS_BRANCH_COMMITTEE", "message": org["message"]} in data["organization"]["findings"]
    assert data["enterprise"]["findings"] == [{"rule": "MUST_BUILD", "message": enterprise["message"]}]


def test_the_bulletin_over_http(demo_server: LiveServer) -> None:
    query = """{ bulletin(asOf: "2021-07-31", previous: "2020-07-31") { previous rows { by label
        current { coverage { organizations } countsByRule { count } }
        previous { coverage { organizations } } changesByRule { count } } } }"""
    bulletin = demo_server.query(query)["data"]["bulletin"]
    whole = bulletin["rows"][0]
    assert (bulletin["previous"], whole["by"]) == ("2020-07-31", None)
    clusters = [row for row in bulletin["rows"] if row["by"] == "CLUSTER"]
    assert len(clusters) == 11 and all(row["label"].endswith("党群联组") for row in clusters)
    assert whole["current"]["coverage"]["organizations"] == 168  # the demo's enterprise organizations
    assert sum(r["current"]["coverage"]["organizations"] for r in clusters) == 168
