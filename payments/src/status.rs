//! Explicit status enums, shared by browser and server.

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// A payment's lifecycle. `Pending` is the only non-terminal state.
    PaymentStatus {
        Pending = "pending",
        Paid = "paid",
        Failed = "failed",
        Expired = "expired",
        Closed = "closed",
    }
);

impl PaymentStatus {
    /// Terminal states never return to `Pending`. Money received still wins over an earlier
    /// failed/expired/closed verdict (recorded as an exception, see `machine`).
    pub fn is_terminal(self) -> bool {
        match self {
            PaymentStatus::Pending => false,
            PaymentStatus::Paid
            | PaymentStatus::Failed
            | PaymentStatus::Expired
            | PaymentStatus::Closed => true,
        }
    }
}

string_enum!(
    /// An order: paid by at most one payment.
    OrderStatus {
        Pending = "pending",
        Paid = "paid",
    }
);

string_enum!(
    /// The provider's view of a trade (WeChat Pay Native `trade_state`).
    TradeState {
        Success = "SUCCESS",
        NotPay = "NOTPAY",
        Closed = "CLOSED",
        PayError = "PAYERROR",
    }
);

string_enum!(
    /// Why a payment failed, as a code: the shopper's page words it in its own language, while
    /// the merchant's API keeps the provider's own words (`failure_reason`).
    PaymentFailure {
        DeclinedByPayer = "declined_by_payer",
        InsufficientBalance = "insufficient_balance",
        Other = "other",
    }
);

impl PaymentFailure {
    /// What a provider's failure reason means. Only WeChat Pay reports failures (`PAYERROR`
    /// with a free-text `trade_state_desc`, no code): its known phrases are recognized.
    pub fn of_provider_reason(reason: &str) -> PaymentFailure {
        if reason.contains("余额不足") {
            PaymentFailure::InsufficientBalance
        } else if reason.contains("用户拒绝") {
            PaymentFailure::DeclinedByPayer
        } else {
            PaymentFailure::Other
        }
    }
}

string_enum!(
    /// Which provider's app the shopper scans with: the protocol a payment speaks.
    PaymentMethod {
        WechatPay = "wechatpay",
        Alipay = "alipay",
    }
);

string_enum!(
    /// Who caused an entry in a payment's event log.
    EventSource {
        Api = "api",
        Provider = "provider",
        Expiry = "expiry",
        Reconcile = "reconcile",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_for_every_variant() {
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(*s));
        }
        for s in TradeState::ALL {
            assert_eq!(TradeState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(PaymentStatus::parse("PAID"), None);
    }

    #[test]
    fn the_providers_failure_reasons_are_recognized() {
        for (reason, failure) in [
            ("用户拒绝支付", PaymentFailure::DeclinedByPayer),
            ("银行卡余额不足", PaymentFailure::InsufficientBalance),
            (
                "支付失败，零钱余额不足",
                PaymentFailure::InsufficientBalance,
            ),
            ("支付失败，请重新下单支付", PaymentFailure::Other),
            ("", PaymentFailure::Other),
        ] {
            assert_eq!(
                PaymentFailure::of_provider_reason(reason),
                failure,
                "{reason}"
            );
        }
    }

    #[test]
    fn only_pending_is_not_terminal() {
        let open: Vec<_> = PaymentStatus::ALL
            .iter()
            .filter(|s| !s.is_terminal())
            .collect();
        assert_eq!(open, [&PaymentStatus::Pending]);
    }
}
