// Package lmrulestest holds what the language plugins' tests of the LM
// rules share: a fake model that answers in several styles and records
// its prompts, a model that always fails, a repository to inject into, the
// golden transcript of the prompts, and the checks of an injector's LM
// settings. What a reply looks like and what a candidate must satisfy
// stay in each plugin's tests.
//
// Only tests import it.
package lmrulestest
