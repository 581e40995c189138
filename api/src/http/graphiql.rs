//! GraphiQL, served entirely from the binary (no CDN): the page, a small
//! start script, and the vendored graphiql 3.9.0 / react 18.3.1 UMD builds
//! in `api/assets/` (licenses alongside).

use actix_web::http::header;
use actix_web::{HttpResponse, web};

const JS: &str = "application/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// (file name, content type, bytes) of every asset under `/graphiql/`.
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    ("react.production.min.js", JS, include_bytes!("../../assets/react.production.min.js")),
    ("react-dom.production.min.js", JS, include_bytes!("../../assets/react-dom.production.min.js")),
    ("graphiql.min.js", JS, include_bytes!("../../assets/graphiql.min.js")),
    ("graphiql.min.css", CSS, include_bytes!("../../assets/graphiql.min.css")),
    ("start.js", JS, START_JS.as_bytes()),
];

const START_JS: &str = r#"(function () {
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: true,
    defaultQuery: '# kaohe (督导考核) — try:\n{\n  organisations(first: 5) {\n    totalCount\n    edges { node {\n      code\n      name\n      rubrics(first: 3) { edges { node { code currentVersion { label regime scale baseMaxTotal } } } }\n    } }\n  }\n}\n'
  }));
})();
"#;

const PAGE: &str = r#"<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>kaohe GraphiQL</title>
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script src="/graphiql/start.js"></script>
</body>
</html>
"#;

/// Only our own origin; inline styles are used by GraphiQL and the page.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// The GraphiQL page.
pub fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(PAGE)
}

/// `GET /graphiql/{file}`.
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(name, _, _)| *name == file.as_str()) {
        Some((_, content_type, bytes)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(*bytes),
        None => HttpResponse::NotFound().finish(),
    }
}
