// Package queuetest starts a real NATS server with JetStream inside a
// test process (nats-server embedded, its store in the test's temporary
// folder), for tests of core/queue and of swelego workers.
package queuetest
