// Starts GraphiQL from the bundled scripts; the page loads nothing from outside this server.
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
const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, { fetcher, defaultQuery })
);
