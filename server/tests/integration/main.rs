//! Integration tests: the real server binary, a random port, a fresh database per test.
mod bad_input;
mod concurrency;
mod harness;
mod restart;
mod transitions;
