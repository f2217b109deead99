import { fileURLToPath } from "node:url";

/** The repository root (tests run from dist/test/...). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
/** The compiled `cluster-token` bin, as npm installs it. */
export const cliPath = fileURLToPath(new URL("../../src/cli/bin.cjs", import.meta.url));
/** The buf CLI installed by @bufbuild/buf. */
export const bufPath = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));
