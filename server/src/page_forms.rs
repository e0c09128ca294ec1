//! The pages' forms, posted by browsers without JavaScript (or before the page's WASM runs):
//! the home page's order form (`POST /`) and the payment page's 重新支付 (`POST
//! /orders/{id}/pay`). Each answers 303 See Other to the page to show next, or renders its page
//! again with what went wrong and that error's status. With WASM the same forms go through the
//! server functions instead. The CSRF layer (csrf.rs) and the limits (limits/) stand in front
//! of them as of every route.
use crate::error::{CallerLang, HttpError};
use app::api::create_demo_order;
use app::error::{ApiError, ErrorCode};
use app::pages::home::{OrderFormError, RefusedOrderForm};
use app::pages::pay::PayAgainFailed;
use app::shell;
use app::state::AppState;
use axum::body::Body;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use leptos::prelude::{provide_context, LeptosOptions};
use payments::money::Amount;
use payments::status::PaymentMethod;
use serde::Deserialize;
use std::sync::Arc;

/// Renders a page as leptos_axum's routes do (same contexts), plus one of the form's own.
#[derive(Clone)]
pub struct PageRenderer {
    /// What every page render gets (main.rs: the app state, the page's headers).
    pub context: Arc<dyn Fn() + Send + Sync>,
    pub options: LeptosOptions,
}

impl PageRenderer {
    async fn render<T>(&self, parts: Parts, with: T, status: StatusCode) -> Response
    where
        T: Clone + Send + Sync + 'static,
    {
        let context = self.context.clone();
        let options = self.options.clone();
        let handler = leptos_axum::render_app_to_stream_with_context(
            move || {
                context();
                provide_context(with.clone());
            },
            move || shell(options.clone()),
        );
        let mut response = handler(Request::from_parts(parts, Body::empty())).await;
        *response.status_mut() = status;
        response
    }
}

pub fn router(pages: PageRenderer) -> Router<AppState> {
    let for_pay_again = pages.clone();
    Router::new()
        .route(
            "/",
            post(move |state, request| order_form(state, pages.clone(), request)),
        )
        .route(
            "/orders/{id}/pay",
            post(move |state, id, request| pay_again(state, for_pay_again.clone(), id, request)),
        )
}

/// The order form's fields; a missing one is empty (and refused as such).
#[derive(Deserialize)]
struct OrderFields {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    description: String,
}

async fn order_form(
    State(state): State<AppState>,
    pages: PageRenderer,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let fields = match Form::<OrderFields>::from_request(
        Request::from_parts(parts.clone(), body),
        &(),
    )
    .await
    {
        Ok(Form(fields)) => fields,
        Err(rejection) => return form_refused(rejection, &parts),
    };
    let created = match Amount::parse_typed_yuan(&fields.amount) {
        Ok(amount) => create_demo_order(&state, amount, &fields.description)
            .await
            .map_err(|e| (OrderFormError::Server(e.code), e.status())),
        Err(e) => Err((
            OrderFormError::Amount(e),
            StatusCode::from_u16(ErrorCode::AmountInvalid.http_status())
                .unwrap_or(StatusCode::BAD_REQUEST),
        )),
    };
    match created {
        Ok(order) => see_other(&format!("/orders/{}/pay", order.id)),
        Err((error, status)) => {
            let refused = RefusedOrderForm {
                amount: fields.amount,
                description: fields.description,
                error,
            };
            pages.render(parts, refused, status).await
        }
    }
}

#[derive(Deserialize)]
struct PayAgainFields {
    method: Option<String>,
}

/// 重新支付: a new payment (or the one another tab just made), then back to the same page
/// (its query kept). An error that trying again may fix is shown on the page with its status;
/// any other (the order was paid meanwhile, is unknown) is what the page itself shows.
async fn pay_again(
    State(state): State<AppState>,
    pages: PageRenderer,
    Path(order_id): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let fields =
        match Form::<PayAgainFields>::from_request(Request::from_parts(parts.clone(), body), &())
            .await
        {
            Ok(Form(fields)) => fields,
            Err(rejection) => return form_refused(rejection, &parts),
        };
    let method = fields.method.as_deref().and_then(PaymentMethod::parse);
    let page = parts
        .uri
        .path_and_query()
        .map_or_else(|| format!("/orders/{order_id}/pay"), |p| p.to_string());
    match state
        .payments
        .current_or_new_payment(&order_id, method)
        .await
    {
        Err(e) if e.code().is_retryable() => {
            let error = ApiError::from(e);
            let status = error.status();
            pages.render(parts, PayAgainFailed(error), status).await
        }
        _ => see_other(&page),
    }
}

/// A form that could not be read: a body over the limit, stalled or cut off gets the API's
/// 413 / 408 / 400 (like every other route); a form that is not one, axum's answer.
fn form_refused(rejection: FormRejection, parts: &Parts) -> Response {
    match rejection {
        FormRejection::BytesRejection(body) => HttpError::body_unreadable(&body)
            .in_lang(CallerLang::of(&parts.headers).0)
            .into_response(),
        other => other.into_response(),
    }
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}
