//! Each error code's sentence, per language (`Texts::error`).
use crate::error::ErrorCode;

pub(super) fn zh_error(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::OrderNotFound => "订单不存在",
        ErrorCode::PaymentNotFound => "支付单不存在",
        ErrorCode::WebhookDeliveryNotFound => "Webhook 投递记录不存在",
        ErrorCode::OrderIdInvalid => "订单号格式不正确",
        ErrorCode::PaymentIdInvalid => "支付单号格式不正确",
        ErrorCode::OrderNotPayable => "订单状态不允许支付",
        ErrorCode::AmountInvalid => "金额不正确",
        ErrorCode::DescriptionTooLong => "商品描述不能超过 200 个字符",
        ErrorCode::DescriptionInvalid => "商品描述不能包含控制字符或文字方向控制符",
        ErrorCode::AmountMismatch => "金额与支付单不符",
        ErrorCode::ProviderUnavailable => "支付渠道暂时不可用,请稍后重试",
        ErrorCode::StorageUnavailable => "服务暂时不可用,请稍后重试",
        ErrorCode::ProviderRejected => "支付渠道拒绝了这笔交易,请联系商户",
        ErrorCode::MethodUnavailable => "暂不支持这种支付方式",
        ErrorCode::BodyEmpty => "请求体为空,需要 JSON",
        ErrorCode::BodyNotJson => "请求体不是有效的 JSON",
        ErrorCode::FieldMissing => "缺少必填字段",
        ErrorCode::FieldInvalid => "请求字段有误",
        ErrorCode::ParameterInvalid => "请求参数不正确",
        ErrorCode::BodyTooLarge => "请求体过大",
        ErrorCode::BodyTimeout => "请求体发送过慢,已超时",
        ErrorCode::RateLimited => "请求过于频繁,请按 Retry-After 的秒数稍后重试",
        ErrorCode::ServerBusy => "服务器繁忙,请稍后重试",
        ErrorCode::StreamsFull => "实时更新连接已满,请改用定时查询支付状态",
        ErrorCode::SignatureInvalid => "签名验证失败",
        ErrorCode::NotificationMalformed => "通知格式错误",
        ErrorCode::NotificationNotOurs => "通知与支付单不符",
        ErrorCode::ProcessingTimeout => "处理超时,请重试",
        ErrorCode::ApiKeyRequired => "需要商户 API 密钥(Authorization: Bearer …)",
        ErrorCode::ApiKeyInvalid => "商户 API 密钥无效",
        ErrorCode::ApiKeyRevoked => "商户 API 密钥已被吊销",
        ErrorCode::ReferenceInvalid => "商户订单号格式不正确",
        ErrorCode::ReferenceConflict => "该商户订单号已用于金额不同的订单",
        ErrorCode::ReturnUrlInvalid => "返回地址不正确",
        ErrorCode::IdempotencyKeyInvalid => "Idempotency-Key 格式不正确",
        ErrorCode::IdempotencyKeyReused => "该 Idempotency-Key 已用于参数不同的请求",
        ErrorCode::IdempotencyKeyInFlight => "使用该 Idempotency-Key 的请求仍在处理中,请稍后重试",
        ErrorCode::NotInProduction => "此功能仅在开发模式下可用",
        ErrorCode::CrossSiteRequest => "拒绝来自其他网站的请求",
        ErrorCode::Internal => "服务器内部错误,请稍后重试",
        ErrorCode::Network => "网络连接失败,请检查网络后重试",
    }
}

pub(super) fn en_error(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::OrderNotFound => "This order does not exist",
        ErrorCode::PaymentNotFound => "This payment does not exist",
        ErrorCode::WebhookDeliveryNotFound => "This webhook delivery does not exist",
        ErrorCode::OrderIdInvalid => "This is not a valid order number",
        ErrorCode::PaymentIdInvalid => "This is not a valid payment number",
        ErrorCode::OrderNotPayable => "This order cannot be paid",
        ErrorCode::AmountInvalid => "The amount is not valid",
        ErrorCode::DescriptionTooLong => "The description can be at most 200 characters",
        ErrorCode::DescriptionInvalid => {
            "The description cannot contain control or text-direction characters"
        }
        ErrorCode::AmountMismatch => "The amount does not match the payment",
        ErrorCode::ProviderUnavailable => {
            "The payment provider is unavailable right now, please try again shortly"
        }
        ErrorCode::StorageUnavailable => {
            "The service is unavailable right now, please try again shortly"
        }
        ErrorCode::ProviderRejected => {
            "The payment provider refused this transaction; please contact the shop"
        }
        ErrorCode::MethodUnavailable => "This payment method is not available",
        ErrorCode::BodyEmpty => "The request body is empty; JSON is expected",
        ErrorCode::BodyNotJson => "The request body is not valid JSON",
        ErrorCode::FieldMissing => "A required field is missing",
        ErrorCode::FieldInvalid => "A field of the request is not valid",
        ErrorCode::ParameterInvalid => "A parameter of the request is not valid",
        ErrorCode::BodyTooLarge => "The request body is too large",
        ErrorCode::BodyTimeout => "The request body arrived too slowly",
        ErrorCode::RateLimited => {
            "Too many requests from this address; retry after the seconds in Retry-After"
        }
        ErrorCode::ServerBusy => "The server is busy, please try again shortly",
        ErrorCode::StreamsFull => {
            "Too many live-update connections are open; read the payment status instead (polling)"
        }
        ErrorCode::SignatureInvalid => "The signature could not be verified",
        ErrorCode::NotificationMalformed => "The notification is malformed",
        ErrorCode::NotificationNotOurs => "The notification does not match the payment",
        ErrorCode::ProcessingTimeout => "Processing took too long, please retry",
        ErrorCode::ApiKeyRequired => "A merchant API key is required (Authorization: Bearer …)",
        ErrorCode::ApiKeyInvalid => "The merchant API key is not valid",
        ErrorCode::ApiKeyRevoked => "The merchant API key has been revoked",
        ErrorCode::ReferenceInvalid => "The order reference is not valid",
        ErrorCode::ReferenceConflict => {
            "This order reference is already used by an order with another amount"
        }
        ErrorCode::ReturnUrlInvalid => "The return URL is not valid",
        ErrorCode::IdempotencyKeyInvalid => "The Idempotency-Key is not valid",
        ErrorCode::IdempotencyKeyReused => {
            "This Idempotency-Key was used for a request with other parameters"
        }
        ErrorCode::IdempotencyKeyInFlight => {
            "A request with this Idempotency-Key is still in progress; retry shortly"
        }
        ErrorCode::NotInProduction => "This is only available in development mode",
        ErrorCode::CrossSiteRequest => "Requests from other websites are refused",
        ErrorCode::Internal => "Something went wrong on the server, please try again shortly",
        ErrorCode::Network => "Network connection failed, check your connection and try again",
    }
}
