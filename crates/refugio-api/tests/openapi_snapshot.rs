//! The generated OpenAPI document is checked in (`openapi.json` beside this crate's manifest)
//! so every API change shows up in review. After an intended change, regenerate it with
//! `UPDATE_SNAPSHOTS=1 cargo nextest run -p refugio-api --test openapi_snapshot`.

use std::path::PathBuf;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

#[test]
fn openapi_document_matches_the_snapshot() {
    let generated = refugio_api::openapi::json() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(snapshot_path(), &generated).expect("write the snapshot");
    }
    let stored = std::fs::read_to_string(snapshot_path()).expect("openapi.json snapshot exists");
    assert!(
        stored == generated,
        "the OpenAPI document changed; review it and regenerate with UPDATE_SNAPSHOTS=1 (see this file's header)"
    );
}

#[test]
fn openapi_document_is_3_1_and_covers_the_contract() {
    let doc: serde_json::Value =
        serde_json::from_str(&refugio_api::openapi::json()).expect("valid JSON");
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1")));
    for path in [
        "/healthz",
        "/api/v1/auth/login",
        "/api/v1/shelters/{sid}",
        "/api/v1/audit/verify",
        "/api/v1/invitations/accept",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}
