//! The sandbox's test merchants, one per protocol, with every id and key a real integration is
//! given; generated once and kept in the store.
use crate::keys::{
    random_alphanumeric, random_digits, random_upper_hex, KeyError, RsaKey, StoredKey,
};
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::Row;

#[derive(Debug, thiserror::Error)]
pub enum MerchantsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sandbox merchant keys: {0}")]
    Key(#[from] KeyError),
    #[error("stored sandbox merchants unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
}

impl From<sqlx::Error> for MerchantsError {
    fn from(e: sqlx::Error) -> Self {
        MerchantsError::Store(StoreError::Database(e))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredMerchants {
    wechatpay: StoredWechatpay,
    alipay: StoredAlipay,
    forger: StoredKey,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredWechatpay {
    mchid: String,
    appid: String,
    merchant_serial_no: String,
    merchant_key: StoredKey,
    public_key_id: String,
    platform_key: StoredKey,
    api_v3_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredAlipay {
    app_id: String,
    seller_id: String,
    app_key: StoredKey,
    alipay_key: StoredKey,
}

#[derive(Debug)]
pub struct WechatpayMerchant {
    pub mchid: String,
    pub appid: String,
    /// The serial of the merchant's API certificate (40 upper hex).
    pub merchant_serial_no: String,
    /// The merchant's API key pair: the sandbox verifies with its public half.
    pub merchant_key: RsaKey,
    /// `PUB_KEY_ID_…`: names the WeChat Pay public key in `Wechatpay-Serial`.
    pub public_key_id: String,
    /// WeChat Pay's own key: answers and notifications are signed with it.
    pub platform_key: RsaKey,
    pub api_v3_key: String,
}

#[derive(Debug)]
pub struct AlipayMerchant {
    pub app_id: String,
    /// The merchant's Alipay account (2088…), as seller_id in notifications.
    pub seller_id: String,
    pub app_key: RsaKey,
    pub alipay_key: RsaKey,
}

#[derive(Debug)]
pub struct Merchants {
    pub wechatpay: WechatpayMerchant,
    pub alipay: AlipayMerchant,
    /// Signs forged answers (fault `forgedAnswers`): a key no merchant trusts.
    pub forger: RsaKey,
}

async fn generate() -> Result<StoredMerchants, MerchantsError> {
    let keys = (0..5).map(|_| tokio::task::spawn_blocking(RsaKey::generate));
    let mut generated = Vec::with_capacity(5);
    for key in futures::future::join_all(keys).await {
        generated.push(key.map_err(|e| KeyError::Generate(e.to_string()))??);
    }
    let [merchant_key, platform_key, app_key, alipay_key, forger]: [StoredKey; 5] =
        generated.try_into().expect("five keys were generated");
    Ok(StoredMerchants {
        wechatpay: StoredWechatpay {
            mchid: format!("1{}", random_digits(9)),
            appid: format!("wx{}", random_upper_hex(16).to_lowercase()),
            merchant_serial_no: random_upper_hex(40),
            merchant_key,
            public_key_id: format!("PUB_KEY_ID_01{}", random_digits(30)),
            platform_key,
            api_v3_key: random_alphanumeric(32),
        },
        alipay: StoredAlipay {
            app_id: format!("2021{}", random_digits(12)),
            seller_id: format!("2088{}", random_digits(12)),
            app_key,
            alipay_key,
        },
        forger,
    })
}

impl Merchants {
    /// The stored merchants, or new ones stored now (when several processes start together,
    /// the first to store wins and the others read its).
    pub async fn load_or_generate(store: &Store) -> Result<Self, MerchantsError> {
        let stored = match Self::read(store).await? {
            Some(stored) => stored,
            None => {
                let generated = generate().await?;
                sqlx::query(
                    "INSERT INTO merchants (id, body) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                )
                .bind(serde_json::to_string(&generated)?)
                .execute(store.write_pool())
                .await?;
                Self::read(store)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("merchants row missing".into()))?
            }
        };
        let StoredMerchants {
            wechatpay: w,
            alipay: a,
            forger,
        } = stored;
        Ok(Self {
            wechatpay: WechatpayMerchant {
                mchid: w.mchid,
                appid: w.appid,
                merchant_serial_no: w.merchant_serial_no,
                merchant_key: RsaKey::load(w.merchant_key)?,
                public_key_id: w.public_key_id,
                platform_key: RsaKey::load(w.platform_key)?,
                api_v3_key: w.api_v3_key,
            },
            alipay: AlipayMerchant {
                app_id: a.app_id,
                seller_id: a.seller_id,
                app_key: RsaKey::load(a.app_key)?,
                alipay_key: RsaKey::load(a.alipay_key)?,
            },
            forger: RsaKey::load(forger)?,
        })
    }

    async fn read(store: &Store) -> Result<Option<StoredMerchants>, MerchantsError> {
        let row = sqlx::query("SELECT body FROM merchants WHERE id = 1")
            .fetch_optional(store.pool())
            .await?;
        match row {
            Some(row) => Ok(Some(serde_json::from_str(&row.try_get::<String, _>(0)?)?)),
            None => Ok(None),
        }
    }
}

/// Everything a merchant integration needs to talk to the sandbox (`GET /sandbox/credentials`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub wechatpay: WechatpayCredentials,
    pub alipay: AlipayCredentials,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WechatpayCredentials {
    /// `baseUrl` + `/v3/pay/transactions/native` is the create call.
    pub base_url: String,
    pub mchid: String,
    pub appid: String,
    pub merchant_serial_no: String,
    pub merchant_private_key_pem: String,
    pub public_key_id: String,
    pub public_key_pem: String,
    pub api_v3_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlipayCredentials {
    pub gateway: String,
    pub app_id: String,
    pub app_private_key_pem: String,
    pub alipay_public_key_pem: String,
}

impl Merchants {
    pub fn credentials(&self, public_url: &str) -> Credentials {
        let w = &self.wechatpay;
        let a = &self.alipay;
        Credentials {
            wechatpay: WechatpayCredentials {
                base_url: format!("{public_url}{}", crate::wechatpay::PREFIX),
                mchid: w.mchid.clone(),
                appid: w.appid.clone(),
                merchant_serial_no: w.merchant_serial_no.clone(),
                merchant_private_key_pem: w.merchant_key.private_pem().to_string(),
                public_key_id: w.public_key_id.clone(),
                public_key_pem: w.platform_key.public_pem().to_string(),
                api_v3_key: w.api_v3_key.clone(),
            },
            alipay: AlipayCredentials {
                gateway: format!("{public_url}{}", crate::alipay::GATEWAY_PATH),
                app_id: a.app_id.clone(),
                app_private_key_pem: a.app_key.private_pem().to_string(),
                alipay_public_key_pem: a.alipay_key.public_pem().to_string(),
            },
        }
    }
}
