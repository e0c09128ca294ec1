//! Integration tests: the real server binary, a random port, a fresh database per test.
mod bad_input;
mod callbacks;
mod concurrency;
mod harness;
mod live;
mod merchant_api;
mod multi_instance;
mod operator;
mod ports;
mod production;
mod provider_faults;
mod provider_side;
mod reconciliation;
mod restart;
mod server_fns;
mod transitions;
