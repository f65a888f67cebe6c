import Foundation
import Hummingbird
import ViceCore
import ViceServer

extension Dashboard {
    func deploymentsPage(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let deployments = try await registry.deployments(owner: visitor.user, page: PageRequest(limit: PageRequest.maximumLimit, marker: Query(request: request).string("marker")))
        let rows: [[HTML]] = deployments.items.map { deployment in
            let id = deployment.id ?? ""
            return [HTML("<a href=\"/ui/images/\(deployment.imageid ?? "")\">\(deployment.title ?? deployment.imageid ?? "?")</a>"),
                    HTML("<a href=\"/ui/environments/\(deployment.environmentId ?? "")\">\(deployment.environmentId ?? "?")</a>"),
                    HTML("<span data-deployment-status=\"\(id)\">\(Markup.status(deployment.status?.rawValue))</span>"),
                    HTML("\(deployment.environmentReference ?? "—")"), HTML("\(Markup.date(deployment.createdAt))"),
                    Markup.apiButton("Remove", method: "DELETE", path: "/v1/deployment/\(id)",
                                     confirm: "Take this deployment out of its environment?", style: "danger")]
        }
        let next = Markup.nextPage(deployments.nextLink(for: request))
        let body: HTML = """
            <h1>Deployments</h1>
            \(Markup.table(caption: "Your deployments", headers: ["Image", "Environment", "Status", "Reference", "Created", ""],
                           rows: rows, empty: "No deployments yet: deploy an image from its page."))
            \(next)
            """
        return Self.html(Layout.page(title: "Deployments", visitor: visitor, current: "/ui/deployments", body: body))
    }

    func jobsPage(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let query = Query(request: request)
        var states: Set<JobState> = []
        if let state = query.string("state").flatMap(JobState.init(apiName:)) { states = [state] }
        let jobs = try await registry.jobs(JobQuery(states: states, page: PageRequest(limit: 50, marker: query.string("marker"))),
                                           owner: visitor.user)
        let rows: [[HTML]] = jobs.items.map { job in
            let subject: HTML = job.imageId.map { HTML("<a href=\"/ui/images/\($0)\">image \($0)</a>") }
                ?? job.deploymentId.map { HTML("deployment \($0)") } ?? "—"
            let percent = job.bytesTotal.flatMap { total in total > 0 ? Int((Double(job.bytesDone ?? 0) / Double(total)) * 100) : nil }
            var actions: [HTML] = []
            if job.state == "queued" || job.state == "running" {
                actions.append(Markup.apiButton("Cancel", method: "DELETE", path: "/v1/jobs/\(job.id)", confirm: "Cancel this job?"))
            }
            if job.state == "failed" || job.state == "cancelled" {
                actions.append(Markup.apiButton("Retry", method: "POST", path: "/v1/jobs/\(job.id)/retry"))
            }
            return [HTML("<span id=\"job-\(job.id)\">\(job.kind)</span>"), subject,
                    HTML("<span data-job-state=\"\(job.id)\">\(Markup.status(job.state))</span>"),
                    HTML("<progress data-job-progress=\"\(job.id)\" max=\"100\" value=\"\(percent ?? 0)\" aria-label=\"Progress of job \(job.id)\">\(percent ?? 0)%</progress> <span data-job-phase=\"\(job.id)\">\(job.phase ?? "")</span>"),
                    HTML("\(job.error?.message ?? job.note ?? "")"), HTML("\(Markup.date(job.createdAt))"), HTML("\(actions)")]
        }
        let stateOptions = [("", "any")] + ["queued", "running", "succeeded", "failed", "cancelled"].map { ($0, $0) }
        // (The link keeps the state filter.)
        let next = Markup.nextPage(jobs.nextLink(for: request))
        let body: HTML = """
            <h1>Jobs</h1>
            <form method="get" action="/ui/jobs" class="filters">\(Markup.select("State", name: "state", options: stateOptions, selected: query.string("state")))
            <button type="submit">Show</button></form>
            \(Markup.table(caption: "Your jobs, newest first", headers: ["Kind", "Subject", "State", "Progress", "Note", "Created", ""],
                           rows: rows, empty: "No jobs."))
            \(next)
            """
        return Self.html(Layout.page(title: "Jobs", visitor: visitor, current: "/ui/jobs", body: body))
    }
}
