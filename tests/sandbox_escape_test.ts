/**
 * The escape corpus: one test per way a sandboxed step could act outside its grant, each
 * written as the attack and required to fail (the file outside stays unread, the hook is not
 * written, no command ran, no request reached the local registry, the lock file is
 * unchanged), followed by the same thing with the grant that legitimately allows it.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import {
  exists,
  git,
  prj,
  prjCommandLine,
  setConfig,
  tempDir,
  tempRepo,
  tempTmux,
  tmux,
  waitFor,
  writeCommand,
  writeStep,
} from "./helpers.ts";
import { AGENT } from "./helpers.ts";

interface RunJson {
  status: string;
  runId: string;
  artifactDir: string;
  steps: { name: string; status: string; output?: string; error?: string; data?: unknown }[];
  shared: Record<string, unknown>;
}

async function run(repo: string, name: string, yaml: string, env: Record<string, string> = {}) {
  await writeCommand(repo, name, yaml);
  const r = await prj(repo, ["run", name, "--json"], { env });
  return { ...r, json: (r.stdout ? JSON.parse(r.stdout) : undefined) as RunJson };
}

async function commitSymlink(repo: string, link: string, target: string, branch?: string): Promise<void> {
  if (branch) await git(repo, "checkout", "-q", "-b", branch);
  await Deno.mkdir(path.dirname(path.join(repo, link)), { recursive: true });
  await Deno.symlink(target, path.join(repo, link));
  await git(repo, "add", link);
  await git(repo, "commit", "-q", "-m", `link ${link}`);
  if (branch) await git(repo, "checkout", "-q", "main");
}

Deno.test("a committed symlink does not let a step read outside its grant; granting its target does", async () => {
  await using fixture = await tempRepo();
  await using outside = await tempDir();
  const repo = fixture.path;
  await Deno.writeTextFile(path.join(outside.path, "secret.txt"), "s3cret-value");
  await commitSymlink(repo, "docs/shared", outside.path);
  await writeStep(
    repo,
    "peek",
    `export default async (ctx) => ({ output: await Deno.readTextFile(ctx.paths.project + "/docs/shared/secret.txt") });`,
  );
  const attack = await run(repo, "peek", "steps: [peek]\n");
  assert.equal(attack.code, 1);
  assert.match(
    attack.json.steps[0]!.error!,
    /^step "peek" was denied read access to ".*\/docs\/shared\/secret\.txt": the sandbox never lets a step read ".*\/docs\/shared": it is a link that leads outside the read grant/,
  );
  assert.ok(!attack.stdout.includes("s3cret-value") && !attack.stderr.includes("s3cret-value"));

  const granted = await run(
    repo,
    "peek-granted",
    `steps:\n  - uses: peek\n    permissions: { read: ["{{ project }}", "${outside.path}"] }\n`,
  );
  assert.equal(granted.code, 0, granted.stdout);
  assert.equal(granted.json.steps[0]!.output, "s3cret-value");
});

Deno.test("a branch's link to the repository's hooks does not let a step write a hook, not even after a rename; a link to a granted folder can be written through", async () => {
  await using fixture = await tempRepo();
  await using outbox = await tempDir();
  const repo = fixture.path;
  const hooks = path.join(repo, ".git", "hooks");
  await commitSymlink(repo, "docs/hooks", hooks, "evil");
  await commitSymlink(repo, "out", outbox.path, "good");
  await writeStep(
    repo,
    "plant",
    `export default async (ctx) => {
      const tries = [];
      for (const attempt of [
        () => Deno.writeTextFile(ctx.paths.worktree + "/docs/hooks/pre-commit", "#!/bin/sh\\ntouch PWNED\\n"),
        async () => { await Deno.rename(ctx.paths.worktree + "/docs", ctx.paths.worktree + "/d2"); await Deno.writeTextFile(ctx.paths.worktree + "/d2/hooks/pre-commit", "x"); },
      ]) {
        try { await attempt(); tries.push("written"); } catch (e) { tries.push(e.name); }
      }
      return { output: tries.join(",") };
    };`,
  );
  const attack = await run(
    repo,
    "plant",
    `steps:\n  - uses: create-worktree\n    with: { name: evil, from: evil }\n  - plant\n`,
  );
  assert.equal(attack.code, 0, attack.stdout);
  assert.equal(attack.json.steps[1]!.output, "NotCapable,NotCapable");
  assert.equal(exists(path.join(hooks, "pre-commit")), false);

  await writeStep(
    repo,
    "deliver",
    `export default async (ctx) => { await Deno.writeTextFile(ctx.paths.worktree + "/out/note.txt", "hi"); };`,
  );
  const granted = await run(
    repo,
    "deliver",
    `steps:\n  - uses: create-worktree\n    with: { name: good, from: good }\n  - uses: deliver\n` +
      // A link is usable when where it leads is granted for all its place allows (here read and write).
      `    permissions:\n      read: ["{{ project }}", "{{ worktree }}", "${outbox.path}"]\n` +
      `      write: ["{{ worktree }}", "{{ artifacts }}", "${outbox.path}"]\n`,
  );
  assert.equal(granted.code, 0, granted.stdout);
  assert.equal(await Deno.readTextFile(path.join(outbox.path, "note.txt")), "hi");
});

Deno.test("a step cannot replace the worktree's .git, and prj's own git never runs what a replaced .git says", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  const marker = path.join(path.dirname(repo), "PWNED");
  const plant = (wt: string) => {
    Deno.mkdirSync(path.join(wt, ".git"), { recursive: true });
    Deno.writeTextFileSync(
      path.join(wt, ".git", "config"),
      `[core]\n\trepositoryformatversion = 0\n\tfsmonitor = "touch ${marker}; false"\n`,
    );
  };
  await writeStep(
    repo,
    "swap_git",
    `export default async (ctx) => {
      await Deno.writeTextFile(ctx.paths.worktree + "/notes.txt", "mine"); // the worktree itself is writable
      await Deno.remove(ctx.paths.worktree + "/.git");
    };`,
  );
  const attack = await run(
    repo,
    "swap",
    `steps:\n  - uses: create-worktree\n    with: { name: wt }\n  - uses: swap_git\n    continue_on_error: true\n  - gather-context\n`,
  );
  assert.equal(attack.code, 0, attack.stdout);
  assert.match(
    attack.json.steps[1]!.error!,
    /denied write access to ".*\/wt\/\.git": .*programs prj starts later act on it/,
  );
  const wt = path.join(path.dirname(repo), "repo.worktrees", "wt");
  assert.equal(await Deno.readTextFile(path.join(wt, "notes.txt")), "mine");
  assert.ok(Deno.lstatSync(path.join(wt, ".git")).isFile);

  // A program outside the sandbox (the agent, a run: step) replaces it: prj's git still runs nothing.
  Deno.removeSync(path.join(wt, ".git"));
  plant(wt);
  const list = await prj(repo, ["worktree", "list", "--json"]);
  assert.equal(list.code, 0, list.stderr);
  const diff = await prj(repo, ["worktree", "diff", "wt"]);
  assert.equal(diff.code, 1);
  assert.match(
    diff.stderr,
    /The \.git entry of worktree ".*wt" is not the file git made for it; prj will not run git there/,
  );
  const context = await run(
    repo,
    "context",
    `steps:\n  - uses: create-worktree\n    with: { name: wt, reuse: true }\n  - gather-context\n`,
  );
  assert.equal(context.code, 1);
  assert.equal(exists(marker), false);
});

Deno.test("the agent's launcher is out of every step's reach; the run's artifacts stay writable", async () => {
  await using fixture = await tempRepo();
  await using server = tempTmux();
  const repo = fixture.path;
  await writeStep(
    repo,
    "tamper",
    `export default async (ctx) => {
      const launched = ctx.history.find((h) => h.name === "agent").data;
      const results = [];
      for (const file of [launched.script, ctx.paths.project + "/.prj/launch/x.sh"]) {
        try { await Deno.writeTextFile(file, "touch PWNED\\n", { append: true }); results.push("written"); }
        catch (e) { results.push(e.name); }
      }
      await Deno.writeTextFile(ctx.paths.outputs + "/mine.txt", "ok");
      return { output: results.join(","), data: { script: launched.script } };
    };`,
  );
  const r = await run(
    repo,
    "launch",
    `steps:\n  - uses: create-worktree\n    with: { name: feat }\n` +
      `  - start-session\n  - name: agent\n    uses: launch-agent\n    with: { prompt: "write the file" }\n  - tamper\n`,
    server.env,
  );
  assert.equal(r.code, 0, r.stdout);
  assert.equal(r.json.steps[3]!.output, "NotCapable,NotCapable");
  const launcher = String((r.json.steps[3]!.data as { script: string }).script);
  assert.ok(launcher.startsWith(path.join(repo, ".prj", "launch") + "/"), launcher);
  assert.ok(!(await Deno.readTextFile(launcher)).includes("PWNED"));
  assert.equal(exists(path.join(r.json.artifactDir, "agent.sh")), false);
  assert.equal(await Deno.readTextFile(path.join(r.json.artifactDir, "outputs", "mine.txt")), "ok");
  // The agent ran from the untouched launcher and did its work.
  const wt = path.join(path.dirname(repo), "repo.worktrees", "feat");
  await waitFor(() => exists(path.join(wt, "AGENT_WORK.md")), 15000, "the agent's work");
  assert.equal(exists(path.join(wt, "PWNED")), false);
});

Deno.test("npm, jsr and remote imports reach no registry and leave the lock file alone; local imports and a net grant work", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  // What reaches the registry, less the packages of prj's own lock file: while the registry variables are set
  // below, a Deno process of prj's (not a step's) that resolves its own packages can ask for them there, and
  // the assertions are about what a step's imports ask for.
  const lock = JSON.parse(await Deno.readTextFile(new URL("../deno.lock", import.meta.url))) as {
    npm: Record<string, unknown>;
  };
  const own = new Set(Object.keys(lock.npm).map((k) => k.slice(0, k.indexOf("@", 1))));
  const ownPackage = (p: string) => {
    const name = decodeURIComponent(p.slice(1)).split("/-/")[0]!;
    return own.has(name);
  };
  const requests: string[] = [];
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const pathname = new URL(req.url).pathname;
    if (!ownPackage(pathname)) requests.push(pathname);
    return new Response("{}", { status: 404 });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  await Deno.writeTextFile(path.join(repo, "deno.json"), `{ "imports": {} }\n`);
  await Deno.writeTextFile(path.join(repo, "deno.lock"), `{ "version": "5" }\n`);
  await writeStep(
    repo,
    "leak",
    `export default async () => {
      const out = [];
      for (const spec of ["npm:leak-token-4f2a", "jsr:@leak/token-4f2a", "${base}/leak-token-4f2a.ts"]) {
        try { await import(spec); out.push("imported"); } catch (e) { out.push(e.message.split("\\n")[0]); }
      }
      return { output: out.join(" | ") };
    };`,
  );
  const attack = await run(repo, "leak", "steps: [leak]\n");
  assert.equal(attack.code, 0, attack.stdout);
  assert.match(attack.json.steps[0]!.output!, /--no-npm.*\|.*--no-remote.*\|.*--no-remote/);
  assert.deepEqual(requests, []);
  assert.equal(await Deno.readTextFile(path.join(repo, "deno.lock")), `{ "version": "5" }\n`);

  // The registries as a step's process would see them when they are configured for prj: set in a
  // process of prj's sandbox code after it has loaded (prj itself cannot be started that way here: it
  // would fetch its own packages there), never in this test's process, which other test files share.
  const viaEnv = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      path.join(import.meta.dirname!, "support", "run_sandboxed.ts"),
      JSON.stringify({
        moduleFile: path.join(repo, ".prj", "steps", "leak.ts"),
        project: repo,
        name: "leak",
        env: { NPM_CONFIG_REGISTRY: `${base}/`, JSR_URL: `${base}/` },
      }),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const viaEnvOut = new TextDecoder().decode(viaEnv.stdout);
  assert.equal(viaEnv.code, 0, new TextDecoder().decode(viaEnv.stderr));
  assert.match(JSON.parse(viaEnvOut).output ?? viaEnvOut, /--no-npm.*\|.*--no-remote.*\|.*--no-remote/);
  assert.deepEqual(requests, []);
  assert.equal(await Deno.readTextFile(path.join(repo, "deno.lock")), `{ "version": "5" }\n`);

  await writeStep(repo, "helper", `export const answer = 42;\n`);
  await writeStep(
    repo,
    "fetcher",
    `import { answer } from "./helper.ts";
    export default async () => { const r = await fetch("${base}/allowed"); await r.body?.cancel(); return { output: answer + " " + r.status }; };`,
  );
  const granted = await run(repo, "fetcher", `steps:\n  - uses: fetcher\n    permissions: { net: ["127.0.0.1"] }\n`);
  assert.equal(granted.code, 0, granted.stdout);
  assert.equal(granted.json.steps[0]!.output, "42 404");
  assert.deepEqual(requests, ["/allowed"]);
});

Deno.test("on a terminal a step's permission request shows no prompt: prj goes on and the step is denied; the grant grants it", async () => {
  await using fixture = await tempRepo();
  await using server = tempTmux();
  const repo = fixture.path;
  await writeStep(
    repo,
    "ask",
    `export default async () => {
      const asked = await Deno.permissions.request({ name: "env", variable: "HOME" });
      let direct = "read";
      try { Deno.env.get("HOME"); } catch (e) { direct = e.name; }
      return { output: asked.state + " " + direct };
    };`,
  );
  await writeCommand(repo, "ask", "steps: [ask]\n");
  await writeCommand(repo, "ask-granted", `steps:\n  - uses: ask\n    permissions: { env: ["HOME"] }\n`);
  for (const [command, expected] of [["ask", "denied NotCapable"], ["ask-granted", "granted read"]]) {
    const out = path.join(repo, `${command}.json`);
    // stdin and stderr are the pane's terminal, where Deno would ask; stdout goes to a file.
    const line = `cd ${repo} && ${prjCommandLine("run", command!, "--json")} > ${out}; echo exit=$? >> ${out}.done`;
    await tmux(
      server.socket,
      "new-session",
      "-d",
      "-s",
      command!,
      "-x",
      "200",
      "-y",
      "50",
      "-e",
      "NO_COLOR=1",
      line + "; sleep 60",
    );
    await waitFor(() => exists(`${out}.done`), 30000, `prj run ${command} to finish without an answer`);
    const pane = (await tmux(server.socket, "capture-pane", "-p", "-t", `=${command}:`)).stdout;
    assert.ok(!/Allow\?|Deno requests/.test(pane), pane);
    const json = JSON.parse(await Deno.readTextFile(out)) as RunJson;
    assert.equal(json.steps[0]!.output, expected);
  }
});

Deno.test("in a shell: true line an argument is one quoted word: it cannot run a command", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await writeCommand(
    repo,
    "say",
    `arguments:\n  - name: x\nsteps:\n  - name: say\n    shell: true\n    run: "echo said {{ args.x }} > said.txt"\n`,
  );
  const attack = await prj(repo, ["run", "say", "x=a; touch PWNED"]);
  assert.equal(attack.code, 0, attack.stderr);
  assert.equal(exists(path.join(repo, "PWNED")), false);
  assert.equal(await Deno.readTextFile(path.join(repo, "said.txt")), "said a; touch PWNED\n");
  const plan = await prj(repo, ["run", "say", "x=$(touch PWNED)", "--dry-run"]);
  assert.match(plan.stdout, /echo said '\$\(touch PWNED\)' > said\.txt/);
  const plain = await prj(repo, ["run", "say", "x=hello"]);
  assert.equal(plain.code, 0);
  assert.equal(await Deno.readTextFile(path.join(repo, "said.txt")), "said hello\n");
});

Deno.test("a grant from shared data, a module outside .prj/steps and a timeout no timer can wait are refused at load with file:line:col", async () => {
  await using fixture = await tempRepo();
  await using outside = await tempDir();
  const repo = fixture.path;
  await writeStep(repo, "noop", "export default () => {};\n");
  await Deno.writeTextFile(path.join(outside.path, "x.ts"), "export default () => {};\n");
  const cases: [string, string, RegExp][] = [
    [
      "shared-grant",
      `steps:\n  - noop\n  - uses: noop\n    permissions:\n      read: ["{{ shared.dir }}"]\n`,
      /^error: \.prj\/commands\/shared-grant\.yaml:5:14: steps\[1\]\.permissions\.read\[0\]: "\{\{ shared\.dir \}\}" in a grant: grants never come from what steps share at run time/m,
    ],
    [
      "outside-module",
      `steps:\n  - uses: ${path.relative(path.join(repo, ".prj"), path.join(outside.path, "x.ts"))}\n`,
      /^error: \.prj\/commands\/outside-module\.yaml:2:11: steps\[0\]\.uses: ".*x\.ts" is outside \.prj\/steps\//m,
    ],
    [
      "long-timeout",
      `steps:\n  - uses: noop\n    timeout: 2147484\n`,
      /^error: \.prj\/commands\/long-timeout\.yaml:3:14: steps\[0\]\.timeout: expected at most 2147483 seconds/m,
    ],
  ];
  for (const [name, yaml, expected] of cases) {
    await writeCommand(repo, name, yaml);
    const r = await prj(repo, ["run", name, "--dry-run"]);
    assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, expected);
  }
  await writeCommand(
    repo,
    "fine",
    `steps:\n  - uses: noop\n    timeout: 2147483\n    permissions: { read: ["{{ args.dir }}"] }\narguments:\n  - name: dir\n    default: src\n`,
  );
  assert.equal((await prj(repo, ["run", "fine"])).code, 0);
});

Deno.test("every way a step can end ends only that step: one line each, the run goes on, cleanup runs", async () => {
  await using fixture = await tempRepo();
  const repo = fixture.path;
  await setConfig(repo, `agent:\n  command: ${AGENT}\nstep_timeout: 2\nstep_memory: 32\n`);
  const endings: Record<string, [string, RegExp]> = {
    exit: [
      "export default () => { Deno.exit(3); };",
      /^step "exit" ended its process \(exit code 3\) before returning/,
    ],
    close: [
      "export default () => { self.close(); return new Promise(() => {}); };",
      /^step "close" ended its process \(exit code 0\) before returning/,
    ],
    oom: [
      "export default () => { const a = []; for (;;) a.push(new Array(1e5).fill(Math.random())); };",
      /^step "oom" ran out of memory \(its limit is 32 MB\)$/,
    ],
    sigkill: ['export default () => { Deno.kill(Deno.pid, "SIGKILL"); };', /^step "sigkill" was killed \(SIGKILL\)$/],
    rejection: [
      'export default () => { Promise.reject(new Error("late boom")); return new Promise((r) => setTimeout(r, 500)); };',
      /^step "rejection" failed: an error nobody caught: late boom$/,
    ],
  };
  for (const [name, [source]] of Object.entries(endings)) await writeStep(repo, name, source);
  await writeStep(repo, "loop", "export default () => { for (;;) {} };");
  await writeStep(repo, "after", `export default () => ({ output: "still here" });`);
  const yaml = "steps:\n" +
    Object.keys(endings).map((n) => `  - uses: ${n}\n    continue_on_error: true\n`).join("") +
    "  - after\n";
  const r = await run(repo, "endings", yaml);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const [i, [name, [, expected]]] of Object.entries(endings).entries()) {
    const step = r.json.steps[i]!;
    assert.equal(step.status, "failed", name);
    assert.match(step.error!, expected, name);
  }
  assert.equal(r.json.steps.at(-1)!.output, "still here");
  assert.doesNotMatch(r.stderr, /^\s+at /m); // no stack on prj's own stderr

  // A step without a timeout that never returns is stopped at step_timeout; cleanup still runs.
  const cleanup = await run(
    repo,
    "ending-cleanup",
    `steps: [loop]\ncleanup_on_failure:\n  - name: tidy\n    run: [touch, cleaned]\n`,
  );
  assert.equal(cleanup.code, 1);
  assert.equal(cleanup.json.status, "failed");
  assert.equal(cleanup.json.steps[0]!.status, "timed_out");
  assert.equal(cleanup.json.steps[0]!.error, 'step "loop" timed out after 2s');
  assert.ok(exists(path.join(repo, "cleaned")));
});

Deno.test("worktrees whose names make the same session name get sessions of their own; prj types into no one else's", async () => {
  await using fixture = await tempRepo();
  await using server = tempTmux();
  const repo = fixture.path;
  // A session prj did not make, with the name the worktree "x" would get.
  await tmux(server.socket, "new-session", "-d", "-s", "repo-x", "-x", "200", "-y", "50");
  for (const name of ["a-b", "a.b", "x"]) {
    const r = await prj(repo, ["run", "feature-branch", `feature_name=${name}`, "--json"], { env: server.env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
  const sessions = (await tmux(server.socket, "list-sessions", "-F", "#{session_name}")).stdout.split("\n")
    .filter(Boolean).sort();
  assert.deepEqual(sessions, ["repo-a-b", "repo-a-b-2", "repo-x", "repo-x-2"]);
  for (const name of ["a-b", "a.b", "x"]) {
    const wt = path.join(path.dirname(repo), "repo.worktrees", name);
    await waitFor(() => exists(path.join(wt, "AGENT_WORK.md")), 15000, `the agent in ${name}`);
  }
  const users = (await tmux(server.socket, "capture-pane", "-p", "-t", "=repo-x:")).stdout;
  assert.ok(!users.includes("agent.sh"), users);
});
