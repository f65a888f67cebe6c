/// The OpenAPI 3 description of the control API (`OpenAPI/openapi.json`, embedded at build time).
package enum OpenAPIDocument {
    package static var json: [UInt8] { PackageResources.openapi_json }
}
