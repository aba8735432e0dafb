// Package swetools is the first-party tool set for agent rollouts: OpenHands
// CodeAct's four tools (execute_bash, str_replace_editor, think, finish)
// with the same names and parameters, so trajectories move between swelego
// and OpenHands, run in the sandbox the host lends to each call and keeping
// all their state (shell session, running command, undo history) in that
// sandbox. It does not run the agent loop or talk to models; core/agent does.
package swetools
