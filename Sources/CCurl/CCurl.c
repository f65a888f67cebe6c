#include "CCurl.h"
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

CURLcode vice_curl_global_init(void) { return curl_global_init(CURL_GLOBAL_ALL); }

CURLcode vice_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode vice_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode vice_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode vice_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode vice_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode vice_curl_setopt_data_callback(CURL *handle, CURLoption option, vice_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

CURLcode vice_curl_setopt_progress_callback(CURL *handle, vice_curl_progress_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

CURLcode vice_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

size_t vice_curl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }

static vice_address_check address_check = 0;

void vice_curl_set_address_check(vice_address_check check) { address_check = check; }

/// Runs after name resolution, before the socket exists: the place where the address a name
/// resolved to (this time) is known, so DNS rebinding cannot slip past the check.
static curl_socket_t vice_open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *address) {
    (void)purpose;
    int allowed = 0;
    if (address_check == 0) {
        allowed = 0;
    } else if (address->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&address->addr;
        allowed = address_check(userdata, AF_INET, (const unsigned char *)&in->sin_addr, 4);
    } else if (address->family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address->addr;
        allowed = address_check(userdata, AF_INET6, (const unsigned char *)&in6->sin6_addr, 16);
    } else if (address->family == AF_UNIX) {
        allowed = address_check(userdata, AF_UNIX, 0, 0);
    }
    if (!allowed) return CURL_SOCKET_BAD;
    return socket(address->family, address->socktype, address->protocol);
}

CURLcode vice_curl_guard_sockets(CURL *handle, void *userdata) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, vice_open_socket);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, userdata);
}
