import assert from "node:assert/strict";
import * as path from "node:path";
import { git, prj, prjCommandLine, tempDir, tempRepo, tempTmux, tmux, waitFor, writeCommand } from "./helpers.ts";

Deno.test("the argument parser's complaints are one error line and a hint, exit 2", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const cases: [string[], string][] = [
    [["run"], "error: missing argument <command>\nhint: see `prj run --help`\n"],
    [
      ["run", "--dry-rn", "example"],
      "error: unknown flag --dry-rn; did you mean --dry-run?\nhint: see `prj run --help`\n",
    ],
    [
      ["worktree", "crate", "x"],
      'error: unknown command "crate"; did you mean "create"?\nhint: see `prj worktree --help`\n',
    ],
    [["logs"], "error: missing argument <run-id>\nhint: see `prj logs --help`\n"],
    [["show", "a", "b"], 'error: unexpected argument "b" (it takes 1)\nhint: see `prj show --help`\n'],
    [
      ["history", "--status", "done"],
      'error: --status: "done" is not one of running, succeeded, failed, cancelled, timed_out, interrupted\n' +
      "hint: see `prj history --help`\n",
    ],
    [
      ["completions", "tcsh"],
      'error: <shell>: expected bash, zsh or fish, found "tcsh"\nhint: see `prj completions --help`\n',
    ],
    [
      ["worktree", "create", "x", "--no-no-copy"],
      "error: unknown flag --no-no-copy; did you mean --no-copy?\nhint: see `prj worktree create --help`\n",
    ],
  ];
  for (const [args, stderr] of cases) {
    const r = await prj(repo, args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr, stderr, args.join(" "));
    assert.equal(r.stdout, "");
  }
  const help = await prj(repo, ["worktree", "create", "--help"]);
  assert.match(help.stdout, /\[--no-copy\]/);
  assert.doesNotMatch(help.stdout, /no-no-copy/);
});

Deno.test("a usage mistake found past the parser is one error line and a hint too: its own, else the help", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const cases: [string[], string][] = [
    [
      ["cleanup", "--older-than", "5x"],
      'error: --older-than: expected a duration like 30s, 5m, 12h, 30d or 2w, found "5x"\n' +
      "hint: write a number and one unit: ms, s, m, h, d or w\n",
    ],
    [
      ["cost", "--since", "soon"],
      'error: --since: expected a duration (7d, 12h), a day (2026-11-01) or today, found "soon"\n' +
      "hint: a duration is a number and one unit: m, h, d or w\n",
    ],
    [["task", "show", "abc"], 'error: Task id must be a number, found "abc"\nhint: see `prj task show --help`\n'],
    [
      ["cleanup", "--older-than", "99999999999d", "--dry-run"],
      'error: --older-than: "99999999999d" is longer than a thousand years\nhint: give a shorter duration\n',
    ],
    [
      ["cost", "--since", "99999999999d"],
      'error: --since: "99999999999d" reaches back before the year 1\nhint: give a shorter duration\n',
    ],
    [
      ["history", "--limit", "99999999999999999999"],
      'error: --limit: expected a positive whole number, found "99999999999999999999"\nhint: see `prj history --help`\n',
    ],
  ];
  for (const [args, stderr] of cases) {
    const r = await prj(repo, args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr, stderr, args.join(" "));
  }
  // Two runs whose ids share a prefix: the ambiguous prefix says where the ids are.
  await prj(repo, ["run", "example"]);
  await prj(repo, ["run", "example"]);
  const r = await prj(repo, ["logs", "2"]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^error: Run id prefix "2" matches 2 runs; give more characters\nhint: see `prj history` for run ids\n$/,
  );
});

Deno.test("a file where prj needs a folder (or a link to nowhere) is one line and a hint, not a stack", async () => {
  await using dir = await tempDir();
  await git(dir.path, "init", "-q");
  await Deno.writeTextFile(path.join(dir.path, ".prj"), "");
  let r = await prj(dir.path, ["init"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: a path prj needs as a folder is a file: Not a directory \(os error 20\): mkdir '.*\.prj\/commands'\nhint: move that file out of the way/,
  );
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  await Deno.remove(path.join(dir.path, ".prj"));
  await Deno.mkdir(path.join(dir.path, ".prj"));
  await Deno.symlink("/nonexistent-prj-target", path.join(dir.path, ".prj", "commands"));
  r = await prj(dir.path, ["init"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: a path prj had to create is already there \(a file, or a link to nowhere\)/);
});

Deno.test("a dry run shows the timeout each step will have: its own, else step_timeout", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "timed",
    "steps:\n  - { name: own, run: [echo, a], timeout: 5 }\n  - { name: default, run: [echo, b] }\n",
  );
  const r = await prj(repo, ["run", "timed", "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1\. own\s+program: echo a\s+cwd \S+\s+timeout 5s/);
  assert.match(r.stdout, /2\. default\s+program: echo b\s+cwd \S+\s+timeout 600s/);
});

Deno.test("a refusal without a terminal exits 2; answering no at the prompt exits 1", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const created = await prj(repo, ["worktree", "create", "gone", "--json"]);
  await Deno.remove(JSON.parse(created.stdout).path, { recursive: true });
  let r = await prj(repo, ["worktree", "prune"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: refusing without confirmation: no terminal to ask on; pass --yes$/m);

  await using server = tempTmux();
  await tmux(server.socket, "new-session", "-d", "-s", "ask", "-x", "150", "-y", "20", "-c", repo);
  await tmux(server.socket, "send-keys", "-t", "ask", `${prjCommandLine("worktree", "prune")}; echo EXIT=$?`, "Enter");
  const screen = async () => (await tmux(server.socket, "capture-pane", "-p", "-t", "ask")).stdout;
  await waitFor(
    async () => /Remove|Prune|\?/.test(await screen()) && /gone/.test(await screen()),
    30_000,
    "the question",
  );
  await tmux(server.socket, "send-keys", "-t", "ask", "n", "Enter");
  await waitFor(async () => /EXIT=\d+/.test(await screen()), 30_000, "prj to end");
  assert.match(await screen(), /EXIT=1/);
  r = await prj(repo, ["worktree", "list", "--json"]);
  assert.equal(JSON.parse(r.stdout).length, 1, "nothing was pruned");
});

Deno.test("outside a terminal session attach is one line; outside git worktree commands are one line", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  assert.equal((await prj(repo, ["worktree", "create", "red", "--session"], { env: server.env })).code, 0);
  let r = await prj(repo, ["session", "attach", "repo-red"], { env: server.env });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    'error: Cannot attach to session "repo-red" here: this is not a terminal\n' +
      `hint: run it in a terminal, or attach later with \`tmux -L ${server.socket} attach -t repo-red\`\n`,
  );
  assert.doesNotMatch(r.stderr, /open terminal failed/);

  await using dir = await tempDir();
  assert.equal((await prj(dir.path, ["init"])).code, 0);
  for (const args of [["worktree", "list"], ["worktree", "create", "x"]]) {
    r = await prj(dir.path, args);
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(
      r.stderr,
      `error: "${await Deno.realPath(
        dir.path,
      )}" is not a git repository (it has no .git); worktrees, sessions and agents need one\n` +
        "hint: run prj from your repository, or `git init` and make a first commit here\n",
    );
  }
});

Deno.test("cleanup steps are numbered among themselves, never past the total", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "boom",
    [
      "steps:",
      "  - { name: one, run: [echo, one] }",
      "  - { name: two, run: [sh, -c, 'exit 3'] }",
      "  - { name: three, run: [echo, three] }",
      "cleanup_on_failure:",
      "  - { name: tidy, run: [echo, tidy] }",
      "  - { name: tidy-more, run: [echo, more] }",
    ].join("\n") + "\n",
  );
  const r = await prj(repo, ["run", "boom"]);
  assert.equal(r.code, 1);
  const lines = r.stdout.split("\n").filter((l) => /^\[/.test(l));
  assert.deepEqual(lines, [
    "[1/3] one started",
    "[1/3] one succeeded " + lines[1]!.slice("[1/3] one succeeded ".length),
    "[2/3] two started",
    lines[3],
    "[cleanup 1/2] tidy started",
    lines[5],
    "[cleanup 2/2] tidy-more started",
    lines[7],
  ]);
  assert.match(lines[3]!, /^\[2\/3\] two failed \(\S+\): sh exited with code 3$/);
  assert.match(lines[5]!, /^\[cleanup 1\/2\] tidy succeeded/);
  assert.match(lines[7]!, /^\[cleanup 2\/2\] tidy-more succeeded/);
});

Deno.test("worktree merge names the main checkout's changed files whole (README.md, not EADME.md)", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const wt = JSON.parse((await prj(repo, ["worktree", "create", "blue", "--json"])).stdout).path as string;
  await Deno.writeTextFile(path.join(wt, "blue.txt"), "blue\n");
  await git(wt, "add", "blue.txt");
  await git(wt, "commit", "-q", "-m", "blue");
  // An unstaged change: git status --porcelain starts the line with a space (" M README.md").
  await Deno.writeTextFile(path.join(repo, "README.md"), "# changed here\n");
  const r = await prj(repo, ["worktree", "merge", "blue"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: The main worktree has uncommitted changes: README\.md$/m);
});

Deno.test("completions offer the project's commands, worktree names and session names", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await using server = tempTmux();
  for (const name of ["red", "green"]) {
    assert.equal((await prj(repo, ["worktree", "create", name, "--session"], { env: server.env })).code, 0);
  }
  const complete = async (...words: string[]) =>
    (await prj(repo, ["__complete", ...words], { env: server.env })).stdout.split("\n").filter(Boolean);
  assert.deepEqual((await complete("worktree", "remove", "")).filter((w) => !w.startsWith("-")), ["green", "red"]);
  assert.deepEqual(await complete("worktree", "diff", "r"), ["red"]);
  assert.deepEqual(await complete("agent", "resume", "g"), ["green"]);
  assert.deepEqual((await complete("session", "attach", "")).filter((w) => !w.startsWith("-")), [
    "repo-green",
    "repo-red",
  ]);
  assert.deepEqual(await complete("session", "kill", "repo-g"), ["repo-green"]);
  assert.deepEqual(await complete("run", "feat"), ["feature-branch"]);
});

Deno.test("output piped into a reader that stops early (| head -1) ends quietly; the run still finishes", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "chatty",
    "steps:\n  - { name: many, run: [seq, '1', '20000'] }\n  - { name: after, run: [echo, done] }\n",
  );
  const out = await new Deno.Command("bash", {
    args: ["-c", `set -o pipefail; ${prjCommandLine("run", "chatty")} 2>"$PWD/err.txt" | head -1`],
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout), "chatty run " + new TextDecoder().decode(out.stdout).slice(11));
  assert.equal(out.code, 0);
  assert.equal(await Deno.readTextFile(path.join(repo, "err.txt")), "");
  const history = JSON.parse((await prj(repo, ["history", "--json"])).stdout);
  assert.equal(history[0].status, "succeeded");
  assert.deepEqual(history[0].steps.map((s: { name: string }) => s.name), ["many", "after"]);
});
