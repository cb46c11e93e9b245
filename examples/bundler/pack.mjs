// Packs the npm package the way it is published (`npm pack`) and installs the tarball into a
// directory, offline — what the bundler example, the demo and the package tests start from.
//
// The dist folder is the repository's dist/, or FULLDUPLEX_DIST: a build kept elsewhere is packed
// from a staged copy of the package.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The dist folder to pack: FULLDUPLEX_DIST or <repo>/dist. */
export function distDir() {
  return resolve(process.env.FULLDUPLEX_DIST ?? join(ROOT, "dist"));
}

/**
 * Runs `npm pack`; returns the tarball's absolute path (written into `outDir`). With the
 * repository's own dist/ it packs the repository itself (so package.json's "files" choose from
 * everything there is); with another dist folder it packs a staged copy of package.json,
 * README.md, LICENSE and that folder.
 */
export function pack(outDir, dist = distDir()) {
  if (!existsSync(join(dist, "index.js"))) {
    throw new Error(`no built package in ${dist} (run: bash scripts/build.sh)`);
  }
  mkdirSync(outDir, { recursive: true });
  const own = resolve(dist) === resolve(ROOT, "dist");
  const stage = own ? ROOT : mkdtempSync(join(tmpdir(), "fullduplex-stage-"));
  try {
    if (!own) {
      for (const f of ["package.json", "README.md", "LICENSE"]) {
        cpSync(join(ROOT, f), join(stage, f));
      }
      cpSync(dist, join(stage, "dist"), { recursive: true });
    }
    const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", resolve(outDir)], {
      cwd: stage,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return join(resolve(outDir), out.trim().split("\n").pop());
  } finally {
    if (!own) rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * Installs `tarball` into `dir` (created, with a minimal package.json if it has none) with
 * npm, offline: the package has no dependencies, so nothing is fetched.
 */
export function install(tarball, dir) {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, "package.json"))) {
    writeFileSync(join(dir, "package.json"), '{ "private": true, "type": "module" }\n');
  }
  execFileSync(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock", "--ignore-scripts", "--silent", tarball],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
}
