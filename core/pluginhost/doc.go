// Package pluginhost finds, verifies, starts and supervises plugin
// processes, and hands the rest of the engine sdk interfaces backed by them.
//
// Plugins are found by name on the search path or built into swelego
// (served by re-executing the swelego binary), checked against the SHA-256
// the lock file records before they run, spoken to over gRPC with
// go-plugin's AutoMTLS, restarted after a crash, and killed when the host
// stops. It does not decide what plugins are called for; stages do. It
// does find the plugin that serves a task's language (FindLanguage).
package pluginhost
