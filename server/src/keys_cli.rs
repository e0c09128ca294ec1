//! `server keys create <name> | list | revoke <key_id>`: the merchant's API keys, managed on the
//! machine that runs scanpay (same `DATABASE_URL`). A created key is printed once, on stdout
//! alone so a script can capture it; only its hash is stored.
use crate::config::MerchantSettings;
use payments::api_keys::{self, ApiKey};
use payments::store::Store;

const USAGE: &str =
    "usage: server keys create <name> | server keys list | server keys revoke <key_id>";

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn line(key: &ApiKey) -> String {
    let state = match key.revoked_at_ms {
        Some(at) => format!("revoked {}", when(at)),
        None => "active".to_string(),
    };
    format!(
        "{}\t{}\tcreated {}\t{state}",
        key.id,
        key.name,
        when(key.created_at_ms)
    )
}

/// Runs `args` (after `keys`); the process's exit code.
pub async fn run(args: &[String]) -> i32 {
    let merchant = match MerchantSettings::from_env() {
        Ok(merchant) => merchant,
        Err(e) => {
            eprintln!("scanpay: configuration: {e}");
            return 2;
        }
    };
    let store = match Store::connect(merchant.database_url.expose()).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("scanpay: database {}: {e}", merchant.database_for_logs());
            return 2;
        }
    };
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["create", name @ ..] if !name.is_empty() => {
            api_keys::create(&store, &name.join(" ")).await.map(|new| {
                eprintln!(
                    "created {} ({}). The key follows; it is shown only now:",
                    new.key.id, new.key.name
                );
                println!("{}", new.secret_key);
            })
        }
        ["list"] => api_keys::list(&store).await.map(|keys| {
            if keys.is_empty() {
                eprintln!("no API keys: create one with `server keys create <name>`");
            }
            for key in keys {
                println!("{}", line(&key));
            }
        }),
        ["revoke", id] => api_keys::revoke(&store, id)
            .await
            .map(|()| eprintln!("revoked {id}: requests with it are refused (403)")),
        _ => {
            eprintln!("{USAGE}");
            return 2;
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("scanpay: keys: {e}");
            1
        }
    }
}
