//! Demo auto-pay: every trade is paid after a random delay chosen at create and stored with
//! it, so it survives restarts. For Alipay the "buyer" scans first, then pays.
use crate::buyer::{Approval, BuyerError};
use crate::trades;
use crate::Sandbox;
use rand::Rng;

impl Sandbox {
    /// When a new trade pays itself, if auto-pay is on.
    pub(crate) fn autopay_at(&self, now_ms: i64) -> Option<i64> {
        let range = self.config.autopay_secs.clone()?;
        let secs = rand::rng().random_range(range);
        Some(now_ms + secs as i64 * 1000)
    }

    pub(crate) async fn run_autopay(&self) {
        if self.config.autopay_secs.is_none() {
            return;
        }
        loop {
            if let Err(e) = self.autopay_due().await {
                tracing::warn!("sandbox auto-pay: {e}");
            }
            tokio::time::sleep(self.config.tick).await;
        }
    }

    async fn autopay_due(&self) -> Result<(), BuyerError> {
        for (provider, out_trade_no) in trades::autopay_due(&self.store, 100).await? {
            match self.approve(provider, &out_trade_no).await {
                Ok(Approval::Paid) => tracing::info!(out_trade_no, "sandbox auto-pay: paid"),
                Ok(Approval::Refused) => {
                    tracing::info!(out_trade_no, "sandbox auto-pay: the bank refused")
                }
                // Settled or closed meanwhile: nothing to pay.
                Err(BuyerError::Final(_) | BuyerError::Unknown) => {}
                Err(e) => return Err(e),
            }
            trades::clear_autopay(&self.store, provider, &out_trade_no).await?;
        }
        Ok(())
    }
}
