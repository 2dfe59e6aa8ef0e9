import assert from "node:assert/strict";
import { PrjError } from "../util/errors.ts";
import { afterStep, failureMessage, stoppedRun, stoppedRunError, stoppedStep, truthy } from "./status.ts";

const command = { name: "review", timeout: 60 };

Deno.test("stoppedStep() names the step's own timeout before the command's", () => {
  assert.deepEqual(stoppedStep({ name: "lint", timeout: 5 }, true, "timeout", command), {
    status: "timed_out",
    error: 'step "lint" timed out after 5s',
  });
  assert.deepEqual(stoppedStep({ name: "lint", timeout: undefined }, false, "timeout", command), {
    status: "timed_out",
    error: 'command "review" timed out after 60s',
  });
  assert.deepEqual(stoppedStep({ name: "lint", timeout: undefined }, false, "cancelled", command), {
    status: "cancelled",
    error: 'step "lint" was cancelled',
  });
});

Deno.test("afterStep() goes on after success, a skip, or a failure with continue_on_error", () => {
  assert.deepEqual(afterStep({ name: "a", status: "succeeded", continueOnError: false }, undefined), {
    next: "continue",
  });
  assert.deepEqual(afterStep({ name: "a", status: "skipped", continueOnError: false }, undefined), {
    next: "continue",
  });
  assert.deepEqual(afterStep({ name: "a", status: "failed", continueOnError: true }, undefined), {
    next: "continue",
    notice: 'step "a" failed; continuing (continue_on_error)',
  });
});

Deno.test("afterStep() fails the run for a step's own timeout, times it out only for the command's", () => {
  assert.deepEqual(afterStep({ name: "a", status: "timed_out", continueOnError: true }, undefined), {
    next: "stop",
    status: "failed",
  });
  assert.deepEqual(afterStep({ name: "a", status: "timed_out", continueOnError: false }, "timeout"), {
    next: "stop",
    status: "timed_out",
  });
  assert.deepEqual(afterStep({ name: "a", status: "cancelled", continueOnError: false }, "cancelled"), {
    next: "stop",
    status: "cancelled",
  });
  assert.deepEqual(afterStep({ name: "a", status: "failed", continueOnError: false }, undefined), {
    next: "stop",
    status: "failed",
  });
});

Deno.test("a run stopped between steps is cancelled or timed out, with its own error", () => {
  assert.equal(stoppedRun("cancelled"), "cancelled");
  assert.equal(stoppedRun("timeout"), "timed_out");
  assert.equal(stoppedRunError("cancelled", command), "cancelled");
  assert.equal(stoppedRunError("timed_out", command), 'command "review" timed out after 60s');
});

Deno.test("failureMessage() keeps user errors as they are and names other error types", () => {
  assert.equal(failureMessage(new PrjError("git failed: bad ref")), "git failed: bad ref");
  assert.equal(failureMessage(new Error("boom")), "boom");
  assert.equal(failureMessage(new TypeError("x is not a function")), "TypeError: x is not a function");
  assert.equal(failureMessage("a string"), "a string");
});

Deno.test("truthy() reads if: values: empty, false, 0, no, off and null are false", () => {
  for (const no of ["", " false ", "0", "No", "OFF", "null", false]) assert.equal(truthy(no), false, String(no));
  for (const yes of ["true", "1", "yes", "anything", true]) assert.equal(truthy(yes), true, String(yes));
});
