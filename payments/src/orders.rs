//! Orders as the merchant's backend creates them: with the shop's own reference (the same
//! reference under the same API key is the same order) and the URL the shopper returns to.
use crate::clock::now_ms;
use crate::error::{PaymentError, Result, MAX_DESCRIPTION_CHARS};
use crate::ids;
use crate::model::{Order, OrderDetail};
use crate::money::Amount;
use crate::service::PaymentService;
use crate::status::OrderStatus;
use crate::store::{queries, StoreError};

pub const MAX_REFERENCE_CHARS: usize = 64;
pub const MAX_RETURN_URL_CHARS: usize = 2048;

/// The shop's own order id: 1 to 64 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderReference(String);

impl OrderReference {
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty()
            && text.len() <= MAX_REFERENCE_CHARS
            && text.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the shopper goes after paying: an absolute http(s) URL without credentials. Whether
/// plain http is acceptable is the server's rule (production: https, or loopback for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUrl(reqwest::Url);

impl ReturnUrl {
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > MAX_RETURN_URL_CHARS {
            return None;
        }
        let url = reqwest::Url::parse(text).ok()?;
        let ok = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.username().is_empty()
            && url.password().is_none();
        ok.then_some(Self(url))
    }

    pub fn is_https_or_loopback(&self) -> bool {
        crate::provider::http::is_https_or_loopback(&self.0)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Whether `text` is safe to show the shopper as the merchant's words: no control characters
/// (C0, C1) and no bidirectional embeddings, overrides or isolates, which can make a wallet
/// page read something else than what was written.
pub fn is_displayable(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

/// An order to create. `api_key_id` is the caller's key (`None`: the development demo shop).
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub amount: Amount,
    pub description: String,
    pub reference: Option<OrderReference>,
    pub return_url: Option<ReturnUrl>,
    pub api_key_id: Option<String>,
}

/// A created order, or the one that already had the reference.
#[derive(Debug)]
pub struct OrderCreated {
    pub order: Order,
    /// False when the reference named an existing order (nothing was written).
    pub created: bool,
}

fn is_unique_violation(e: &PaymentError) -> bool {
    matches!(e, PaymentError::Store(StoreError::Database(sqlx::Error::Database(db)))
        if db.is_unique_violation())
}

impl PaymentService {
    /// The demo shop's order: no key, no reference.
    pub async fn create_order(&self, amount: Amount, description: &str) -> Result<Order> {
        let new = NewOrder {
            amount,
            description: description.to_string(),
            reference: None,
            return_url: None,
            api_key_id: None,
        };
        Ok(self.create_order_for(new).await?.order)
    }

    /// Creates the order, or answers the caller's existing order with the same reference (an
    /// existing one with another amount is a conflict, never silently answered).
    pub async fn create_order_for(&self, new: NewOrder) -> Result<OrderCreated> {
        let description = new.description.trim();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(PaymentError::DescriptionTooLong);
        }
        if !is_displayable(description) {
            return Err(PaymentError::DescriptionInvalid);
        }
        if let Some(existing) = self.order_by_reference(&new).await? {
            return Ok(existing);
        }
        let order = Order {
            id: ids::new_order_id(),
            amount_fen: new.amount.fen(),
            description: (!description.is_empty()).then(|| description.to_string()),
            status: OrderStatus::Pending,
            created_at_ms: now_ms(),
            paid_at_ms: None,
            paid_by_payment: None,
            reference: new.reference.as_ref().map(|r| r.as_str().to_string()),
            return_url: new.return_url.as_ref().map(|u| u.as_str().to_string()),
            api_key_id: new.api_key_id.clone(),
        };
        match self.ledger().insert_order(&order).await {
            Ok(()) => Ok(OrderCreated {
                order,
                created: true,
            }),
            // Two requests with one reference at once: the other one's order is the answer.
            Err(e) if is_unique_violation(&e) => self.order_by_reference(&new).await?.ok_or(e),
            Err(e) => Err(e),
        }
    }

    async fn order_by_reference(&self, new: &NewOrder) -> Result<Option<OrderCreated>> {
        let Some(reference) = &new.reference else {
            return Ok(None);
        };
        let mut conn = self.store().pool().acquire().await?;
        let existing =
            queries::order_by_reference(&mut conn, new.api_key_id.as_deref(), reference.as_str())
                .await?;
        match existing {
            Some(order) if order.amount_fen != new.amount.fen() => {
                Err(PaymentError::ReferenceConflict)
            }
            Some(order) => Ok(Some(OrderCreated {
                order,
                created: false,
            })),
            None => Ok(None),
        }
    }

    /// The order, for the API key that created it; with `api_key_id` `None` (development, no
    /// key) any order. Another key's order is not found.
    pub async fn order_for(&self, order_id: &str, api_key_id: Option<&str>) -> Result<Order> {
        let order = self.order(order_id).await?;
        match api_key_id {
            Some(key) if order.api_key_id.as_deref() != Some(key) => {
                Err(PaymentError::OrderNotFound)
            }
            _ => Ok(order),
        }
    }

    /// [`Self::order_for`]'s order with every payment's history: the merchant's view.
    pub async fn order_detail_for(
        &self,
        order_id: &str,
        api_key_id: Option<&str>,
    ) -> Result<OrderDetail> {
        self.order_for(order_id, api_key_id).await?;
        self.order_detail(order_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::{OrderReference, ReturnUrl};

    #[test]
    fn descriptions_without_control_or_direction_characters_are_displayable() {
        assert!(super::is_displayable("咖啡 ×2 — Café"));
        for bad in [
            "a\u{0}b",
            "line\nbreak",
            "\u{9b}",
            "paid\u{202E}diap",
            "x\u{2066}y",
        ] {
            assert!(!super::is_displayable(bad), "{bad:?}");
        }
    }

    #[test]
    fn references_are_short_visible_ascii() {
        assert!(OrderReference::parse("SO-2026-000123").is_some());
        for bad in ["", "a b", "订单1", &"x".repeat(65)] {
            assert!(OrderReference::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn return_urls_are_absolute_http_without_credentials() {
        let shop = ReturnUrl::parse("https://shop.example/orders/42?paid=1").unwrap();
        assert!(shop.is_https_or_loopback());
        assert!(ReturnUrl::parse("http://127.0.0.1:8080/done")
            .unwrap()
            .is_https_or_loopback());
        assert!(!ReturnUrl::parse("http://shop.example/done")
            .unwrap()
            .is_https_or_loopback());
        for bad in [
            "/relative",
            "javascript:alert(1)",
            "ftp://shop.example/",
            "https://user:pw@shop.example/",
            "data:text/html,hi",
        ] {
            assert!(ReturnUrl::parse(bad).is_none(), "{bad:?}");
        }
    }
}
