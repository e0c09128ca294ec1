//! JSON objects written field by field into a byte buffer: the status read's answers (the
//! server function's and the REST API's), the hot path. serde_json's derive writes every key
//! through its escaping loop and each piece through `io::Write`, ~3,000 instructions of the
//! ~31,000 a status read costs (callgrind, BENCHMARKS.md); here the keys are literals and a
//! value is copied as is unless it holds a byte JSON must escape. The types keep their serde
//! derive (the browser reads them with it); tests hold the bytes equal to serde_json's.
use crate::model::PaymentStatusView;

/// An object being written into `out`; [`JsonObject::end`] closes it.
pub struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> JsonObject<'a> {
    pub fn begin(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    /// `"key":`. Keys are the program's own identifiers: nothing in them to escape.
    fn key(&mut self, key: &'static str) -> &mut Vec<u8> {
        debug_assert!(!needs_escaping(key), "{key:?}");
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    pub fn str(&mut self, key: &'static str, value: &str) -> &mut Self {
        let out = self.key(key);
        write_str(out, value);
        self
    }

    pub fn opt_str(&mut self, key: &'static str, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.str(key, value),
            None => self.raw(key, "null"),
        }
    }

    /// A string of the program's own (an enum's name): nothing to escape, so not scanned.
    pub fn name(&mut self, key: &'static str, value: &'static str) -> &mut Self {
        debug_assert!(!needs_escaping(value), "{value:?}");
        let out = self.key(key);
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
        self
    }

    pub fn opt_name(&mut self, key: &'static str, value: Option<&'static str>) -> &mut Self {
        match value {
            Some(value) => self.name(key, value),
            None => self.raw(key, "null"),
        }
    }

    pub fn int(&mut self, key: &'static str, value: i64) -> &mut Self {
        let out = self.key(key);
        out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self
    }

    pub fn opt_int(&mut self, key: &'static str, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int(key, value),
            None => self.raw(key, "null"),
        }
    }

    /// `value` is JSON already (a number, `null`).
    pub fn raw(&mut self, key: &'static str, value: &str) -> &mut Self {
        self.key(key).extend_from_slice(value.as_bytes());
        self
    }

    /// An object as this one's field; `fill` writes its fields.
    pub fn object(&mut self, key: &'static str, fill: impl FnOnce(&mut JsonObject)) -> &mut Self {
        let mut inner = JsonObject::begin(self.key(key));
        fill(&mut inner);
        inner.end();
        self
    }

    pub fn end(self) {
        self.out.push(b'}');
    }
}

/// A byte JSON strings cannot hold as is: a control character, `"` or `\` (serde_json escapes
/// exactly these; everything else, non-ASCII included, is copied).
fn needs_escaping(text: &str) -> bool {
    // A fold, not `any`: without the early exit the compiler checks 16 bytes at a time.
    text.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

fn write_str(out: &mut Vec<u8>, value: &str) {
    if needs_escaping(value) {
        serde_json::to_writer(out, value).expect("a string always serializes into a Vec");
    } else {
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    }
}

/// Bytes of room for a status answer (they measure ~250–330; a longer one grows the buffer).
const STATUS_ANSWER_ROOM: usize = 512;

impl PaymentStatusView {
    /// The same bytes as `serde_json::to_vec(self)`, for a fraction of the work.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = status_answer_buffer();
        let mut object = JsonObject::begin(&mut out);
        object
            .str("paymentId", &self.payment_id)
            .str("orderId", &self.order_id)
            .name("status", self.status.as_str())
            .name("method", self.method.as_str())
            .int("amountFen", self.amount_fen)
            .int("expiresAtMs", self.expires_at_ms)
            .int("serverNowMs", self.server_now_ms)
            .opt_int("paidAtMs", self.paid_at_ms)
            .opt_str("failureReason", self.failure_reason.as_deref())
            .opt_name("failure", self.failure.map(|f| f.as_str()))
            .str("codeUrl", &self.code_url);
        object.end();
        out
    }
}

/// A buffer with room for a whole status answer: it is not grown on the way.
pub fn status_answer_buffer() -> Vec<u8> {
    Vec::with_capacity(STATUS_ANSWER_ROOM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{PaymentFailure, PaymentMethod, PaymentStatus};

    fn view(failure_reason: Option<&str>, payment_id: &str, code_url: &str) -> PaymentStatusView {
        PaymentStatusView {
            payment_id: payment_id.into(),
            order_id: "ord_01HZX".into(),
            status: PaymentStatus::Failed,
            method: PaymentMethod::Alipay,
            amount_fen: 129_900,
            expires_at_ms: 1_765_000_000_000,
            server_now_ms: -5,
            paid_at_ms: None,
            failure_reason: failure_reason.map(Into::into),
            failure: Some(PaymentFailure::ALL[0]),
            code_url: code_url.into(),
        }
    }

    #[test]
    fn writes_the_same_bytes_as_serde_json() {
        let awkward = "quote \" back \\ tab \t nul \0 bell \u{7} del \u{7f} 中文 \u{2028} é";
        for v in [
            view(None, "pay_abc-123", "weixin://wxpay/bizpayurl?pr=abc"),
            view(Some(awkward), awkward, awkward),
            view(Some(""), "", ""),
        ] {
            assert_eq!(
                String::from_utf8(v.to_json()).unwrap(),
                serde_json::to_string(&v).unwrap()
            );
        }
        let mut paid = view(None, "p", "c");
        (paid.status, paid.paid_at_ms, paid.failure) = (PaymentStatus::Paid, Some(i64::MAX), None);
        paid.amount_fen = i64::MIN;
        assert_eq!(paid.to_json(), serde_json::to_vec(&paid).unwrap());
    }

    proptest::proptest! {
        #[test]
        fn writes_any_view_as_serde_json_does(
            texts in proptest::collection::vec(proptest::prelude::any::<String>(), 3),
            numbers in proptest::collection::vec(proptest::prelude::any::<i64>(), 2),
        ) {
            let mut v = view(Some(&texts[0]), &texts[1], &texts[2]);
            (v.amount_fen, v.expires_at_ms) = (numbers[0], numbers[1]);
            proptest::prop_assert_eq!(v.to_json(), serde_json::to_vec(&v).unwrap());
        }
    }

    #[test]
    fn nests_objects() {
        let mut out = Vec::new();
        let mut outer = JsonObject::begin(&mut out);
        outer.object("data", |inner| {
            inner.raw("amount", "12.5").opt_str("none", None);
        });
        outer.int("n", 7);
        outer.end();
        assert_eq!(out, br#"{"data":{"amount":12.5,"none":null},"n":7}"#);
    }
}
