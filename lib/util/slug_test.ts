import assert from "node:assert/strict";
import { BRANCH_SLUG, SESSION_SLUG, slug, STEP_LOG_SLUG } from "./slug.ts";

Deno.test("slug() for step logs keeps dots and underscores, stops at 60 characters", () => {
  assert.equal(slug("Build v1.2_final", STEP_LOG_SLUG), "build-v1.2_final");
  assert.equal(slug("x".repeat(80), STEP_LOG_SLUG).length, 60);
  assert.equal(slug("???", STEP_LOG_SLUG), "step");
});

Deno.test("slug() for branches keeps only letters and digits, stops at 40 characters", () => {
  assert.equal(slug("Add login (JWT) + tests", BRANCH_SLUG), "add-login-jwt-tests");
  assert.equal(slug("a.b_c", BRANCH_SLUG), "a-b-c");
  assert.equal(slug("y".repeat(50), BRANCH_SLUG).length, 40);
});

Deno.test("slug() for sessions collapses dashes and may come out empty", () => {
  assert.equal(slug("Shop--login-Fix Bug #12!", SESSION_SLUG), "shop-login-fix-bug-12");
  assert.equal(slug("a.b", SESSION_SLUG), "a-b");
  assert.equal(slug("...", SESSION_SLUG), "");
});
