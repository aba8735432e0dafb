// Package verifiers holds swelego's first-party verifier plugins, the ones
// the tts stage uses to pick one of K rollouts of a task:
//
//   - generative asks a judge model, lent by the host, whether the
//     candidate patch solves the task and scores P(YES)/(P(YES)+P(NO))
//     read from the log-probabilities at the judgement token;
//   - tests runs the repository's own tests in a sandbox lent by the host,
//     before and after the candidate patch, plus any reproduction test the
//     agent wrote, and scores the pass rate;
//   - hybrid computes both and ranks the candidates of a task as R2E-Gym
//     does (the top half by the judge, then the best pass rate).
//
// Each is served as its own plugin (NewGenerative, NewTests, NewHybrid).
// The package imports only the sdk: it is what a third party could write.
// It knows pytest and go test, as plugins may; it never reads a task's
// hidden FAIL_TO_PASS or PASS_TO_PASS lists, nor its test patch.
package verifiers
