// Package errormask is the first-party loss masker: step-level error
// masking as in SWE-Lego's refined SFT. An assistant turn whose tool call
// failed to execute (a command that does not exist, an edit the editor
// refused, a script that died with a traceback, a call that timed out)
// stays in the trajectory as context but gets loss weight 0, so the model
// learns from the recovery and not from the mistake. It also serves simpler
// strategies: train every turn, keep a dataset's own marks, train only the
// last k turns.
//
// It reads trajectories and answers with weights; it does not tokenise,
// render chat templates or train (core does), and it never masks a turn
// because the tests it ran failed: a failing test run is information, not
// a failed tool call.
package errormask
