// Opens the GraphiQL the server bundles in headless Chromium and checks what a
// department head would see: the schema loads (no "Error fetching schema"),
// the docs pane lists the schema's types, and autocomplete offers fields.
//
//   apt-get install chromium; npm install playwright-core   (in a scratch folder)
//   KAOHE_URL=http://127.0.0.1:8080/graphql node scripts/graphiql-check.mjs
// Writes graphiql.png beside it and exits non-zero on any failed check.
import { chromium } from "playwright-core";

const url = process.env.KAOHE_URL ?? "http://127.0.0.1:8080/graphql";
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const failures = [];
try {
  const page = await browser.newPage();
  await page.goto(url, { waitUntil: "networkidle" });
  await page.waitForTimeout(1500);
  if ((await page.content()).includes("Error fetching schema")) failures.push("GraphiQL shows: Error fetching schema");
  await page.locator('button[aria-label*="Documentation"]').first().click();
  const docs = (await page.locator(".graphiql-doc-explorer").allInnerTexts()).join("\n");
  if (!docs.includes("ScoreRun")) failures.push("the docs pane does not list ScoreRun");
  await page.locator(".graphiql-query-editor .CodeMirror").first().click();
  await page.keyboard.press("Control+A");
  await page.keyboard.type("{ sco");
  await page.waitForTimeout(1000);
  const hints = await page.locator(".CodeMirror-hints li").allInnerTexts();
  if (!hints.includes("scoreRuns")) failures.push(`autocomplete offers ${JSON.stringify(hints)}`);
  await page.screenshot({ path: new URL("graphiql.png", import.meta.url).pathname });
} finally {
  await browser.close();
}
if (failures.length > 0) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("GraphiQL: schema loaded, docs pane lists the types, autocomplete offers fields");
