import ViceCore

/// The frame of every page: skip link, navigation, the sign-out form, the CSRF token for the
/// script, and the main content.
enum Layout {
    static let sections: [(path: String, title: String)] = [
        ("/ui/images", "Images"), ("/ui/environments", "Environments"), ("/ui/deployments", "Deployments"),
        ("/ui/jobs", "Jobs"), ("/ui/account", "Account"),
    ]

    static func page(title: String, visitor: Visitor?, current: String? = nil, body: HTML) -> HTML {
        var navigation: HTML = ""
        if let visitor {
            var links = sections
            if visitor.user.isAdmin { links.append(("/ui/admin", "Admin")) }
            let items = links.map { link in
                HTML("<li><a href=\"\(link.path)\"\(HTML(raw: link.path == current ? " aria-current=\"page\"" : ""))>\(link.title)</a></li>")
            }
            navigation = """
                <nav aria-label="Main"><ul>\(items)</ul></nav>
                <form class="signout" method="post" action="/ui/logout">
                <input type="hidden" name="csrf" value="\(visitor.csrf)">
                <span class="who">\(visitor.user.username)</span> <button type="submit">Sign out</button></form>
                """
        }
        let csrf: HTML = visitor.map { HTML("<meta name=\"vice-csrf\" content=\"\($0.csrf)\">") } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            \(csrf)<title>\(title) · ViCE Registry</title>
            <link rel="stylesheet" href="/ui/assets/dashboard.css">
            <script src="/ui/assets/dashboard.js" defer></script>
            </head><body>
            <a class="skip" href="#main">Skip to the content</a>
            <header><a class="brand" href="/ui/images">ViCE Registry</a>\(navigation)</header>
            <main id="main" tabindex="-1">\(body)</main>
            <div id="notice" role="status" aria-live="polite"></div>
            </body></html>
            """
    }
}
