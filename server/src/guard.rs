//! A request check as a tower layer: `check` looks at each request (and may annotate it), then
//! lets it through or answers it itself. What an axum `from_fn` middleware does for such checks,
//! without boxing the rest of the stack and its future on every request (BENCHMARKS.md, "With
//! the limits and security layers on").
use axum::extract::Request;
use axum::response::Response;
use futures::future::Either;
use std::future::{ready, Ready};
use std::task::{Context, Poll};
use tower::{Layer, Service};

#[derive(Clone)]
pub struct GuardLayer<C> {
    check: C,
}

impl<C> GuardLayer<C>
where
    C: Fn(&mut Request) -> Option<Response>,
{
    /// `check` answers a request it refuses (`Some`), or lets it through (`None`).
    pub fn new(check: C) -> Self {
        Self { check }
    }
}

impl<S, C: Clone> Layer<S> for GuardLayer<C> {
    type Service = Guard<S, C>;

    fn layer(&self, inner: S) -> Guard<S, C> {
        Guard {
            inner,
            check: self.check.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Guard<S, C> {
    inner: S,
    check: C,
}

impl<S, C> Service<Request> for Guard<S, C>
where
    S: Service<Request, Response = Response>,
    C: Fn(&mut Request) -> Option<Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        match (self.check)(&mut request) {
            Some(answer) => Either::Left(ready(Ok(answer))),
            None => Either::Right(self.inner.call(request)),
        }
    }
}
