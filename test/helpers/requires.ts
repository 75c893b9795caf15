/**
 * A suite that needs a tool (a browser, NumPy, root for network namespaces, the npm registry)
 * skips, with the reason printed, where a developer's machine lacks it; but CI's machines have
 * every one of them, and there a missing tool is a broken set-up, not a reason to skip: `.ci/run`
 * sets MNIST_LR_REQUIRE_TOOLS=1 and the suite fails instead, naming what to install.
 */

/**
 * Whether to skip a suite for want of a tool: `missing` is why it cannot run here (undefined when
 * it can). With MNIST_LR_REQUIRE_TOOLS=1 a missing tool throws, which fails the test file.
 */
export function skipFor(suite: string, missing: string | null | undefined): boolean {
  if (missing === undefined || missing === null) return false;
  if (process.env.MNIST_LR_REQUIRE_TOOLS === '1') {
    throw new Error(`${suite} needs what this machine lacks: ${missing}. CI machines have it: install it (see .ci/run), or unset MNIST_LR_REQUIRE_TOOLS to skip it here`);
  }
  console.log(`${suite} skipped: ${missing}`);
  return true;
}
