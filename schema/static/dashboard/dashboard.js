// The dashboard (驾驶舱): every figure is an answer of this server's GraphQL API for the chosen
// scope and date, asked with the tab's token; each links to its query in GraphiQL. It asks only
// aggregate questions and pages, so it stays quick at province size, and loads nothing from
// any other host. Charts: the vendored ECharts, SVG renderer, ARIA descriptions on.
"use strict";

const TOKEN_KEY = "chainorg-token";  // the explorer's key too: one token per tab
const LANGUAGE_KEY = "chainorg-language";
const PAGE = 10;
const FONT = '"Dashboard CJK", "WenQuanYi Micro Hei", sans-serif';

const WORDS = {
  zh: {
    title: "非公企业党建驾驶舱", explorer: "GraphQL 查询", token: "令牌", tokenHint: "粘贴令牌（仅保存在本标签页）",
    use: "使用", forget: "清除", park: "园区", chain: "产业链", cluster: "党群联组", building: "楼宇",
    category: "行业类别", asOf: "日期", show: "查看", all: "全部", headline: "两个覆盖", query: "查询", export: "导出",
    byCluster: "各党群联组覆盖率", byCategory: "各行业覆盖率", trend: "覆盖率走势", months12: "近12个月",
    months24: "近24个月", months60: "近5年", byKind: "党组织类型", byMode: "组建方式", compliance: "合规检查",
    terms: "换届提醒（{0}天内）", stars: "达标创星", byStars: "按星级", byPoints: "按积分", alliances: "党建联盟",
    bulletin: "每旬通报", previous: "对比日期", makeBulletin: "生成通报", orgChart: "组织架构图", reset: "复位",
    openChart: "在新窗口打开", download: "下载", whatIf: "模拟组建", pickEnterprises: "选择未覆盖企业，组建联合党支部",
    simulatePicked: "模拟所选企业", proposal: "或采用楼宇的组建方案", simulatePlan: "模拟方案", scenarioName: "方案名称",
    saveScenario: "保存为方案",
    enterprises: "企业总数", organizationCovered: "组织覆盖", workCovered: "工作覆盖（含组织覆盖）", organizations: "党组织数",
    formalMembers: "正式党员", unit: " 家", people: " 人", monthBefore: "上月", yearBefore: "去年",
    onlyWork: "其中仅工作覆盖", organizationRate: "组织覆盖率", workRate: "工作覆盖率", rule: "规则", severity: "程度",
    count: "数量", subject: "对象", message: "说明", name: "名称", kind: "类型", termEnds: "届满日期", secretary: "书记",
    parent: "上级", starsCol: "星级", points: "积分", lead: "盟主单位", members: "成员", memberCount: "成员数",
    group: "范围", change: "变化", whole: "合计", prev: "上一页", next: "下一页", page: "第 {0} 页，共 {1} 条",
    creditCode: "统一社会信用代码", formal: "正式党员", before: "模拟前", after: "模拟后", pick: "选",
    planSummary: "方案：{0} 个联合党支部，覆盖 {1} 家（可联合组建 {2} 家）", pickTwo: "请至少选择两家企业",
    saved: "已保存：{0}", none: "—", signedOut: "未登录", noBuilding: "请填写楼宇（并选择园区）",
    created: "新增问题", resolved: "解决问题", sortedPage: "（点击表头在本页排序）",
    severityERROR: "违规", severityWARNING: "提醒", severityINFO: "提示",
    PARK: "园区", CHAIN: "产业链", CLUSTER: "党群联组",
  },
  en: {
    title: "Party-building dashboard", explorer: "GraphQL explorer", token: "Token",
    tokenHint: "paste a token (kept for this tab only)", use: "Use", forget: "Forget", park: "Park", chain: "Chain",
    cluster: "Cluster", building: "Building", category: "Category", asOf: "Date", show: "Show", all: "All",
    headline: "The two coverages", query: "query", export: "export", byCluster: "Coverage by cluster",
    byCategory: "Coverage by category", trend: "Coverage trend", months12: "12 months", months24: "24 months",
    months60: "5 years", byKind: "Organizations by kind", byMode: "Formation modes", compliance: "Compliance",
    terms: "Terms ending within {0} days", stars: "Stars and points", byStars: "by stars", byPoints: "by points",
    alliances: "Alliances", bulletin: "Ten-day bulletin", previous: "Compare with", makeBulletin: "Make the bulletin",
    orgChart: "Org chart", reset: "reset", openChart: "open in a new window", download: "download",
    whatIf: "What if", pickEnterprises: "Pick uncovered enterprises for a joint branch",
    simulatePicked: "Simulate the picked", proposal: "or take the planner's proposal for a building",
    simulatePlan: "Simulate the plan", scenarioName: "Scenario name", saveScenario: "Save as a scenario",
    enterprises: "Enterprises", organizationCovered: "Organization coverage", workCovered: "Work coverage (incl. organization)",
    organizations: "Organizations", formalMembers: "Formal members", unit: "", people: "", monthBefore: "a month before",
    yearBefore: "a year before", onlyWork: "by work alone", organizationRate: "organization rate", workRate: "work rate",
    rule: "Rule", severity: "Severity", count: "Count", subject: "Subject", message: "Message", name: "Name",
    kind: "Kind", termEnds: "Term ends", secretary: "Secretary", parent: "Parent", starsCol: "Stars", points: "Points",
    lead: "Lead", members: "Members", memberCount: "Members", group: "Group", change: "change", whole: "All",
    prev: "previous", next: "next", page: "page {0} of {1} rows", creditCode: "Credit code", formal: "Formal members",
    before: "Before", after: "After", pick: "Pick", planSummary: "Plan: {0} joint branches covering {1} ({2} eligible)",
    pickTwo: "Pick two enterprises or more", saved: "Saved: {0}", none: "—", signedOut: "not signed in",
    noBuilding: "Give a building (and choose its park)", created: "New findings", resolved: "Resolved findings",
    sortedPage: "(click a header to sort this page)", severityERROR: "error", severityWARNING: "warning",
    severityINFO: "info", PARK: "Park", CHAIN: "Chain", CLUSTER: "Cluster",
  },
};
const CATEGORIES = { NEWS: "新闻", SOCIAL: "社交", GAMES: "网游", ECOMMERCE: "电商", FINANCE: "金融", DATA: "数据", OTHER: "其他" };
const MAY_PLAN = new Set(["planner", "editor", "admin"]);
const ENTERPRISE_LEVEL = ["COMMITTEE", "GENERAL_BRANCH", "BRANCH", "JOINT_BRANCH"];  // the ones rated (达标创星)

let language = localStorage.getItem(LANGUAGE_KEY) === "en" ? "en" : "zh";
const t = (key, ...values) => (WORDS[language][key] ?? WORDS.zh[key] ?? key).replace(/\{(\d)\}/g, (_, n) => values[n]);
const $ = (selector) => document.querySelector(selector);

const view = {
  scope: {}, asOf: null, today: null, me: null, queries: {}, charts: {}, answers: {}, drawn: new Set(),
  ruleTerms: {}, termDays: 0, pages: { findings: 0, terms: 0, stars: 0, uncovered: 0 }, rule: null, picked: new Map(),
  changes: null, timings: {},
};
window.dashboard = view;  // for the browser tests and the benchmark: what was asked and answered

// -- the API --------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(error) { super(error.message); this.code = error.extensions && error.extensions.code; }
}

function headers(json = true) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const given = json ? { "Content-Type": "application/json", Accept: "application/json" } : {};
  return token ? { ...given, Authorization: `Bearer ${token}` } : given;
}

async function ask(name, query, variables = {}) {
  view.queries[name] = { query, variables };
  for (const link of document.querySelectorAll(`[data-query="${name}"]`)) link.href = explorerLink(name);
  const started = performance.now();
  const response = await fetch("/graphql", { method: "POST", headers: headers(), body: JSON.stringify({ query, variables }) });
  const answer = await response.json();
  view.timings[name] = performance.now() - started;
  if (answer.errors && answer.errors.length) throw new ApiError(answer.errors[0]);
  view.answers[name] = answer.data;
  return answer.data;
}

function explorerLink(name) {
  const { query, variables } = view.queries[name];
  return `/graphql#query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify(variables, null, 2))}`;
}

function cursorBefore(offset) {  // the API's cursors are offsets (schema/pagination.py)
  return offset > 0 ? btoa(`offset:${offset - 1}`).replace(/\+/g, "-").replace(/\//g, "_") : null;
}

const FIGURES = "enterprises organizationCovered workCovered organizationRate workRate organizations formalMembers";

// -- formatting -----------------------------------------------------------------------------

const whole = (n) => Number(n).toLocaleString("en-US");  // counts in full: 13,151, never 1.3万
const percent = (rate) => `${(rate * 100).toFixed(1)}%`;
const tenths = (rate) => Math.round(rate * 1000) / 10;  // a rate as the charts plot it, in percent
const text = (value) => (value === null || value === undefined || value === "" ? t("none") : String(value));

function isoDay(day) { return day.toISOString().slice(0, 10); }
function shifted(iso, { months = 0, days = 0 }) {
  const [y, m, d] = iso.split("-").map(Number);
  if (months) {
    const last = new Date(Date.UTC(y, m - 1 + months + 1, 0)).getUTCDate();
    return isoDay(new Date(Date.UTC(y, m - 1 + months, Math.min(d, last))));
  }
  return isoDay(new Date(Date.UTC(y, m - 1, d + days)));
}

function cell(row, value, className) {
  const td = document.createElement("td");
  td.textContent = text(value);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function table(element, columns, rows, { sortable = false } = {}) {
  element.replaceChildren();
  const head = element.createTHead().insertRow();
  columns.forEach(([key, , numeric], index) => {
    const th = document.createElement("th");
    th.textContent = t(key);
    if (numeric) th.className = "number";
    if (sortable) th.addEventListener("click", () => sortPage(element, index, numeric));
    head.appendChild(th);
  });
  const body = element.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    columns.forEach(([, value, numeric]) => {
      const shown = value(row);
      if (shown instanceof Node) tr.insertCell().appendChild(shown); else cell(tr, shown, numeric ? "number" : "");
    });
  }
}

function sortPage(element, index, numeric) {
  const body = element.tBodies[0];
  const down = element.dataset.sorted === String(index);
  const key = (tr) => tr.cells[index].textContent;
  const rows = [...body.rows].sort((a, b) =>
    numeric ? Number(key(a).replace(/,/g, "")) - Number(key(b).replace(/,/g, "")) : key(a).localeCompare(key(b), "zh-CN"));
  if (down) rows.reverse();
  element.dataset.sorted = down ? "" : String(index);
  body.replaceChildren(...rows);
}

function pager(name, total, reload) {
  const box = $(`[data-pager="${name}"]`);
  const offset = view.pages[name];
  const back = document.createElement("button");
  back.type = "button"; back.textContent = t("prev"); back.disabled = offset === 0;
  back.onclick = () => { view.pages[name] = Math.max(0, offset - PAGE); reload().catch(show); };
  const on = document.createElement("button");
  on.type = "button"; on.textContent = t("next"); on.disabled = offset + PAGE >= total;
  on.onclick = () => { view.pages[name] = offset + PAGE; reload().catch(show); };
  const where = document.createElement("span");
  where.textContent = t("page", whole(Math.floor(offset / PAGE) + 1), whole(total));
  box.replaceChildren(back, where, on);
}

function show(error) {
  const box = $("#problem");
  box.textContent = error.code ? `${error.message} (${error.code})` : String(error.message || error);
  box.hidden = false;
}

// -- charts ---------------------------------------------------------------------------------

function chart(id, option) {
  const element = document.getElementById(id);
  let drawn = view.charts[id];
  if (!drawn) {
    drawn = echarts.init(element, null, { renderer: "svg", locale: language === "zh" ? "ZH" : "EN" });
    drawn.on("finished", () => {
      view.drawn.add(id);
      if (view.drawn.size === CHARTS.length) window.dashboardDrawnAt = window.dashboardDrawnAt || performance.now();
    });
    view.charts[id] = drawn;
  }
  drawn.setOption({
    aria: { enabled: true }, textStyle: { fontFamily: FONT }, animation: false,
    tooltip: { trigger: option.series[0].type === "pie" ? "item" : "axis" }, ...option,
  }, true);
}
const CHARTS = ["chart-cluster", "chart-category", "chart-trend", "chart-kind", "chart-mode"];

function rateBars(id, groups, title) {
  chart(id, {
    title: { text: title, show: false },
    legend: { data: [t("organizationRate"), t("workRate")], top: 0 },
    grid: { left: 48, right: 12, top: 30, bottom: 80 },
    xAxis: { type: "category", data: groups.map((g) => g.label), axisLabel: { rotate: groups.length > 6 ? 35 : 0, interval: 0 } },
    yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
    series: [
      { name: t("organizationRate"), type: "bar", barMaxWidth: 36, data: groups.map((g) => tenths(g.coverage.organizationRate)), itemStyle: { color: "#c62828" } },
      { name: t("workRate"), type: "bar", barMaxWidth: 36, data: groups.map((g) => tenths(g.coverage.workRate)), itemStyle: { color: "#ef9a9a" } },
    ],
  });
}

function pie(id, counts, title) {
  chart(id, {
    title: { text: title, show: false },
    series: [{ type: "pie", radius: ["35%", "65%"], data: counts.map((c) => ({ name: c.label, value: c.count })),
               label: { formatter: "{b} {c}" } }],
  });
}

// -- the panels -----------------------------------------------------------------------------

function scopeVariable() {
  const scope = Object.fromEntries(Object.entries(view.scope).filter(([, v]) => v));
  return Object.keys(scope).length ? scope : null;
}

async function headline() {
  const query = `query Headline($scope: ScopeInput, $asOf: Date!, $month: Date!, $year: Date!) {
  now: coverage(scope: $scope, asOf: $asOf) { ${FIGURES} }
  month: coverage(scope: $scope, asOf: $month) { ${FIGURES} }
  year: coverage(scope: $scope, asOf: $year) { ${FIGURES} }
}`;
  const month = shifted(view.asOf, { months: -1 }), year = shifted(view.asOf, { months: -12 });
  const data = await ask("headline", query, { scope: scopeVariable(), asOf: view.asOf, month, year });
  const reached = (c) => c.organizationCovered + c.workCovered;
  const figures = {
    enterprises: [(c) => c.enterprises, null, "unit"],
    organizationCovered: [(c) => c.organizationCovered, (c) => c.organizationRate, "unit"],
    workCovered: [reached, (c) => c.workRate, "unit"],
    organizations: [(c) => c.organizations, null, ""],
    formalMembers: [(c) => c.formalMembers, null, "people"],
  };
  for (const [name, [count, rate, unit]] of Object.entries(figures)) {
    const card = document.querySelector(`[data-figure="${name}"]`);
    const then = (label, day, c) => `${t(label)} ${day}: ${rate ? percent(rate(c)) : whole(count(c))}`;
    card.replaceChildren();
    const title = document.createElement("div"); title.className = "name"; title.textContent = t(name);
    const value = document.createElement("div"); value.className = "value";
    value.dataset.value = String(count(data.now));
    value.textContent = whole(count(data.now)) + (unit ? t(unit) : "");
    if (rate) {
      const shown = document.createElement("span"); shown.className = "rate";
      shown.dataset.rate = String(rate(data.now)); shown.textContent = percent(rate(data.now));
      value.appendChild(shown);
    }
    const past = document.createElement("div"); past.className = "then";
    past.innerText = `${then("monthBefore", month, data.month)}\n${then("yearBefore", year, data.year)}`;
    if (name === "workCovered") past.innerText += `\n${t("onlyWork")} ${whole(data.now.workCovered)}${t("unit")}`;
    card.append(title, value, past);
  }
}

async function byCluster() {
  const query = `query ByCluster($scope: ScopeInput, $asOf: Date) {
  coverageBy(by: CLUSTER, scope: $scope, asOf: $asOf) { key label coverage { enterprises organizationCovered workCovered organizationRate workRate } }
}`;
  const data = await ask("byCluster", query, { scope: scopeVariable(), asOf: view.asOf });
  rateBars("chart-cluster", data.coverageBy, t("byCluster"));
}

async function byCategory() {
  const query = `query ByCategory($scope: ScopeInput, $asOf: Date) {
  coverageBy(by: CATEGORY, scope: $scope, asOf: $asOf) { key label coverage { enterprises organizationCovered workCovered organizationRate workRate } }
}`;
  const data = await ask("byCategory", query, { scope: scopeVariable(), asOf: view.asOf });
  const groups = data.coverageBy.map((g) => ({ ...g, label: language === "zh" ? g.label : g.key }));
  rateBars("chart-category", groups, t("byCategory"));
}

async function trend() {
  const months = Number($("#trend-months").value);
  const query = `query Trend($scope: ScopeInput, $from: Date!, $to: Date!) {
  coverageTrend(from: $from, to: $to, step: MONTH, scope: $scope) { asOf coverage { enterprises organizationRate workRate } }
}`;
  const data = await ask("trend", query, { scope: scopeVariable(), from: shifted(view.asOf, { months: -months }), to: view.asOf });
  const points = data.coverageTrend;
  chart("chart-trend", {
    legend: { data: [t("organizationRate"), t("workRate")], top: 0 },
    grid: { left: 48, right: 16, top: 30, bottom: 30 },
    xAxis: { type: "category", data: points.map((p) => p.asOf.slice(0, 7)) },
    yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
    series: [
      { name: t("organizationRate"), type: "line", data: points.map((p) => tenths(p.coverage.organizationRate)), itemStyle: { color: "#c62828" } },
      { name: t("workRate"), type: "line", data: points.map((p) => tenths(p.coverage.workRate)), itemStyle: { color: "#ef9a9a" } },
    ],
  });
}

async function kinds() {
  const query = `query Organizations($scope: ScopeInput, $asOf: Date) {
  kinds: organizationCounts(by: KIND, scope: $scope, asOf: $asOf) { key label count }
  modes: organizationCounts(by: MODE, scope: $scope, asOf: $asOf) { key label count }
}`;
  const data = await ask("kinds", query, { scope: scopeVariable(), asOf: view.asOf });
  const named = (counts) => counts.map((c) => ({ ...c, label: language === "zh" ? c.label : c.key || t("none") }));
  pie("chart-kind", named(data.kinds), t("byKind"));
  pie("chart-mode", named(data.modes), t("byMode"));
}

async function compliance() {
  const query = `query Compliance($scope: ScopeInput, $asOf: Date, $rules: [RuleCode!], $first: Int!, $after: String) {
  all: compliance(scope: $scope, asOf: $asOf) { countsByRule { rule severity count } }
  picked: compliance(scope: $scope, asOf: $asOf, rules: $rules) {
    findings(first: $first, after: $after) { totalCount nodes { rule severity subjectKind subjectId subjectName message } }
  }
}`;
  const offset = view.pages.findings;
  const data = await ask("compliance", query, {
    scope: scopeVariable(), asOf: view.asOf, rules: view.rule ? [view.rule] : null, first: PAGE, after: cursorBefore(offset),
  });
  const counts = $("#rule-counts");
  table(counts, [
    ["rule", (c) => view.ruleTerms[c.rule] || c.rule],
    ["severity", (c) => t(`severity${c.severity}`)],
    ["count", (c) => whole(c.count), true],
  ], data.all.countsByRule);
  [...counts.tBodies[0].rows].forEach((row, index) => {
    const rule = data.all.countsByRule[index].rule;
    row.dataset.rule = rule;
    row.classList.toggle("picked", rule === view.rule);
    row.onclick = () => { view.rule = view.rule === rule ? null : rule; view.pages.findings = 0; compliance().catch(show); };
  });
  const found = data.picked.findings;
  table($("#findings"), [
    ["rule", (f) => view.ruleTerms[f.rule] || f.rule],
    ["severity", (f) => t(`severity${f.severity}`)],
    ["subject", (f) => f.subjectName],
    ["message", (f) => f.message],
  ], found.nodes, { sortable: true });
  pager("findings", found.totalCount, compliance);
}

async function terms() {
  const query = `query Terms($filter: OrganizationFilter, $first: Int!, $after: String) {
  organizations(filter: $filter, orderBy: TERM_ENDS, first: $first, after: $after) {
    totalCount nodes { id name kind termEndsOn secretary parent { name } }
  }
}`;
  const filter = { scope: scopeVariable(), termEndsAfter: view.asOf, termEndsBefore: shifted(view.asOf, { days: view.termDays }) };
  const data = await ask("terms", query, { filter, first: PAGE, after: cursorBefore(view.pages.terms) });
  const found = data.organizations;
  table($("#terms"), [
    ["name", (o) => o.name], ["termEnds", (o) => o.termEndsOn], ["secretary", (o) => o.secretary],
    ["parent", (o) => o.parent && o.parent.name],
  ], found.nodes, { sortable: true });
  pager("terms", found.totalCount, terms);
}

async function stars() {
  const query = `query Stars($filter: OrganizationFilter, $order: OrganizationOrder!, $first: Int!, $after: String) {
  organizations(filter: $filter, orderBy: $order, first: $first, after: $after) {
    totalCount nodes { id name kind stars points }
  }
}`;
  const variables = { filter: { scope: scopeVariable(), kinds: ENTERPRISE_LEVEL }, order: $("#stars-order").value, first: PAGE, after: cursorBefore(view.pages.stars) };
  const found = (await ask("stars", query, variables)).organizations;
  table($("#stars"), [
    ["name", (o) => o.name], ["starsCol", (o) => (o.stars ? "★".repeat(o.stars) : null)], ["points", (o) => o.points, true],
  ], found.nodes, { sortable: true });
  pager("stars", found.totalCount, stars);
}

async function alliances() {
  const query = `query Alliances($scope: ScopeInput, $asOf: Date) {
  alliances(scope: $scope, asOf: $asOf) { alliance { id name } lead { id name } members { id name } }
}`;
  const data = await ask("alliances", query, { scope: scopeVariable(), asOf: view.asOf });
  table($("#alliances"), [
    ["name", (a) => a.alliance.name], ["lead", (a) => a.lead && a.lead.name],
    ["memberCount", (a) => whole(a.members.length), true],
    ["members", (a) => a.members.slice(0, 6).map((m) => m.name).join("、") + (a.members.length > 6 ? " …" : "")],
  ], data.alliances);
}

async function bulletin() {
  const query = `query Bulletin($scope: ScopeInput, $asOf: Date, $previous: Date) {
  bulletin(scope: $scope, asOf: $asOf, previous: $previous) {
    asOf previous
    rows { by key label organizationRateChange workRateChange
      current { coverage { enterprises organizationRate workRate } }
      previous { coverage { organizationRate workRate } } }
  }
}`;
  const previous = $("#previous").value || shifted(view.asOf, { days: -10 });
  const data = await ask("bulletin", query, { scope: scopeVariable(), asOf: view.asOf, previous });
  const change = (value) => { const span = document.createElement("span"); span.textContent = `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}`; span.className = value > 0 ? "up" : value < 0 ? "down" : ""; return span; };
  table($("#bulletin"), [
    ["group", (r) => (r.by ? t(r.by) : t("whole"))], ["name", (r) => (r.by ? r.label : t("all"))],
    ["enterprises", (r) => whole(r.current.coverage.enterprises), true],
    ["organizationRate", (r) => `${percent(r.previous.coverage.organizationRate)} → ${percent(r.current.coverage.organizationRate)}`],
    ["change", (r) => change(r.organizationRateChange)],
    ["workRate", (r) => `${percent(r.previous.coverage.workRate)} → ${percent(r.current.coverage.workRate)}`],
    ["change", (r) => change(r.workRateChange)],
  ], data.bulletin.rows, { sortable: true });
}

// -- the org chart: the SVG the API draws, zoomed and panned -------------------------------

const pan = { scale: 1, x: 0, y: 0 };
let chartUrl = null;

let chartAsked = 0;  // the latest chart asked for; one asked before it (an earlier start, root or date) is dropped

async function orgChart() {
  const asked = ++chartAsked;
  const root = $("#chart-root").value;
  if (!root) return;
  const response = await fetch(`/charts/${encodeURIComponent(root)}.svg?depth=2&asOf=${view.asOf}`, { headers: headers(false) });
  if (!response.ok) throw new ApiError((await response.json()).errors[0]);
  const blob = await response.blob();
  if (asked !== chartAsked) return;
  if (chartUrl) URL.revokeObjectURL(chartUrl);
  chartUrl = URL.createObjectURL(blob);
  const image = $("#org-chart-image");
  image.alt = `${t("orgChart")}: ${$("#chart-root").selectedOptions[0].textContent}`;
  window.dashboardChartFittedAt = null;  // until this chart is in and fitted
  image.onload = () => { if (asked === chartAsked) fitChart(); };
  image.src = chartUrl;
  $("#chart-open").href = chartUrl;
  $("#chart-open").target = "_blank";
  $("#chart-download").href = chartUrl;
  $("#chart-download").download = `${root}_${view.asOf}.svg`;
}

function fitChart() {  // the whole chart in view, centred; never enlarged past its own size
  const box = $("#org-chart"), image = $("#org-chart-image");
  const scale = Math.min(1, box.clientWidth / image.naturalWidth, box.clientHeight / image.naturalHeight);
  Object.assign(pan, { scale, x: (box.clientWidth - image.naturalWidth * scale) / 2, y: 0 });
  placeChart();
  window.dashboardChartFittedAt = performance.now();
}

function placeChart() {
  $("#org-chart-image").style.transform = `translate(${pan.x}px, ${pan.y}px) scale(${pan.scale})`;
}

function zoom(factor, cx = 0, cy = 0) {
  const scale = Math.min(8, Math.max(0.1, pan.scale * factor));
  pan.x = cx - ((cx - pan.x) * scale) / pan.scale;
  pan.y = cy - ((cy - pan.y) * scale) / pan.scale;
  pan.scale = scale;
  placeChart();
}

function wireChart() {
  const box = $("#org-chart");
  let dragging = null;
  box.addEventListener("wheel", (event) => {
    event.preventDefault();
    const at = box.getBoundingClientRect();
    zoom(event.deltaY < 0 ? 1.1 : 1 / 1.1, event.clientX - at.left, event.clientY - at.top);
  }, { passive: false });
  box.addEventListener("pointerdown", (event) => { dragging = { x: event.clientX - pan.x, y: event.clientY - pan.y }; box.setPointerCapture(event.pointerId); });
  box.addEventListener("pointermove", (event) => { if (dragging) { pan.x = event.clientX - dragging.x; pan.y = event.clientY - dragging.y; placeChart(); } });
  box.addEventListener("pointerup", () => { dragging = null; });
  for (const button of document.querySelectorAll("[data-zoom]")) {
    button.addEventListener("click", () => {
      const factor = Number(button.dataset.zoom);
      if (factor) zoom(factor); else fitChart();
    });
  }
  $("#chart-root").addEventListener("change", () => orgChart().catch(show));
}

// -- what if: simulate a joint branch or the planner's proposal, then keep it as a scenario --

async function uncovered() {
  const query = `query Uncovered($filter: EnterpriseFilter, $first: Int!, $after: String) {
  enterprises(filter: $filter, first: $first, after: $after) {
    totalCount nodes { creditCode name formalMembers building { name } cluster { id name } }
  }
}`;
  const filter = { scope: scopeVariable(), status: "ACTIVE", coverage: "NONE" };
  const found = (await ask("uncovered", query, { filter, first: PAGE, after: cursorBefore(view.pages.uncovered) })).enterprises;
  table($("#uncovered"), [
    ["pick", (e) => {
      const box = document.createElement("input");
      box.type = "checkbox"; box.value = e.creditCode; box.checked = view.picked.has(e.creditCode);
      box.onchange = () => (box.checked ? view.picked.set(e.creditCode, e) : view.picked.delete(e.creditCode));
      return box;
    }],
    ["name", (e) => e.name], ["creditCode", (e) => e.creditCode], ["building", (e) => e.building && e.building.name],
    ["formal", (e) => e.formalMembers, true],
  ], found.nodes);
  pager("uncovered", found.totalCount, uncovered);
}

async function simulate(changes) {
  const query = `query Simulate($changes: [ChangeInput!]!, $scope: ScopeInput) {
  simulate(changes: $changes, scope: $scope) {
    before { ${FIGURES} } after { ${FIGURES} }
    created { rule subjectName message } resolved { rule subjectName }
  }
}`;
  const data = await ask("simulate", query, { changes, scope: scopeVariable() });
  view.changes = changes;
  const { before, after } = data.simulate;
  const rows = [
    ["enterprises", (c) => whole(c.enterprises)], ["organizationCovered", (c) => whole(c.organizationCovered)],
    ["organizationRate", (c) => percent(c.organizationRate)], ["workRate", (c) => percent(c.workRate)],
    ["organizations", (c) => whole(c.organizations)],
  ];
  const box = $("#before-after");
  box.replaceChildren();
  const head = box.createTHead().insertRow();
  for (const word of ["", "before", "after"]) { const th = document.createElement("th"); th.textContent = word && t(word); head.appendChild(th); }
  const body = box.createTBody();
  for (const [key, value] of rows) {
    const tr = body.insertRow();
    tr.dataset.figure = key;
    cell(tr, t(key)); cell(tr, value(before), "number before"); cell(tr, value(after), "number after");
  }
  const findings = body.insertRow();
  cell(findings, `${t("created")} / ${t("resolved")}`);
  cell(findings, whole(data.simulate.created.length), "number");
  cell(findings, whole(data.simulate.resolved.length), "number");
  $("#scenario-form").hidden = false;
}

function pickedChanges() {
  const picked = [...view.picked.values()];
  if (picked.length < 2) throw new Error(t("pickTwo"));
  const id = `MN-${Date.now().toString(36).toUpperCase()}`;
  const parent = view.scope.cluster || (picked.find((e) => e.cluster) || {}).cluster?.id || null;
  return [
    { createOrganization: { id, name: `${picked[0].name}等联合党支部`, kind: "JOINT_BRANCH", parentId: parent, mode: "JOINT" } },
    { coverEnterprises: { orgId: id, creditCodes: picked.map((e) => e.creditCode) } },
  ];
}

async function planned() {
  const building = $("#plan-building").value.trim();
  if (!building || !view.scope.park) throw new Error(t("noBuilding"));
  const query = `query Plan($scope: ScopeInput) {
  planJointBranches(scope: $scope, proximity: BUILDING) { enterprisesCovered eligible branches { id } changes }
}`;
  const plan = (await ask("plan", query, { scope: { park: view.scope.park, building } })).planJointBranches;
  $("#plan-summary").textContent = t("planSummary", whole(plan.branches.length), whole(plan.enterprisesCovered), whole(plan.eligible));
  return plan.changes;
}

async function saveScenario(event) {
  event.preventDefault();
  const query = `mutation Save($name: String!, $changes: [ChangeInput!]!) { saveScenario(name: $name, changes: $changes) { name changeCount } }`;
  const saved = (await ask("saveScenario", query, { name: $("#scenario-name").value.trim(), changes: view.changes })).saveScenario;
  $("#scenario-status").textContent = t("saved", saved.name);
}

// -- exports: the API's spreadsheets of each list, with the tab's token ---------------------

async function download(name) {
  const parameters = new URLSearchParams(Object.entries(view.scope).filter(([, v]) => v));
  parameters.set("asOf", view.asOf);
  if (name === "bulletin") parameters.set("previous", $("#previous").value || shifted(view.asOf, { days: -10 }));
  const response = await fetch(`/exports/${name}.xlsx?${parameters}`, { headers: headers(false) });
  if (!response.ok) throw new ApiError((await response.json()).errors[0]);
  const named = /filename\*=UTF-8''([^;]+)/.exec(response.headers.get("content-disposition") || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = named ? decodeURIComponent(named[1]) : `${name}.xlsx`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// -- the page: who is asking, what they may see, the scope, the language --------------------

async function whoAsks() {
  const data = await ask("me", "{ me { name role scope } today rules { rule term thresholds { name value } } parks { name } chains }");
  view.me = data.me;
  view.today = data.today;
  view.ruleTerms = Object.fromEntries(data.rules.map((r) => [r.rule, language === "zh" ? r.term : r.rule]));
  const ending = data.rules.find((r) => r.rule === "TERM_ENDING");  // 换届提醒 looks as far ahead as the rule does
  view.termDays = ending.thresholds.find((s) => s.name === "within_days").value;
  $('[data-i18n="terms"]').textContent = t("terms", view.termDays);
  $("#who").textContent = `${data.me.name} · ${data.me.role} · ${data.me.scope}`;
  $("#what-if").hidden = !MAY_PLAN.has(data.me.role);
  fill($("#park"), data.parks.map((p) => [p.name, p.name]));
  fill($("#chain"), data.chains.map((c) => [c, c]));
  const tiers = await ask("tiers", `{ organizations(filter: {kinds: [CHAIN_COMMITTEE, CLUSTER]}, first: 500) { nodes { id name kind } } }`);
  const clusters = tiers.organizations.nodes.filter((o) => o.kind === "CLUSTER");
  fill($("#cluster"), clusters.map((o) => [o.id, o.name]));
  const roots = $("#chart-root");
  roots.replaceChildren(...tiers.organizations.nodes.map((o) => new Option(o.name, o.id)));
  if (!$("#as-of").value) $("#as-of").value = data.today;
}

function fill(select, options) {
  const chosen = select.value;
  select.replaceChildren(new Option(t("all"), ""), ...options.map(([value, label]) => new Option(label, value)));
  select.value = options.some(([value]) => value === chosen) ? chosen : "";
}

async function buildings() {
  const list = $("#buildings");
  if (!view.scope.park) { list.replaceChildren(); return; }
  const query = "query Buildings { parks { name buildings { name } } }";
  const data = await ask("buildings", query);
  const park = data.parks.find((p) => p.name === view.scope.park);
  list.replaceChildren(...(park ? park.buildings : []).slice(0, 500).map((b) => new Option(b.name)));
}

function readScope() {
  view.scope = {
    park: $("#park").value, chain: $("#chain").value, cluster: $("#cluster").value,
    building: $("#building").value.trim(), category: $("#category").value,
  };
  view.asOf = $("#as-of").value || view.today;
  const hash = new URLSearchParams(Object.entries(view.scope).filter(([, v]) => v));
  hash.set("asOf", view.asOf);
  history.replaceState(null, "", `#${hash}`);
}

function readHash() {
  const given = new URLSearchParams(location.hash.slice(1));
  for (const name of ["park", "chain", "cluster", "building", "category"]) {
    const value = given.get(name);
    if (value) {
      const field = document.getElementById(name);
      if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === value)) field.appendChild(new Option(value, value));
      field.value = value;
    }
  }
  if (given.get("asOf")) $("#as-of").value = given.get("asOf");
}

async function refresh() {
  $("#problem").hidden = true;
  readScope();
  view.drawn.clear();
  window.dashboardDrawnAt = null;
  view.pages = { findings: 0, terms: 0, stars: 0, uncovered: 0 };
  const cluster = view.scope.cluster;
  if (cluster) $("#chart-root").value = cluster;
  const panels = [headline(), byCluster(), byCategory(), trend(), kinds(), compliance(), terms(), stars(), alliances(), buildings()];
  if (!$("#what-if").hidden) panels.push(uncovered());
  const results = await Promise.allSettled(panels);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) show(failed.reason);
  window.dashboardSettledAt = performance.now();
  orgChart().catch(show);
}

function translate() {
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n, view.termDays);
  for (const element of document.querySelectorAll("[data-i18n-placeholder]")) element.placeholder = t(element.dataset.i18nPlaceholder);
  document.title = `${t("title")} · chainorg`;
  $("#language").textContent = language === "zh" ? "English" : "中文";
  const category = $("#category"), chosen = category.value;
  category.replaceChildren(new Option(t("all"), ""), ...Object.entries(CATEGORIES).map(([key, zh]) => new Option(language === "zh" ? zh : key, key)));
  category.value = chosen;
  if (document.body.dataset.explorer !== "true") for (const link of document.querySelectorAll("#explorer-link, .query-link")) link.hidden = true;
}

async function start() {
  window.dashboardDrawnAt = null;  // a new start (a token, a language): its charts are drawn anew
  window.dashboardSettledAt = null;
  window.dashboardChartFittedAt = null;
  chartAsked++;  // a chart still coming from the start before is not this start's
  translate();
  readHash();
  try {
    await whoAsks();
  } catch (error) {
    $("#who").textContent = error.message || t("signedOut");
    $("#dashboard").hidden = true;
    return;
  }
  $("#dashboard").hidden = false;
  readHash();
  await refresh();
}

$("#scope-form").addEventListener("submit", (event) => { event.preventDefault(); refresh().catch(show); });
$("#park").addEventListener("change", () => { $("#building").value = ""; });
$("#trend-months").addEventListener("change", () => trend().catch(show));
$("#stars-order").addEventListener("change", () => { view.pages.stars = 0; stars().catch(show); });
$("#bulletin-form").addEventListener("submit", (event) => { event.preventDefault(); bulletin().catch(show); });
$("#simulate-picked").addEventListener("click", () => { try { simulate(pickedChanges()).catch(show); } catch (error) { show(error); } });
$("#simulate-plan").addEventListener("click", () => planned().then(simulate).catch(show));
$("#scenario-form").addEventListener("submit", (event) => saveScenario(event).catch(show));
for (const link of document.querySelectorAll("[data-export]")) link.addEventListener("click", () => download(link.dataset.export).catch(show));
for (const link of document.querySelectorAll(".query-link")) link.target = "_blank";
$("#language").addEventListener("click", () => {
  language = language === "zh" ? "en" : "zh";
  localStorage.setItem(LANGUAGE_KEY, language);
  for (const drawn of Object.values(view.charts)) drawn.dispose();
  view.charts = {};
  start().catch(show);
});
$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = $("#token");
  const token = field.value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
  field.value = "";
  start().catch(show);
});
$("#token-forget").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); start().catch(show); });
window.addEventListener("resize", () => Object.values(view.charts).forEach((drawn) => drawn.resize()));
wireChart();
start().catch(show);
