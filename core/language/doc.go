// Package language resolves the language a task or environment names to
// the plugin that serves it (an sdk.Language) and calls it with its
// configuration. It is how core asks about test commands, test output,
// compile checks and images without knowing any language itself.
//
// It does not start plugins (package pluginhost does) and does not decide
// which language a task has (taskenv does).
package language
