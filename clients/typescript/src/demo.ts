// Runs the typical operations against a live server:
//   KAOHE_URL=http://127.0.0.1:8080/graphql KAOHE_USERNAME=xc-yuejiangping KAOHE_PASSWORD=… npm run demo
// Exits non-zero if any answer is not what the contract says.
import { Kaohe, KaoheError } from "./client.js";
import { MonthlyRanking, ResultsPage, ScoreRuns, SignIn } from "./operations.js";

function need(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`set ${name}`);
  return v;
}

async function main(): Promise<void> {
  const api = new Kaohe(need("KAOHE_URL"));
  const session = await api.request(SignIn, { username: need("KAOHE_USERNAME"), password: need("KAOHE_PASSWORD") });
  api.signedIn(session.login.accessToken);

  const org = process.env.KAOHE_ORGANISATION ?? "xuchang";
  const runs = await api.request(ScoreRuns, { organisationCode: org, first: 10 });
  const published = runs.scoreRuns.edges.map((e) => e.node).find((r) => r.status === "PUBLISHED");
  if (published === undefined) throw new Error(`no published run in ${org}`);

  // Every page of the results, by cursor.
  let after: string | null = null;
  let seen = 0;
  for (;;) {
    const page: Awaited<ReturnType<typeof pageOf>> = await pageOf(api, published.id, after);
    const results = page.scoreRun?.results;
    if (results === undefined) throw new Error("the run went away");
    seen += results.edges.length;
    if (!results.pageInfo.hasNextPage) {
      if (seen !== results.totalCount) throw new Error(`paged ${seen} of ${results.totalCount}`);
      break;
    }
    after = results.pageInfo.endCursor ?? null;
  }

  const ranking = await api.request(MonthlyRanking, { organisationCode: org, period: published.period });
  const top = ranking.monthlyRanking[0];
  if (top === undefined) throw new Error("an empty ranking");
  // Decimals are exact strings: compare them as such, never as floats.
  console.log(`${published.period}: ${seen} units; first ${top.unitName} ${top.finalScore}`);

  // Nothing newer than the publication itself.
  const since = await api.request(MonthlyRanking, {
    organisationCode: org,
    period: published.period,
    updatedSince: top.publishedAt ?? null,
  });
  if (since.monthlyRanking.length !== 0) throw new Error("updatedSince returned rows already pulled");

  // A hidden or missing run is NOT_FOUND, with its code.
  try {
    await api.request(ResultsPage, { runId: "U2NvcmVSdW46OTk5OTk5OTk", first: 1 });
    throw new Error("a missing run answered");
  } catch (e) {
    if (!(e instanceof KaoheError) || e.code !== "NOT_FOUND") throw e;
  }
}

function pageOf(api: Kaohe, runId: string, after: string | null) {
  return api.request(ResultsPage, { runId, first: 2, after });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
