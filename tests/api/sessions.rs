//! Sign-in sessions and their keys (issue 12, defect 8): key-file algorithms
//! never fall back to a secret.

use kaohe_api::auth::settings::JwtAlgorithm;

use crate::helpers::fresh;

#[tokio::test]
async fn a_key_file_algorithm_without_its_files_refuses_to_start() {
    for algorithm in [JwtAlgorithm::Rs256, JwtAlgorithm::EdDsa] {
        let mut fresh = fresh().await;
        fresh.settings.auth.algorithm = algorithm;
        // A secret set alongside is no way around it.
        fresh.settings.auth.secret = Some("0123456789abcdef0123456789abcdef".into());
        let e = match kaohe_api::Application::build(fresh.settings.clone()).await {
            Ok(_) => panic!("{algorithm:?} started without key files"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("JWT_PRIVATE_KEY_FILE"), "{e}");
        assert!(!e.contains("0123456789abcdef"), "{e}");
        assert!(!fresh.settings.data_dir.join("jwt-secret").exists(), "no HS256 secret was made instead");
    }
}
