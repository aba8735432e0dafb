// Package agent runs one agent episode on a task: messages go to a chat
// model, the model's tool calls go to a tool-set plugin that executes them in
// the task's sandbox, and the observations go back to the model until it
// calls finish or a turn, token or time limit ends the episode. The result
// is an sdk.Trajectory with per-turn metadata and the final patch.
//
// The package also holds the oracle, a test teacher that replays a task's
// known fix as a realistic trajectory, for offline demos and tests. It does
// not grade trajectories (core/harness does) or talk HTTP to model servers
// (core/llm does).
package agent
