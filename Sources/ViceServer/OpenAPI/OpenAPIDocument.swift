/// The OpenAPI 3 description of the control API (`OpenAPI/openapi.json`, embedded at build time).
public enum OpenAPIDocument {
    public static var json: [UInt8] { PackageResources.openapi_json }
}
