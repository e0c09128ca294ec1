//! Every sentence a shopper reads, per language: the page's words, and each error code's.
use super::error_texts::{en_error, zh_error};
use super::Lang;
use crate::error::{ApiError, ErrorCode};
use crate::format::decimal;
use payments::money::AmountError;
use payments::status::{PaymentFailure, PaymentMethod};

/// Every text a shopper reads, in one language.
pub struct Texts {
    pub lang: Lang,
    pub title: &'static str,
    pub switch_to: &'static str,
    pub back_home: &'static str,
    pub retry: &'static str,
    pub creating: &'static str,
    // Home
    pub new_order: &'static str,
    pub amount_label: &'static str,
    pub description_label: &'static str,
    pub default_description: &'static str,
    pub create_and_pay: &'static str,
    pub amount_not_positive: &'static str,
    pub amount_too_precise: &'static str,
    pub amount_too_large: &'static str,
    pub amount_not_a_number: &'static str,
    // Payment page
    pub scan_to_pay: &'static str,
    pub creating_payment: &'static str,
    pub amount_aria: &'static str,
    pub choose_method: &'static str,
    /// The provider's own name for its app's payment (微信支付, 支付宝).
    pub method_name: fn(PaymentMethod) -> &'static str,
    pub qr_alt: fn(PaymentMethod) -> &'static str,
    pub expiring_soon: &'static str,
    pub time_left: &'static str,
    pub scan_hint: fn(PaymentMethod) -> &'static str,
    /// What the page has heard while polling carries it (no count before the first check).
    pub checked: fn(u32) -> String,
    /// The event stream (or a long-poll) is open: a change shows at once.
    pub connected_waiting: &'static str,
    pub reconnecting: &'static str,
    pub retry_now: &'static str,
    pub open_in_app: fn(PaymentMethod) -> &'static str,
    pub copy_link: &'static str,
    pub copied: &'static str,
    pub paid_title: &'static str,
    pub redirecting: &'static str,
    pub view_order: &'static str,
    /// The paid page's way back when the shop gave a return URL.
    pub back_to_shop: &'static str,
    pub expired_title: &'static str,
    pub expired_detail: &'static str,
    pub failed_title: &'static str,
    /// Why a payment failed, in the shopper's words (never the provider's Chinese text).
    pub failure: fn(PaymentFailure) -> &'static str,
    pub closed_title: &'static str,
    pub closed_detail: &'static str,
    pub pay_again: &'static str,
    pub back_to_order: &'static str,
    pub announce_pending: &'static str,
    pub announce_paid: &'static str,
    pub announce_expired: &'static str,
    pub announce_failed: &'static str,
    pub announce_closed: &'static str,
    pub order_not_found: &'static str,
    pub order_not_found_hint: &'static str,
    pub cannot_pay: &'static str,
    pub unreachable: &'static str,
    pub unreachable_hint: &'static str,
    // Order page
    pub loading_order: &'static str,
    pub cannot_show_order: &'static str,
    pub order_details: &'static str,
    pub order_id: &'static str,
    pub merchant: &'static str,
    pub description: &'static str,
    /// An order the shop gave no description.
    pub untitled_order: &'static str,
    pub amount: &'static str,
    pub status: &'static str,
    pub paid_at: &'static str,
    pub order_pending: &'static str,
    pub order_paid: &'static str,
    pub go_pay: &'static str,
    /// After paying, from the order page: a new order on the demo shop.
    pub order_again: &'static str,
    pub page_not_found: &'static str,
}

impl Texts {
    pub fn amount_error(&self, e: &AmountError) -> &'static str {
        match e {
            AmountError::NotPositive => self.amount_not_positive,
            AmountError::TooPrecise => self.amount_too_precise,
            AmountError::TooLarge => self.amount_too_large,
            AmountError::NotANumber => self.amount_not_a_number,
        }
    }

    /// An error as the shopper reads it, by its code: the sentences live here, not in the
    /// domain, so each language says what happened in its own words.
    pub fn error(&self, code: ErrorCode) -> &'static str {
        match self.lang {
            Lang::Zh => zh_error(code),
            Lang::En => en_error(code),
        }
    }

    pub fn api_error(&self, e: &ApiError) -> &'static str {
        self.error(e.code)
    }
}

pub static ZH: Texts = Texts {
    lang: Lang::Zh,
    title: "scanpay 扫码支付",
    switch_to: "English",
    back_home: "返回首页",
    retry: "重试",
    creating: "正在创建...",
    new_order: "新建订单",
    amount_label: "金额(元)",
    description_label: "商品描述",
    default_description: "机械键盘",
    create_and_pay: "创建订单并支付",
    amount_not_positive: "金额必须大于 0",
    amount_too_precise: "金额最多两位小数",
    amount_too_large: "金额不能超过 ¥1,000,000.00",
    amount_not_a_number: "金额必须是数字",
    scan_to_pay: "扫码支付",
    creating_payment: "正在创建支付单...",
    amount_aria: "支付金额",
    choose_method: "选择支付方式",
    method_name: |method| match method {
        PaymentMethod::WechatPay => "微信支付",
        PaymentMethod::Alipay => "支付宝",
    },
    qr_alt: |method| match method {
        PaymentMethod::WechatPay => "微信支付二维码",
        PaymentMethod::Alipay => "支付宝支付二维码",
    },
    expiring_soon: "即将过期,请尽快支付",
    time_left: "剩余支付时间",
    scan_hint: |method| match method {
        PaymentMethod::WechatPay => "打开微信,使用“扫一扫”扫描二维码完成支付",
        PaymentMethod::Alipay => "打开支付宝,使用“扫一扫”扫描二维码完成支付",
    },
    checked: |n| match n {
        0 => "正在等待支付结果…".to_string(),
        n => ["正在等待支付结果… (已检查 ", &decimal(n.into()), " 次)"].concat(),
    },
    connected_waiting: "已连接,等待支付结果",
    reconnecting: "网络不稳定,正在重新连接…",
    retry_now: "立即重试",
    open_in_app: |method| match method {
        PaymentMethod::WechatPay => "在微信中打开",
        PaymentMethod::Alipay => "在支付宝中打开",
    },
    copy_link: "复制支付链接",
    copied: "已复制",
    paid_title: "支付成功",
    redirecting: "即将自动跳转…",
    view_order: "查看订单",
    back_to_shop: "返回商户",
    expired_title: "支付超时",
    expired_detail: "二维码已过期,重新支付将生成新的二维码",
    failed_title: "支付失败",
    failure: |failure| match failure {
        PaymentFailure::DeclinedByPayer => "你已在钱包中拒绝了这笔付款",
        PaymentFailure::InsufficientBalance => "余额不足,付款未成功",
        PaymentFailure::Other => "支付未完成",
    },
    closed_title: "支付单已关闭",
    closed_detail: "该支付单已被新的支付单取代",
    pay_again: "重新支付",
    back_to_order: "返回订单",
    announce_pending: "等待支付",
    announce_paid: "支付成功,即将自动跳转",
    announce_expired: "支付超时,二维码已过期",
    announce_failed: "支付失败",
    announce_closed: "支付单已关闭",
    order_not_found: "订单不存在",
    order_not_found_hint: "请检查链接是否正确,或返回首页重新下单。",
    cannot_pay: "无法发起支付",
    unreachable: "暂时无法连接服务器",
    unreachable_hint: "请检查网络后重试。",
    loading_order: "正在加载订单...",
    cannot_show_order: "无法显示订单",
    order_details: "订单详情",
    order_id: "订单号",
    merchant: "商户",
    description: "商品",
    untitled_order: "扫码支付订单",
    amount: "金额",
    status: "状态",
    paid_at: "支付时间",
    order_pending: "待支付",
    order_paid: "已支付",
    go_pay: "去支付",
    order_again: "再下一单",
    page_not_found: "页面不存在",
};

pub static EN: Texts = Texts {
    lang: Lang::En,
    title: "scanpay · Scan to pay",
    switch_to: "中文",
    back_home: "Back to home",
    retry: "Try again",
    creating: "Creating…",
    new_order: "New order",
    amount_label: "Amount (CNY)",
    description_label: "Description",
    default_description: "Mechanical keyboard",
    create_and_pay: "Create order and pay",
    amount_not_positive: "The amount must be greater than 0",
    amount_too_precise: "The amount can have at most two decimals",
    amount_too_large: "The amount cannot exceed ¥1,000,000.00",
    amount_not_a_number: "The amount must be a number",
    scan_to_pay: "Scan to pay",
    creating_payment: "Creating the payment…",
    amount_aria: "Amount to pay",
    choose_method: "Choose how to pay",
    method_name: |method| match method {
        PaymentMethod::WechatPay => "WeChat Pay",
        PaymentMethod::Alipay => "Alipay",
    },
    qr_alt: |method| match method {
        PaymentMethod::WechatPay => "WeChat Pay QR code",
        PaymentMethod::Alipay => "Alipay QR code",
    },
    expiring_soon: "Expires soon — pay now",
    time_left: "Time left to pay",
    scan_hint: |method| match method {
        PaymentMethod::WechatPay => "Open WeChat, tap Scan and scan this code to pay",
        PaymentMethod::Alipay => "Open Alipay, tap Scan and scan this code to pay",
    },
    checked: |n| match n {
        0 => "Waiting for the payment…".to_string(),
        1 => "Waiting for the payment… (1 check so far)".to_string(),
        n => [
            "Waiting for the payment… (",
            &decimal(n.into()),
            " checks so far)",
        ]
        .concat(),
    },
    connected_waiting: "Connected — waiting for the payment",
    reconnecting: "Connection unstable, reconnecting…",
    retry_now: "Retry now",
    open_in_app: |method| match method {
        PaymentMethod::WechatPay => "Open in WeChat",
        PaymentMethod::Alipay => "Open in Alipay",
    },
    copy_link: "Copy payment link",
    copied: "Copied",
    paid_title: "Payment received",
    redirecting: "Taking you on in a moment…",
    view_order: "View order",
    back_to_shop: "Back to the shop",
    expired_title: "Payment timed out",
    expired_detail: "This QR code has expired. Paying again gives you a new one.",
    failed_title: "Payment failed",
    failure: |failure| match failure {
        PaymentFailure::DeclinedByPayer => "You declined this payment in your wallet",
        PaymentFailure::InsufficientBalance => {
            "Your balance was not enough; the payment did not go through"
        }
        PaymentFailure::Other => "The payment did not go through",
    },
    closed_title: "Payment closed",
    closed_detail: "A newer payment replaced this one",
    pay_again: "Pay again",
    back_to_order: "Back to order",
    announce_pending: "Waiting for payment",
    announce_paid: "Payment received, taking you on in a moment",
    announce_expired: "Payment timed out, the QR code has expired",
    announce_failed: "Payment failed",
    announce_closed: "Payment closed",
    order_not_found: "This order does not exist",
    order_not_found_hint: "Check the link, or go back and place the order again.",
    cannot_pay: "This order cannot be paid",
    unreachable: "Cannot reach the server right now",
    unreachable_hint: "Check your connection and try again.",
    loading_order: "Loading the order…",
    cannot_show_order: "Cannot show this order",
    order_details: "Order details",
    order_id: "Order",
    merchant: "Merchant",
    description: "Item",
    untitled_order: "Scan-to-pay order",
    amount: "Amount",
    status: "Status",
    paid_at: "Paid at",
    order_pending: "Awaiting payment",
    order_paid: "Paid",
    go_pay: "Pay now",
    order_again: "Place another order",
    page_not_found: "Page not found",
};
