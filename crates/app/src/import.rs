//! `toolhub import FILE`: an export or an `mcpServers` file into a running Toolhub.

/// Posts a file to a Toolhub's import endpoint and prints the report; a refusal is an error
/// with the problem's detail.
pub async fn run(args: &crate::config::ImportArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let body: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", args.file.display()))?;
    let base = args.url.trim_end_matches('/');
    let url = format!("{base}/api/v1/import?dry_run={}&conflicts={}", args.dry_run, args.conflicts);
    let mut request = reqwest::Client::new().post(url).bearer_auth(&args.key).json(&body);
    if let Some(passphrase) = &args.passphrase {
        request = request.header("X-Toolhub-Passphrase", passphrase);
    }
    let reply = request.send().await.context("cannot reach Toolhub")?;
    let status = reply.status();
    let answer: serde_json::Value = reply.json().await.unwrap_or_default();
    if !status.is_success() {
        let detail = answer["detail"].as_str().unwrap_or("no detail");
        anyhow::bail!("the import was refused ({status}): {detail} {}", answer["errors"]);
    }
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}
