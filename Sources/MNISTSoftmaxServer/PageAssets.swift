import FoundationEssentials

/// The files of the page (Page/ in this target: index.html, page.css, page.js for the draw view,
/// train.js for the Train view), compiled into the
/// binary by SwiftPM's `embedInCode`, by the path a browser asks for. Nothing on the page comes
/// from another host.
enum PageAssets {
    struct Asset: Sendable {
        let contentType: String
        let bytes: Data
    }

    /// "/" → index.html, "/page.css", "/page.js", "/train.js".
    static let byPath: [String: Asset] = [
        "/": Asset(contentType: "text/html; charset=utf-8", bytes: Data(PackageResources.index_html)),
        "/page.css": Asset(contentType: "text/css; charset=utf-8", bytes: Data(PackageResources.page_css)),
        "/page.js": Asset(contentType: "text/javascript; charset=utf-8", bytes: Data(PackageResources.page_js)),
        "/train.js": Asset(contentType: "text/javascript; charset=utf-8", bytes: Data(PackageResources.train_js)),
    ]
}
