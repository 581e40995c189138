use crate::helpers::spawn_app;

#[tokio::test]
async fn graphiql_is_served_from_the_binary_without_any_cdn() {
    let app = spawn_app().await;
    let res = app.client.get(format!("{}/graphql", app.address)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = res.text().await.unwrap();
    for cdn in ["http://", "https://", "//unpkg", "jsdelivr", "esm.sh", "cdn"] {
        assert!(!html.contains(cdn), "page references {cdn}");
    }
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().unwrap();
            assert!(url.starts_with("/graphiql/"), "non-local asset {url}");
            assets.push(url.to_string());
        }
    }
    assert_eq!(assets.len(), 5, "{assets:?}");
    for url in assets {
        let res = app.client.get(format!("{}{url}", app.address)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        let expected = if url.ends_with(".css") { "text/css" } else { "application/javascript" };
        assert!(ct.starts_with(expected), "{url}: {ct}");
        let body = res.bytes().await.unwrap();
        assert!(body.len() > 100, "{url} is empty");
    }
    let missing = app.client.get(format!("{}/graphiql/nope.js", app.address)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}
