/**
 * Bad state files, a locked database and a full disk: each is one line naming the file, what
 * is wrong and what to do (exit 1 or 2, never a stack trace, never a hang), nothing is left
 * half-written, and prj works again once the file is fixed as the line says.
 */
import * as path from "node:path";
import assert from "node:assert/strict";
import { GIT_ENV, prj, prjArgv, query, type Result, tempDir, tempRepo, writeCommand } from "./helpers.ts";
import { exists } from "../lib/util/fs.ts";

/**
 * Runs prj with a deadline (a hang fails the test instead of stalling it). As root, file
 * permissions do not stop reads, so prj then runs without the capabilities that bypass them.
 */
async function prjFor(
  cwd: string,
  args: string[],
  options: { env?: Record<string, string>; asUser?: boolean; ms?: number } = {},
): Promise<Result & { ms: number }> {
  const dropRoot = options.asUser && Deno.uid() === 0
    ? ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]
    : [];
  const [cmd, ...rest] = [...dropRoot, ...prjArgv()];
  const child = new Deno.Command(cmd!, {
    args: [...rest, ...args],
    cwd,
    env: { NO_COLOR: "1", ...GIT_ENV, ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const t0 = performance.now();
  const timer = setTimeout(() => child.kill("SIGKILL"), options.ms ?? 20_000);
  const out = await child.output();
  clearTimeout(timer);
  const ms = performance.now() - t0;
  assert.ok(out.signal === null, `prj ${args.join(" ")} hung (killed after ${Math.round(ms)}ms)`);
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    ms,
  };
}

/** One error line (and at most a hint), naming `file`; no stack trace. */
function assertOneLine(r: Result, file: string, pattern: RegExp): void {
  assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  const errors = lines.filter((l) => l.startsWith("error: "));
  assert.equal(errors.length, 1, r.stderr);
  assert.ok(errors[0]!.includes(file), `the line names ${file}: ${errors[0]}`);
  assert.match(errors[0]!, pattern);
  assert.ok(lines.every((l) => l.startsWith("error: ") || l.startsWith("hint: ")), `only error and hint: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at |Uncaught|Stack backtrace/m);
}

Deno.test("a bad .prj/state.db: not a database, truncated, a folder, a FIFO, unreadable, of a newer schema", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const db = path.join(repo, ".prj", "state.db");
  assert.equal((await prj(repo, ["run", "code-review", "--dry-run"])).code, 0);
  await writeCommand(repo, "hello", "steps:\n  - { name: hi, run: [echo, hi] }\n");
  for (let i = 0; i < 3; i++) assert.equal((await prj(repo, ["run", "hello"])).code, 0);
  const good = await Deno.readFile(db);
  assert.ok(good.length > 16384, "a database of several pages");
  const reset = async () => {
    for (const f of [db, `${db}-wal`, `${db}-shm`]) await Deno.remove(f, { recursive: true }).catch(() => {});
  };
  const aside = /move it aside \(`mv \S+state\.db \S+state\.db\.broken`\) and prj starts a new, empty one/;
  const cases: [string, () => Promise<void>, RegExp, boolean?][] = [
    [
      "not a database",
      () => Deno.writeTextFile(db, "hello, this is not SQLite\n".repeat(200)),
      /is not a SQLite database; /,
    ],
    ["a few bytes", () => Deno.writeTextFile(db, "x\n"), /is not a SQLite database \(truncated\?\); /],
    [
      "truncated",
      () => Deno.writeFile(db, good.subarray(0, 8192)),
      /is truncated \(8192 bytes of the \d+ its header names\); /,
    ],
    ["a folder", () => Deno.mkdir(db), /is a folder, not prj's database; /],
    [
      "a FIFO",
      async () => void await new Deno.Command("mkfifo", { args: [db] }).output(),
      /is a FIFO \(named pipe\), not prj's database; /,
    ],
  ];
  for (const [what, make, pattern] of cases) {
    await reset();
    await make();
    for (const args of [["history"], ["run", "hello"], ["worktree", "list"]]) {
      const r = await prjFor(repo, args);
      assertOneLine(r, db, pattern);
      assert.match(r.stderr, aside, what);
    }
  }
  // A damaged page the header cannot tell: SQLite finds it when it reads there; still one line.
  await reset();
  const damaged = new Uint8Array(good);
  damaged.fill(0xee, 4096, 4096 * 3);
  await Deno.writeFile(db, damaged);
  const r = await prjFor(repo, ["history", "--limit", "100"]);
  assertOneLine(r, db, /is damaged \((database disk image is malformed|file is not a database)\); move it aside/);

  // Unreadable (as root too: prj runs without the capabilities that ignore file modes).
  await reset();
  await Deno.writeFile(db, good);
  await Deno.chmod(db, 0o000);
  const unreadable = await prjFor(repo, ["history"], { asUser: true });
  assertOneLine(
    unreadable,
    db,
    /cannot be read \(permission denied\); give prj's user read and write access: chmod u\+rw /,
  );
  await Deno.chmod(db, 0o644);

  // Written by a newer prj.
  const { DatabaseSync } = await import("node:sqlite");
  const handle = new DatabaseSync(db);
  handle.exec("PRAGMA user_version = 99");
  handle.close();
  const newer = await prjFor(repo, ["status"]);
  assertOneLine(
    newer,
    db,
    /was written by a newer prj \(schema version 99; this prj knows up to \d+\); upgrade prj, or move/,
  );
  assert.equal(new DatabaseSync(db, { readOnly: true }).prepare("PRAGMA user_version").get()?.user_version, 99);

  // Doing what the line says works; prj doctor reports the same line and exits 1 meanwhile.
  const doctor = await prjFor(repo, ["doctor", "--json"]);
  assert.equal(doctor.code, 1);
  const report = JSON.parse(doctor.stdout) as { checks: { check: string; status: string; message: string }[] };
  assert.match(report.checks.find((c) => c.check === "database")!.message, /was written by a newer prj/);
  await Deno.rename(db, `${db}.newer`);
  await Deno.remove(`${db}-wal`).catch(() => {});
  await Deno.remove(`${db}-shm`).catch(() => {});
  assert.equal((await prj(repo, ["run", "hello"])).code, 0);
});

Deno.test("a bad .prj/config.yaml (a folder, a FIFO, a device) and bad command files are one line; nothing hangs", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const config = path.join(repo, ".prj", "config.yaml");
  await Deno.remove(config);
  const configCases: [string, () => Promise<unknown>, RegExp][] = [
    ["a folder", () => Deno.mkdir(config), /is a folder, not a YAML file; remove it or put a YAML file there$/],
    [
      "a FIFO",
      () => new Deno.Command("mkfifo", { args: [config] }).output(),
      /is a FIFO \(named pipe\), not a YAML file; remove it/,
    ],
    ["a device", () => Deno.symlink("/dev/zero", config), /is a device, not a YAML file; remove it/],
    [
      "a link to nothing",
      () => Deno.symlink(path.join(repo, "nowhere.yaml"), config),
      /is a symbolic link to ".*nowhere\.yaml", which does not exist; fix or remove the link$/,
    ],
  ];
  for (const [what, make, pattern] of configCases) {
    await Deno.remove(config, { recursive: true }).catch(() => {});
    await make();
    for (const args of [["list"], ["run", "code-review"], ["worktree", "list"], ["doctor"]]) {
      const r = await prjFor(repo, args, { ms: 15_000 });
      if (args[0] === "doctor") {
        assert.equal(r.code, 1, what);
        assert.match(r.stdout, /error\s+config\s+\.prj\/config\.yaml: /);
        continue;
      }
      assertOneLine(r, ".prj/config.yaml", pattern);
    }
  }
  await Deno.remove(config, { recursive: true });

  const commands = path.join(repo, ".prj", "commands");
  const file = (name: string) => path.join(commands, `${name}.yaml`);
  await Deno.symlink(file("elsewhere-missing"), file("dangling"));
  await Deno.symlink(file("loop"), file("loop"));
  await Deno.writeTextFile(file("secret"), "steps:\n  - { name: hi, run: [echo, hi] }\n");
  await Deno.chmod(file("secret"), 0o000);
  await Deno.writeTextFile(path.join(repo, "shared.yaml"), "steps:\n  - { name: hi, run: [echo, shared] }\n");
  await Deno.symlink(path.join(repo, "shared.yaml"), file("shared"));
  let r = await prjFor(repo, ["run", "dangling"]);
  assertOneLine(
    r,
    ".prj/commands/dangling.yaml",
    /is a symbolic link to ".*elsewhere-missing\.yaml", which does not exist/,
  );
  r = await prjFor(repo, ["run", "loop"]);
  assertOneLine(r, ".prj/commands/loop.yaml", /is a symbolic link that leads back to itself/);
  r = await prjFor(repo, ["run", "secret"], { asUser: true });
  assertOneLine(r, ".prj/commands/secret.yaml", /cannot be read \(permission denied\); give prj's user read access/);
  // A command that is a link to a good file works; `prj list` names each bad one and goes on.
  r = await prjFor(repo, ["run", "shared"]);
  assert.equal(r.code, 0, r.stderr);
  r = await prjFor(repo, ["list"], { asUser: true });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /dangling\s+invalid\s+.*which does not exist/);
  assert.match(r.stdout, /loop\s+invalid\s+.*leads back to itself/);
  assert.match(r.stdout, /secret\s+invalid\s+.*permission denied/);
  await Deno.chmod(file("secret"), 0o644);
});

Deno.test("a locked database: prj waits PRJ_DB_WAIT seconds, then fails with one line and leaves nothing half-written", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(repo, "hello", "steps:\n  - { name: hi, run: [echo, hi] }\n");
  assert.equal((await prj(repo, ["run", "hello"])).code, 0);
  const db = path.join(repo, ".prj", "state.db");
  const artifacts = path.join(repo, ".prj", "artifacts");
  const folders = () => [...Deno.readDirSync(artifacts)].map((e) => e.name).sort();
  const before = folders();
  const { DatabaseSync } = await import("node:sqlite");
  const holder = new DatabaseSync(db);
  holder.exec("BEGIN IMMEDIATE"); // another process's write transaction, held
  try {
    const r = await prjFor(repo, ["run", "hello"], { env: { PRJ_DB_WAIT: "2" } });
    assertOneLine(
      r,
      db,
      /is locked by another process \(prj waited 2 s\); nothing was changed: run the command again when the other one is done$/,
    );
    assert.ok(r.ms >= 1900, `it waited (${Math.round(r.ms)}ms)`);
    assert.ok(r.ms < 12_000, `and then gave up (${Math.round(r.ms)}ms)`);
    assert.deepEqual(folders(), before, "no artifacts folder without a run row");
    const journal = path.join(repo, ".prj", "journal");
    assert.deepEqual(exists(journal) ? [...Deno.readDirSync(journal)] : [], [], "no journal entry left");
    // Reading is not blocked by a writer.
    const history = await prjFor(repo, ["history", "--json"], { env: { PRJ_DB_WAIT: "2" } });
    assert.equal(history.code, 0, history.stderr);
    assert.equal(JSON.parse(history.stdout).length, 1);
  } finally {
    holder.exec("ROLLBACK");
    holder.close();
  }
  const r = await prj(repo, ["run", "hello"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await query(repo, "SELECT id FROM runs")).length, 2);
});

/** Mounts a small tmpfs (root only); undefined where the machine does not allow it. */
async function smallDisk(dir: string, size: string): Promise<(() => Promise<void>) | undefined> {
  if (Deno.uid() !== 0) return undefined;
  const out = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir] }).output()
    .catch(() => undefined);
  if (!out?.success) return undefined;
  return async () => void await new Deno.Command("umount", { args: ["-l", dir] }).output();
}

async function gitIn(cwd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("git", {
    args: ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args],
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

Deno.test("a full disk: the step fails with one line, what can be recorded is, and the next command works", async () => {
  await using temp = await tempDir();
  const mount = path.join(temp.path, "disk");
  await Deno.mkdir(mount);
  const unmount = await smallDisk(mount, "4m");
  const repo = path.join(mount, "repo");
  const fill = path.join(repo, "fill.bin");
  try {
    await Deno.mkdir(repo);
    await gitIn(repo, "init", "-q", "-b", "main");
    await Deno.writeTextFile(path.join(repo, "README.md"), "# r\n");
    await gitIn(repo, "add", "-A");
    await gitIn(repo, "commit", "-q", "-m", "initial");
    assert.equal((await prj(repo, ["init"])).code, 0);
    await writeCommand(
      repo,
      "fill",
      [
        "steps:",
        "  - { name: before, run: [echo, before] }",
        // With a small disk, the disk itself; elsewhere the step's own writes go to /dev/full.
        unmount
          ? `  - { name: fill, run: [sh, -c, "echo filling; cat /dev/zero > ${fill}; echo full >&2; exit 0"] }`
          : "  - { name: fill, run: [sh, -c, 'echo filling; echo more > /dev/full'] }",
        "  - { name: after, run: [echo, after] }",
      ].join("\n"),
    );
    await writeCommand(repo, "hello", "steps:\n  - { name: hi, run: [echo, hi] }\n");
    assert.equal((await prj(repo, ["run", "hello"])).code, 0);
    const r = await prjFor(repo, ["run", "fill"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /Uncaught|^\s+at |Stack backtrace|cannot rollback/m);
    const end = r.stdout.trim().split("\n").find((l) => l.startsWith("failed in"));
    assert.ok(end, r.stdout);
    console.log(`  ${unmount ? "a 4 MB tmpfs" : "/dev/full"}: ${end}`);
    if (unmount) {
      assert.match(end!, /failed in .*: could not write .*: .*(disk is full|No space left on device|disk I\/O error)/);
      // The disk is still full: reading commands work.
      const history = await prjFor(repo, ["history", "--json"]);
      assert.equal(history.code, 0, history.stderr);
      assert.doesNotMatch(history.stderr, /cannot rollback/);
      assert.equal(JSON.parse(history.stdout).length, 2);
      await Deno.remove(fill);
    } else {
      assert.match(end!, /failed in .*: sh exited with code/);
    }
    // With space again: the run's record is complete and run.json agrees with the database.
    const after = await prjFor(repo, ["history", "--json"]);
    assert.equal(after.code, 0, after.stderr);
    const [run] = JSON.parse(after.stdout) as { id: string; status: string; artifact_dir: string }[];
    assert.ok(run!.status === "failed" || run!.status === "interrupted", run!.status);
    const json = JSON.parse(await Deno.readTextFile(path.join(run!.artifact_dir, "run.json")));
    assert.equal(json.status, run!.status);
    const steps = await query<{ status: string }>(repo, "SELECT status FROM steps WHERE run_id = ?", run!.id);
    assert.ok(steps.every((s) => s.status !== "running"), JSON.stringify(steps));
    assert.deepEqual([...Deno.readDirSync(path.join(repo, ".prj", "journal"))], []);
    const again = await prjFor(repo, ["run", "hello"]);
    assert.equal(again.code, 0, again.stderr);
  } finally {
    await unmount?.();
  }
});

Deno.test("a step whose log cannot be written (ENOSPC) fails with one line; the run goes on to record the rest", async () => {
  // Independent of the machine: the step's log file is a link to /dev/full, which always says the disk is full.
  const { initProject, loadCommand, openProject, runCommand } = await import("../mod.ts");
  await using temp = await tempDir();
  await initProject(temp.path);
  await writeCommand(
    temp.path,
    "logs",
    "steps:\n  - { name: one, run: [echo, one] }\n  - { name: two, run: [echo, two] }\n  - { name: three, run: [echo, three] }\n",
  );
  const project = await openProject(temp.path);
  const runId = "20260101-000000-full";
  const logs = path.join(project.prjDir, "artifacts", runId, "logs");
  await Deno.mkdir(logs, { recursive: true });
  await Deno.symlink("/dev/full", path.join(logs, "02-two.log"));
  const notices: string[] = [];
  const result = await runCommand(project, await loadCommand(project, "logs"), {
    args: {},
    runId,
    onEvent: (e) => e.type === "notice" && notices.push(e.message),
  });
  assert.equal(result.status, "failed");
  assert.deepEqual(result.steps.map((s) => `${s.name} ${s.status}`), ["one succeeded", "two failed"]);
  assert.match(
    result.steps[1]!.error!,
    /^could not write logs\/02-two\.log: the disk is full: No space left on device \(os error 28\)/,
  );
  assert.equal(result.error, result.steps[1]!.error);
  assert.deepEqual(notices, [result.error]);
  const rows = await query<{ name: string; status: string }>(
    temp.path,
    "SELECT name, status FROM steps WHERE run_id = ? ORDER BY idx",
    runId,
  );
  assert.deepEqual(rows.map((s) => `${s.name} ${s.status}`), ["one succeeded", "two failed", "three skipped"]);
  const json = JSON.parse(await Deno.readTextFile(path.join(project.prjDir, "artifacts", runId, "run.json")));
  assert.equal(json.status, "failed");
  // The database took everything: nothing is left for the next command to finish.
  assert.deepEqual([...Deno.readDirSync(path.join(project.prjDir, "journal"))], []);
});
