// Starts GraphiQL from the bundled scripts; the page loads nothing from outside this server.
// A token pasted in the bar above is kept for this browser tab only (sessionStorage) and sent
// as `Authorization: Bearer TOKEN` with every request; the bar shows whose it is.
const defaultQuery = `# Coverage of the whole park, then per cluster (党群联组).
{
  coverage(scope: { park: "长沙高新区" }) {
    enterprises
    organizationCovered
    workCovered
    organizationRate
    workRate
    formalMembers
    organizations
  }
  coverageBy(by: CLUSTER) {
    key
    label
    coverage { enterprises organizationCovered organizationRate organizations }
  }
}
`;
const TOKEN_KEY = "chainorg-token";
const url = window.location.pathname;
// The dashboard links each figure here as /graphql#query=…&variables=… (in the fragment: a GET
// with a `query` parameter would run it): open with those filled in.
const linked = new URLSearchParams(window.location.hash.slice(1));
const linkedQuery = linked.get("query");
const linkedVariables = linked.get("variables");

function headers() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const given = { "Content-Type": "application/json", Accept: "application/json" };
  return token ? { ...given, Authorization: `Bearer ${token}` } : given;
}

async function fetcher(params) {
  const response = await fetch(url, { method: "POST", headers: headers(), body: JSON.stringify(params) });
  return response.json();
}

async function showWho() {
  const status = document.getElementById("token-status");
  try {
    const answer = await fetcher({ query: "{ me { name role scope may } }" });
    if (answer.data && answer.data.me) {
      const me = answer.data.me;
      status.textContent = `${me.name} · ${me.role} · ${me.scope} — may ${me.may.join("; ")}`;
    } else {
      status.textContent = (answer.errors && answer.errors[0].message) || "not signed in";
    }
  } catch (error) {
    status.textContent = String(error);
  }
}

const root = ReactDOM.createRoot(document.getElementById("graphiql"));
let generation = 0;
function render() {
  generation += 1;  // a new token: GraphiQL asks for the schema (and its role notes) again
  const given = linkedQuery ? { query: linkedQuery, variables: linkedVariables || undefined } : {};
  root.render(React.createElement(GraphiQL, { key: generation, fetcher, defaultQuery, ...given }));
  showWho();
}

document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = document.getElementById("token");
  const token = field.value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
  field.value = "";
  render();
});
document.getElementById("token-forget").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  render();
});
render();
