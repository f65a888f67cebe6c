// A subset of bwLehrpool's bwlp.thrift, written for ViCE's test peer from the field tables of
// shared/reference/bwlehrpool.md (only what the adapter calls and the peer serves).
namespace py bwlp

typedef i64 int
typedef string Token
typedef string UUID
typedef i64 UnixTimestamp

enum AuthorizationError {
    GENERIC_ERROR, NOT_AUTHENTICATED, NO_PERMISSION, ACCOUNT_SUSPENDED, ORGANIZATION_SUSPENDED,
    INVALID_CREDENTIALS, INVALID_ORGANIZATION, INVALID_KEY, INVALID_TOKEN, CHALLENGE_FAILED, BANNED_NETWORK
}
enum InvocationError {
    MISSING_DATA, INVALID_DATA, UNKNOWN_IMAGE, UNKNOWN_USER, UNKNOWN_LECTURE, INVALID_SHARE_MODE, INTERNAL_SERVER_ERROR
}
enum ShareMode { LOCAL, PUBLISH, DOWNLOAD, FROZEN }
enum Role { STUDENT, TUTOR }
enum TransferState { IDLE, WORKING, FINISHED, ERROR }

struct UserInfo {
    1: string userId, 2: string firstName, 3: string lastName, 4: string eMail, 5: string organizationId,
    6: optional Role role,
}
struct WhoamiInfo { 1: UserInfo user, 2: bool isSuperUser, 3: bool canListImages, }
struct Satellite { 1: list<string> addressList, 2: string displayName, 3: binary certSha256, }
struct ClientSessionData { 1: Token sessionId, 2: Token authToken, 3: list<Satellite> satellites, 4: UserInfo userInfo, }
struct ImagePermissions { 1: bool link, 2: bool download, 3: bool edit, 4: bool admin, }
struct ImageBaseWrite {
    1: string imageName, 2: string description, 3: i32 osId, 4: string virtId, 5: bool isTemplate,
    6: ImagePermissions defaultPermissions, 7: ShareMode shareMode, 8: optional list<string> addTags,
    9: optional list<string> remTags,
}
struct ImageSummaryRead {
    1: UUID imageBaseId, 3: UUID latestVersionId, 4: string imageName, 23: string description, 5: i32 osId,
    6: string virtId, 7: UnixTimestamp createTime, 8: UnixTimestamp updateTime, 20: UnixTimestamp uploadTime,
    9: UnixTimestamp expireTime, 10: UUID ownerId, 11: UUID uploaderId, 12: ShareMode shareMode, 13: i64 fileSize,
    14: bool isRestricted, 15: bool isValid, 16: bool isProcessed, 17: bool isTemplate,
    18: ImagePermissions defaultPermissions, 19: optional ImagePermissions userPermissions,
    21: optional i64 fileSizeSum, 22: optional i32 versionCount,
}
struct ImageVersionDetails {
    1: UUID versionId, 2: UnixTimestamp createTime, 3: UnixTimestamp expireTime, 4: i64 fileSize, 5: UUID uploaderId,
    7: bool isRestricted, 8: bool isValid, 9: bool isProcessed, 10: list<string> software, 11: optional string imagePath,
}
struct ImageDetailsRead {
    1: UUID imageBaseId, 17: UUID latestVersionId, 3: list<ImageVersionDetails> versions, 4: string imageName,
    5: string description, 6: list<string> tags, 8: i32 osId, 9: string virtId, 10: UnixTimestamp createTime,
    11: UnixTimestamp updateTime, 12: UUID ownerId, 13: UUID updaterId, 14: ShareMode shareMode, 15: bool isTemplate,
    16: ImagePermissions defaultPermissions, 18: optional ImagePermissions userPermissions,
}
struct TransferInformation {
    1: Token token, 2: i32 plainPort, 3: i32 sslPort, 4: optional list<binary> blockHashes, 5: optional binary machineDescription,
}
struct TransferStatus { 1: binary blockStatus, 2: TransferState state, }
struct OperatingSystem {
    1: i32 osId, 2: string osName, 3: map<string, string> virtualizerOsId, 4: string architecture, 5: i32 maxMemMb, 6: i32 maxCores,
}

exception TTransferRejectedException { 1: string message, }
exception TAuthorizationException { 1: AuthorizationError number, 2: string message, }
exception TInvalidTokenException { }
exception TNotFoundException { 1: string message, }
exception TInvocationException { 1: InvocationError number, 2: string message, }

service SatelliteServer {
    int getVersion(1: int clientVersion),
    string getSupportedFeatures(),
    list<OperatingSystem> getOperatingSystems(),
    WhoamiInfo whoami(1: Token userToken) throws (1: TAuthorizationException authError, 2: TInvocationException serverError),
    list<ImageSummaryRead> getImageList(1: Token userToken, 2: list<string> tagSearch, 3: i32 page)
        throws (1: TAuthorizationException authError, 2: TInvocationException serverError),
    ImageDetailsRead getImageDetails(1: Token userToken, 2: UUID imageBaseId)
        throws (1: TAuthorizationException authError, 2: TNotFoundException notFound, 3: TInvocationException serverError),
    UUID createImage(1: Token userToken, 2: string imageName)
        throws (1: TAuthorizationException authError, 2: TInvocationException error),
    void updateImageBase(1: Token userToken, 2: UUID imageBaseId, 3: ImageBaseWrite image)
        throws (1: TAuthorizationException authError, 2: TNotFoundException notFound, 3: TInvocationException imgError),
    TransferInformation requestImageVersionUpload(1: Token userToken, 2: UUID imageBaseId, 3: i64 fileSize,
        4: list<binary> blockHashes, 5: binary machineDescription)
        throws (1: TTransferRejectedException rejection, 2: TAuthorizationException authError,
                3: TInvocationException ffff, 4: TNotFoundException sdf),
    void updateBlockHashes(1: Token uploadToken, 2: list<binary> blockHashes, 3: Token userToken)
        throws (1: TInvalidTokenException ex1),
    TransferStatus queryUploadStatus(1: Token uploadToken) throws (1: TInvalidTokenException ex1),
    void cancelUpload(1: Token uploadToken) throws (1: TInvalidTokenException ex1),
    TransferInformation requestDownload(1: Token userToken, 2: UUID imageVersionId)
        throws (1: TTransferRejectedException rejection, 2: TAuthorizationException authError,
                3: TInvocationException ffff, 4: TNotFoundException sdf),
    void cancelDownload(1: string downloadToken) throws (1: TInvalidTokenException ex1),
    void deleteImageVersion(1: Token userToken, 2: UUID imageVersionId)
        throws (1: TAuthorizationException authError, 2: TNotFoundException notFound, 3: TInvocationException imgError),
    void deleteImageBase(1: Token userToken, 2: UUID imageBaseId)
        throws (1: TAuthorizationException authError, 2: TNotFoundException notFound, 3: TInvocationException imgError),
}

service MasterServer {
    bool ping(),
    ClientSessionData localAccountLogin(1: string login, 2: string password)
        throws (1: TAuthorizationException failure, 2: TInvocationException error),
    UserInfo getUserFromToken(1: Token token) throws (1: TInvalidTokenException failure),
    void invalidateSession(1: Token sessionId) throws (1: TInvalidTokenException ex),
}
